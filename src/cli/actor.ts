import os from 'node:os';

/** Who runs a CLI command, for the audit log. */
export function cliActor(): string {
  try {
    return `cli:${os.userInfo().username}`;
  } catch {
    return 'cli:unknown';
  }
}
