import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Db } from './database.ts';

/** How long the copy waits for a lock another process holds (a checkpoint, a WAL reset). */
const BUSY_TIMEOUT_MS = 5_000;

/** A system refusal with its errno code, so the CLI reports it as one (exit 1), not as a bug. */
function systemError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * Writes a consistent copy of the SQLite database `source` to `target` (which
 * must not exist) while other processes keep writing to it: one read
 * transaction (`VACUUM INTO`), so the copy holds every commit made before it
 * began and none after, and the writers never wait for it. The copy is written
 * under a temporary name, flushed, renamed into place and checked; readable by
 * the owner only, like the database. Returns its size in bytes.
 */
export function snapshotSqlite(source: string, target: string): number {
  const partial = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.partial`);
  // VACUUM INTO accepts an empty file: made first, it has the owner-only mode.
  fs.closeSync(fs.openSync(partial, 'wx', 0o600));
  try {
    const from = new BetterSqlite3(source, { readonly: true, fileMustExist: true });
    try {
      from.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      from.prepare('vacuum into ?').run(partial);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'SQLITE_FULL') throw systemError(`no space left writing ${target}`, 'ENOSPC');
      throw err;
    } finally {
      from.close();
    }
    const fd = fs.openSync(partial, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.linkSync(partial, target);
  } finally {
    fs.rmSync(partial, { force: true });
  }
  syncDirectory(path.dirname(target));
  const copy = new BetterSqlite3(target, { readonly: true, fileMustExist: true });
  try {
    const check = copy.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`the copy ${target} failed its check: ${String(check)}`);
  } finally {
    copy.close();
  }
  return fs.statSync(target).size;
}

/** A directory's entries reach the disk: a file renamed or linked into it survives a power loss. */
export function syncDirectory(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** A read-only connection to a SQLite file (a copy being checked): it changes nothing, not even the journal mode. */
export function openSqliteReadOnly(file: string): Db {
  const database = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  database.defaultSafeIntegers(true);
  return new Kysely({ dialect: new SqliteDialect({ database }) });
}
