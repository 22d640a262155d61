import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import {
  CompiledQuery,
  Kysely,
  PostgresAdapter,
  PostgresDialect,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type QueryResult,
  type Driver,
  type SqliteDatabase,
  type SqliteDialectConfig,
  type SqliteStatement,
  type Transaction,
  type Compilable,
} from 'kysely';
import { AppError } from '../errors.ts';
import { makeDirectories } from '../files.ts';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
export type DialectName = 'sqlite' | 'postgres';

/**
 * Every transaction on SQLite starts IMMEDIATE: it takes the write lock up front,
 * so two processes never deadlock upgrading a read lock (SQLITE_BUSY without
 * waiting); they queue instead.
 *
 * SQLite's own wait for a lock (busy_timeout) sleeps inside the call, and
 * better-sqlite3 calls are synchronous: a lock held by another process would
 * stop the event loop, health checks included. So SQLite waits only briefly
 * inside a call, and a statement that still finds the lock taken, outside a
 * transaction (a BEGIN, or a statement on its own: either did nothing), is
 * tried again after a pause, the event loop free meanwhile. Once the lock has
 * been out of reach for the whole wait, every statement that finds it taken
 * fails at once with SQLITE_BUSY (503) until one gets through, or until none
 * has met the lock for a second (only reads ran): the next wait starts afresh.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  readonly #patience: SqlitePatience;
  #patient: DatabaseConnection | undefined;
  /** Since when statements have found the write lock taken; undefined once one got through. */
  #busySince: number | undefined;
  /** When a statement last found it taken. */
  #busyLast = 0;

  constructor(config: SqliteDialectConfig, patience: SqlitePatience) {
    super(config);
    this.#patience = patience;
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await super.acquireConnection();
    this.#patient ??= {
      executeQuery: (query) => this.#execute(connection, query),
      streamQuery: (query, chunkSize) => connection.streamQuery(query, chunkSize),
    };
    return this.#patient;
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  // SQLite ends the whole transaction by itself on some errors (SQLITE_FULL,
  // SQLITE_IOERR): a ROLLBACK then fails, and its error would hide the real one.
  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (this.#patience.inTransaction()) await super.rollbackTransaction(connection);
  }

  async #execute<R>(connection: DatabaseConnection, query: CompiledQuery): Promise<QueryResult<R>> {
    let waited = false;
    for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
      try {
        const result = await connection.executeQuery<R>(query);
        // A read gets through whoever holds the write lock (WAL), the readiness probe's `select 1`
        // included: only a statement that took the lock, or one that waited for it, says it was free.
        if (waited || TAKES_WRITE_LOCK.test(query.sql)) this.#busySince = undefined;
        return result;
      } catch (error) {
        if (!isBusy(error) || this.#patience.inTransaction()) throw error;
        waited = true;
        const now = Date.now();
        // Nothing met the lock for a while (only reads ran, which get through it): this is a new wait.
        if (this.#busySince === undefined || now - this.#busyLast > LOCK_EPISODE_GAP_MS) this.#busySince = now;
        this.#busyLast = now;
        if (now - this.#busySince >= LOCK_WAIT_MS) throw error;
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }
}

/** Statements that cannot succeed without the write lock: a transaction's BEGIN IMMEDIATE, or a write on its own. */
const TAKES_WRITE_LOCK = /^\s*(?:begin\s+immediate|insert|update|delete|replace)\b/i;

interface SqlitePatience {
  /** Whether the write connection is inside a transaction (where a statement cannot be tried again alone). */
  inTransaction: () => boolean;
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  readonly #patience: SqlitePatience;
  constructor(config: SqliteDialectConfig, patience: SqlitePatience) {
    super(config);
    this.#config = config;
    this.#patience = patience;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config, this.#patience);
  }
  // SQLite DDL is transactional; saying so makes the migrator run all pending
  // migrations in one IMMEDIATE transaction, so concurrent starts serialize.
  override createAdapter(): SqliteAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

let pgParsersSet = false;
function setPgParsers(): void {
  if (pgParsersSet) return;
  // int8 → bigint: money and times are int8 and must never pass through a float.
  pg.types.setTypeParser(20, (v: string) => BigInt(v));
  pgParsersSet = true;
}

export function dialectOf(db: Kysely<Database>): DialectName {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

export interface OpenOptions {
  /** PostgreSQL pool size. */
  poolSize?: number;
}

const STATEMENT_CACHE_SIZE = 500;
/** Page cache per connection (SQLite's default is 2 MiB): an order insert touches four indexes. */
const CACHE_KIB = 64 * 1024;

/**
 * Kysely prepares every query afresh; compiling SQL is most of a simple
 * query's cost in better-sqlite3. The connection is used by one query at a time
 * (no streaming), so a prepared statement can be reused. `committed` is called
 * after every statement that leaves the connection outside a transaction: a
 * COMMIT, or a statement run on its own (which commits by itself).
 */
function withStatementCache(database: BetterSqlite3.Database, committed: () => void, alsoClose: () => void): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  const after = <T>(result: T): T => {
    if (!database.inTransaction) committed();
    return result;
  };
  return {
    close: () => {
      alsoClose();
      database.close();
    },
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (!statement) {
        const prepared = database.prepare(sql);
        statement = {
          reader: prepared.reader,
          all: (parameters) => after(prepared.all(parameters)),
          run: (parameters) => after(prepared.run(parameters)) as ReturnType<SqliteStatement['run']>,
          iterate: (parameters) => prepared.iterate(parameters) as IterableIterator<unknown>,
        };
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

/** SQLite: the write connection (through its statement cache) of each database. */
const writers = new WeakMap<Db, SqliteDatabase>();
/** SQLite transactions in progress: their handle → the connection they hold. */
const heldConnections = new WeakMap<Db, SqliteDatabase>();

/**
 * Runs `fn` in a transaction on `db`. While it runs on SQLite, its handle
 * holds the connection, so statement.ts can run statements on it directly.
 */
export function inTransaction<T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  const writer = writers.get(db);
  if (!writer) return db.transaction().execute(fn);
  return db.transaction().execute(async (tx) => {
    heldConnections.set(tx, writer);
    try {
      return await fn(tx);
    } finally {
      heldConnections.delete(tx);
    }
  });
}

/** The SQLite connection a transaction of inTransaction holds; undefined for anything else. */
export function heldConnection(db: Db): SqliteDatabase | undefined {
  return heldConnections.get(db);
}

/** How long a SQLite connection waits for another's lock before SQLITE_BUSY: opening, and reading. */
const BUSY_TIMEOUT_MS = 10_000;
/** How long the write connection waits inside one call (the event loop stopped meanwhile). */
const WRITER_BUSY_TIMEOUT_MS = 20;
/** How long writes keep trying, the event loop free, before they fail (503). */
const LOCK_WAIT_MS = 5_000;
/**
 * Writes that find the lock taken within this long of the last one that did
 * continue its wait (once it has run out, they fail at once); after a longer
 * quiet, a write that finds it taken waits afresh.
 */
const LOCK_EPISODE_GAP_MS = 1_000;

/**
 * Switches the file to WAL, waiting for other processes doing the same. On a
 * new file the switch upgrades a read lock to a write lock, and SQLite answers
 * SQLITE_BUSY at once there (no busy_timeout: waiting could deadlock), so
 * processes started together would fail; the one that lost retries instead.
 */
function enterWal(database: BetterSqlite3.Database): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
    try {
      database.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw error;
      Atomics.wait(pause, 0, 0, wait);
    }
  }
}

/** SQLite: a read-only connection per database, for prepared reads, and its per-turn snapshot. */
const readers = new WeakMap<Db, { reader: BetterSqlite3.Database; snapshot: () => void }>();

export function openSqlite(file: string): Db {
  if (file !== ':memory:') {
    makeDirectories(path.dirname(file));
    // A new database is the owner's alone (it holds every order); SQLite gives its WAL the same mode.
    fs.closeSync(fs.openSync(file, 'a', 0o600));
  }
  const database = new BetterSqlite3(file);
  database.defaultSafeIntegers(true);
  const opened = file === ':memory:' ? undefined : fs.statSync(file);
  database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  enterWal(database);
  database.pragma(`busy_timeout = ${WRITER_BUSY_TIMEOUT_MS}`);
  // FULL: a commit survives power loss, not only a process crash.
  database.pragma('synchronous = FULL');
  database.pragma('foreign_keys = ON');
  database.pragma(`cache_size = ${-CACHE_KIB}`);
  // A second connection sees only committed data: never the open transaction of the first.
  const reader = file === ':memory:' ? undefined : new BetterSqlite3(file, { readonly: true });
  reader?.defaultSafeIntegers(true);
  reader?.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  reader?.pragma(`cache_size = ${-CACHE_KIB}`);
  // Commits made through this connection: a read must never see a state older than the last of them.
  let commits = 0;
  const writer = withStatementCache(database, () => commits++, () => reader?.close());
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: writer }, { inTransaction: () => database.inTransaction }) });
  writers.set(db, writer);
  if (opened) openedFiles.set(db, { file, dev: opened.dev, ino: opened.ino });
  if (reader) readers.set(db, { reader, snapshot: turnSnapshots(reader, () => commits) });
  return db;
}

