import { CommanderError } from 'commander';
import { ConfigError } from '../config.ts';
import { databaseUnavailable } from '../platform/db/unavailable.ts';
import { AppError } from '../platform/errors.ts';

/**
 * How a command that failed ends: its exit code and the line it prints, so that
 * a script can tell "the ledger is wrong" from "the check could not run".
 * 0 done; 1 what a check found (`ledger check`) or what the system refused (a
 * port taken); 2 a refused command (usage, a bad value); 3 the database could
 * not be used; 70 anything else (a bug: its stack follows), never 1, which a
 * monitor of `ledger check` reads as a broken ledger.
 */
export const EXIT_FOUND = 1;
export const EXIT_REFUSED = 2;
export const EXIT_DATABASE = 3;
export const EXIT_INTERNAL = 70;

/**
 * A SQLite file that cannot be opened as a database: the CLI's own case of "the
 * database could not be used"; the others (unreachable, refused, locked) are
 * databaseUnavailable's, as for the API.
 */
const SQLITE_UNUSABLE = new Set(['SQLITE_CANTOPEN', 'SQLITE_READONLY', 'SQLITE_NOTADB']);

/** What the system refused (a port taken, a path that cannot be made, read or written): its own message names what. */
const SYSTEM_REFUSALS = new Set(['EADDRINUSE', 'EADDRNOTAVAIL', 'EACCES', 'EPERM', 'ENOENT', 'ENOTDIR', 'EISDIR', 'EROFS', 'ENOSPC', 'EDQUOT', 'ENAMETOOLONG', 'EIO']);

/**
 * SQLSTATE classes of a PostgreSQL server refusing what its setup does not allow, not a wrong
 * statement: a read-only transaction (25), a missing grant (42501), a missing schema (3F000), no
 * resources (53: disk, memory), an object in the wrong state (55), the operator's intervention (57),
 * a system error (58). A wrong statement (a constraint, a syntax) stays an internal error.
 */
const SETUP_SQLSTATE = /^(?:25[0-9A-Z]{3}|42501|3F000|5[3578][0-9A-Z]{3})$/;

/** A PostgreSQL server's error carries a SQLSTATE and a severity. */
function isSetupRefusal(err: unknown): boolean {
  const { code, severity } = err as { code?: unknown; severity?: unknown };
  return typeof severity === 'string' && typeof code === 'string' && SETUP_SQLSTATE.test(code);
}

/** The exit of a failed command; `line` is what it prints (without `pagoda: `), null when Commander already has. */
export function exitFor(err: unknown): { code: number; line: string | null } {
  if (err instanceof CommanderError) return { code: err.exitCode === 0 ? 0 : EXIT_REFUSED, line: null };
  if (err instanceof AppError) return { code: EXIT_REFUSED, line: err.detail ?? err.message };
  if (err instanceof ConfigError) return { code: EXIT_REFUSED, line: err.message };
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  const message = err instanceof Error ? err.message : String(err);
  if ((typeof code === 'string' && SQLITE_UNUSABLE.has(code)) || databaseUnavailable(err) || isSetupRefusal(err)) {
    return { code: EXIT_DATABASE, line: `cannot use the database${typeof code === 'string' ? ` (${code})` : ''}: ${message || 'connection failed'}` };
  }
  if (typeof code === 'string' && SYSTEM_REFUSALS.has(code)) return { code: EXIT_FOUND, line: `${message} (${code})` };
  return { code: EXIT_INTERNAL, line: `internal error: ${err instanceof Error ? (err.stack ?? message) : message}` };
}
