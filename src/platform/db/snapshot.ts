import fs from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Db } from './database.ts';

/** How long the copy waits for a lock another process holds (a checkpoint, a WAL reset). */
const BUSY_TIMEOUT_MS = 5_000;

/** A failure writing the copy, as the system's refusal it is (the CLI exits 1 and names the file), not as the database's. */
function targetError(target: string, err: unknown): Error {
  const { code, message } = err as { code?: unknown; message?: string };
  if (code === 'SQLITE_FULL') return Object.assign(new Error(`no space left writing ${target}`), { code: 'ENOSPC' });
  return Object.assign(new Error(`cannot write ${target}: ${message ?? String(err)}${typeof code === 'string' ? ` (${code})` : ''}`), { code: 'EIO' });
}

/**
 * Writes a consistent copy of the SQLite database `source` to the new file
 * `target` while other processes keep writing to it: one read transaction
 * (`VACUUM INTO`, on a read-only connection that changes nothing), so the copy
 * holds every commit made before it began and none after, and the writers
 * never wait for it. The copy is readable by the owner only, flushed to disk
 * and checked. Returns its size in bytes.
 */
export function snapshotSqlite(source: string, target: string): number {
  const from = new BetterSqlite3(source, { readonly: true, fileMustExist: true });
  try {
    from.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // VACUUM INTO accepts an empty file: made first, it has the owner-only mode.
    fs.closeSync(fs.openSync(target, 'wx', 0o600));
    try {
      from.prepare('vacuum into ?').run(target);
    } catch (err) {
      throw targetError(target, err);
    }
  } finally {
    from.close();
  }
  const fd = fs.openSync(target, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
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

/** A read-only connection to a SQLite file: it changes nothing, not even the journal mode. */
export function openSqliteReadOnly(file: string): Db {
  const database = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  database.defaultSafeIntegers(true);
  return new Kysely({ dialect: new SqliteDialect({ database }) });
}
