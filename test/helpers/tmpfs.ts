import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Tmpfs {
  dir: string;
  /** Gives the file system more room (`mount -o remount`). */
  resize(size: string): void;
  unmount(): void;
}

/** A small tmpfs of its own, or undefined where this process may not mount one (root on Linux, as in CI). */
export function mountTmpfs(size: string): Tmpfs | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagoda-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    fs.rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return {
    dir,
    resize: (to) => execFileSync('mount', ['-o', `remount,size=${to}`, dir], { stdio: 'ignore' }),
    unmount: () => {
      execFileSync('umount', [dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