/**
 * Reads made in one turn of the event loop share one read transaction: the
 * locks are taken once, not per statement. A snapshot ends with the turn, and
 * sooner when this process commits (`commits` counts its commits), so a read
 * always sees what this process committed before it. Another process's commit
 * is seen once the snapshot ends. setImmediate ends a snapshot opened while
 * polling for I/O before the next poll; one opened in a check phase (in a
 * setImmediate callback, where the transactor commits) would live on through
 * the next poll, so a timer ends it first, in the next turn's timers phase
 * once a millisecond has passed: a request answered after another process's
 * commit (a merchant querying an order it was just notified of) sees it.
 */
function turnSnapshots(reader: BetterSqlite3.Database, commits: () => number): () => void {
  const begin = reader.prepare('begin');
  const commit = reader.prepare('commit');
  let open = false;
  let seen = 0;
  const end = (): void => {
    open = false;
    if (reader.open && reader.inTransaction) commit.run();
  };
  return () => {
    if (open && seen === commits()) return;
    if (open) end();
    else {
      setImmediate(end);
      setTimeout(end, 0).unref();
    }
    begin.run();
    open = true;
    seen = commits();
  };
}

export type PreparedRead<R> = (parameters: readonly unknown[]) => Promise<R[]>;

const namedReads = new WeakMap<Db, Map<string, PreparedRead<unknown>>>();

