import { existsSync } from 'node:fs';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { openCore, type Core } from '../core.ts';

/**
 * A SQLite database the command expects to find: a mistyped data directory must
 * not get a new, empty database (where `ledger check` would find nothing wrong).
 */
export function requireExistingDatabase(config: Config): void {
  if (!config.databaseUrl.startsWith('sqlite:')) return;
  const file = config.databaseUrl.slice('sqlite:'.length);
  if (file !== ':memory:' && !existsSync(file)) {
    throw new ConfigError(`no database at ${file}: check PAGODA_DATA_DIR or PAGODA_DATABASE_URL (pagoda serve or pagoda migrate creates it)`);
  }
}

/**
 * Opens the database, runs one command, closes. Only a command that starts
 * from nothing (`create`: a first merchant) may create the SQLite database.
 */
export async function withCore<T>(fn: (core: Core) => Promise<T>, opts: { create?: boolean } = {}): Promise<T> {
  const config = loadConfig();
  if (!opts.create) requireExistingDatabase(config);
  const core = await openCore(config);
  try {
    return await fn(core);
  } finally {
    await core.db.destroy();
  }
}
