/**
 * Whether an error says the database cannot serve right now, rather than that a
 * statement was wrong: the server is unreachable, restarting or refusing
 * connections, the connection dropped or its TLS failed, a statement timed out
 * or lost to a concurrent one, the disk is full, or (SQLite) another process
 * holds the write lock. Such a request answers 503 "not ready",
 * which a merchant retries (creates are idempotent on merOrderNo); a bug stays
 * a 500. Returns the envelope's detail, or undefined.
 */

/** Node's socket and name-resolution failures. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * PostgreSQL SQLSTATEs: class 08 (connection exception), 28 (the server refuses
 * the gateway's credentials), 3D000 (the database is gone), 53300 (too many
 * connections), 57P01–57P03 (shutdown, crash, not accepting connections yet).
 */
const PG_CODE = /^(?:08...|28...|3D000|53300|57P0[123])$/;

/**
 * SQLSTATEs of a statement the server gave up on, not a wrong one: it was cancelled
 * (57014, a `statement_timeout`), waited too long for a lock (55P03, `lock_timeout`),
 * or lost to a concurrent one (40001, 40P01). The same request may succeed again.
 */
const PG_BUSY_CODE = /^(?:57014|55P03|40001|40P01)$/;

/** SQLSTATEs of a server short of a resource for a moment: disk full (53100), out of memory (53200). */
const PG_SHORTAGES: Readonly<Record<string, string>> = {
  '53100': 'database cannot write (disk full)',
  '53200': 'database out of memory',
};

/** The TLS handshake with the database failed: its certificate is not trusted for this URL, or it speaks no TLS. */
const TLS_CODE = /^(?:DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(?:_LOCALLY)?|CERT_(?:HAS_EXPIRED|NOT_YET_VALID|UNTRUSTED|REJECTED|SIGNATURE_FAILURE)|ERR_TLS_.+|ERR_SSL_.+)$/;

/** node-postgres and its pool say a connection ended or could not be had in words, without a code. */
const PG_MESSAGES = [
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'timeout exceeded when trying to connect',
  'The server does not support SSL connections',
];

const SQLITE_DETAILS: Readonly<Record<string, string>> = {
  SQLITE_BUSY: 'database busy (another process holds its write lock)',
  SQLITE_LOCKED: 'database busy (another process holds its write lock)',
  SQLITE_FULL: 'database cannot write (disk full)',
};

export function databaseUnavailable(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  // A host name with several addresses fails with every address's error.
  if (err instanceof AggregateError) return err.errors.map(databaseUnavailable).find((d) => d !== undefined);
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || PG_CODE.test(code) || TLS_CODE.test(code)) return 'database unreachable';
    if (PG_BUSY_CODE.test(code)) return 'database busy (a statement timed out or met a conflicting one)';
    if (PG_SHORTAGES[code]) return PG_SHORTAGES[code];
    // better-sqlite3 extends the primary code: SQLITE_BUSY_SNAPSHOT, SQLITE_BUSY_TIMEOUT, …
    const sqlite = SQLITE_DETAILS[code.replace(/^(SQLITE_[A-Z]+)_.*$/, '$1')];
    if (sqlite) return sqlite;
  }
  if (typeof message === 'string' && PG_MESSAGES.some((m) => message.startsWith(m))) return 'database unreachable';
  return undefined;
}