/**
 * The prepared read of `name` on this database, built on first use. `build`
 * must give the same SQL every time; parameters are passed in the order the
 * built query has them.
 */
export function committedRead<R>(db: Db, name: string, build: (db: Db) => Compilable<R>): PreparedRead<R> {
  let reads = namedReads.get(db);
  if (!reads) namedReads.set(db, (reads = new Map()));
  let read = reads.get(name);
  if (!read) reads.set(name, (read = preparedRead(db, build(db)) as PreparedRead<unknown>));
  return read as PreparedRead<R>;
}

/**
 * A hot read compiled once: built with Kysely from sample parameters, then run
 * with new parameters in the same order. On SQLite it runs synchronously on the
 * read-only connection, so it sees committed data only (never a transaction in
 * progress, which would be the case on the shared connection) and skips
 * Kysely's per-query work. On PostgreSQL the compiled SQL runs on the pool.
 * Only for reads outside transactions: a transaction must read its own writes.
 */
export function preparedRead<R>(db: Db, query: Compilable<R>): PreparedRead<R> {
  const compiled = query.compile();
  const sqlite = readers.get(db);
  if (sqlite) {
    const statement = sqlite.reader.prepare(compiled.sql);
    return (parameters) => {
      try {
        sqlite.snapshot();
        return Promise.resolve(statement.all(...parameters) as R[]);
      } catch (err) {
        return Promise.reject(err);
      }
    };
  }
  preparePg(compiled.sql);
  return async (parameters) => (await db.executeQuery<R>(CompiledQuery.raw(compiled.sql, [...parameters]))).rows;
}

/** PostgreSQL statement texts run as named prepared statements, with their names. */
const preparedNames = new Map<string, string>();

/**
 * Marks a PostgreSQL statement text (a hot path's, fixed) to be prepared once
 * per connection and then run by name: PostgreSQL parses it once per
 * connection instead of at every call, and may keep its plan.
 */
export function preparePg(text: string): void {
  if (!preparedNames.has(text)) preparedNames.set(text, `pagoda_${preparedNames.size + 1}`);
}

/**
 * A pool client's query runs the texts marked by preparePg by name; anything
 * else as before. When a migration has changed the row type a prepared
 * statement returns (a column added to a table it selects `*` from),
 * PostgreSQL refuses to run it again; the text then gets a new name, so every
 * connection prepares it anew, and the call is retried once (in a transaction
 * the error has already failed the transaction, so that call fails).
 */
function runPreparedByName(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const [text, values] = args;
    const name = args.length <= 2 && typeof text === 'string' ? preparedNames.get(text) : undefined;
    if (!name) return query(...args);
    return (query({ name, text, values }) as Promise<unknown>).catch((err: unknown) => {
      if (!isStalePlan(err)) throw err;
      return query({ name: renamePrepared(text as string, name), text, values });
    });
  };
}

let renames = 0;

/** A new name for a prepared text whose plan went stale (once, however many connections find out). */
function renamePrepared(text: string, stale: string): string {
  if (preparedNames.get(text) === stale) preparedNames.set(text, `pagoda_r${++renames}`);
  return preparedNames.get(text)!;
}

function isStalePlan(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e?.code === '0A000' && typeof e.message === 'string' && e.message.includes('cached plan must not change result type');
}

export function openPostgres(url: string, opts: OpenOptions = {}): Db {
  setPgParsers();
  const pool = new pg.Pool({ connectionString: url, max: opts.poolSize ?? 10, connectionTimeoutMillis: 5000 });
  // A client that loses its server must not crash the process. The pool listens
  // only while a client is idle; a client checked out for a query emits 'error'
  // too when its connection drops (terminated backend, server restart), with no
  // listener of the pool's. Its query fails on its own, which the caller sees.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
    runPreparedByName(client);
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

export function openDatabase(url: string, opts: OpenOptions = {}): Db {
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length));
  return openPostgres(url, opts);
}

/** SQLite: the file each database was opened from, as it was then. */
const openedFiles = new WeakMap<Db, { file: string; dev: number; ino: number }>();

/**
 * A cheap round trip, for readiness. On SQLite also that the file is still the
 * one opened: a database file deleted or replaced under a running process takes
 * its writes into a file nobody will open again.
 */
export async function ping(db: Db): Promise<void> {
  await db.executeQuery(CompiledQuery.raw('select 1'));
  const opened = openedFiles.get(db);
  if (!opened) return;
  const now = fs.statSync(opened.file, { throwIfNoEntry: false });
  if (now?.dev !== opened.dev || now.ino !== opened.ino) {
    // Readiness is public: the answer names no path (the operator knows the data directory).
    throw new AppError('NOT_READY', `the database file was ${now ? 'replaced' : 'removed'} while in use; restart the process`, 'not ready');
  }
}
