/**
 * The data layer on the database of the run (SQLite, or PostgreSQL with
 * PAGODA_TEST_DB=postgres): int8 as exact bigint, idempotent migrations, and
 * SQLite's durability settings.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { dialectOf, inTransaction, openDatabase, preparedRead, type Db } from '../src/platform/db/database.ts';
import { sqlStatement } from '../src/platform/db/statement.ts';
import { migrateToLatest } from '../src/platform/db/migrate.ts';
import { createTestDatabase, type TestDatabase } from './helpers/db.ts';

const T = { timeout: 30_000 };
const ABOVE_2_53 = 9007199254740993n; // 2^53 + 1: a double would read it as …992
const INT8_MAX = 9223372036854775807n;
const INT8_MIN = -9223372036854775808n;

describe('database', () => {
  let tdb: TestDatabase;
  let db: Db;
  let firstRun: string[];
  before(async () => {
    tdb = await createTestDatabase();
    db = openDatabase(tdb.url);
    firstRun = await migrateToLatest(db);
  });
  after(async () => {
    await db?.destroy();
    await tdb?.drop();
  });

  it('the first migrateToLatest applies every migration; a second run is a no-op', T, async () => {
    assert.ok(firstRun.length > 0, 'a fresh database should get migrations');
    assert.ok(firstRun.includes('0001_foundation'), firstRun.join(', '));
    const before = await db.selectFrom('pagoda_migrations' as never).selectAll().execute();
    assert.deepEqual(await migrateToLatest(db), []);
    const afterRows = await db.selectFrom('pagoda_migrations' as never).selectAll().execute();
    assert.deepEqual(afterRows, before, 'the migrations table changed on a no-op run');
    assert.deepEqual(before.map((r) => (r as { name: string }).name).sort(), [...firstRun].sort());
    // And from a second connection (another process would see the same).
    const other = openDatabase(tdb.url);
    try {
      assert.deepEqual(await migrateToLatest(other), []);
    } finally {
      await other.destroy();
    }
  });

  it('an int8 column round-trips values above 2^53 exactly, as bigint', T, async () => {
    const values = [ABOVE_2_53, -ABOVE_2_53, INT8_MAX, INT8_MIN, 0n];
    for (const [i, value] of values.entries()) {
      await db.insertInto('signing_keys').values({ kid: `k${i}`, alg: 'HS256', key_enc: 'x', created_at: value, retired_at: null }).execute();
    }
    const rows = await db.selectFrom('signing_keys').select(['kid', 'created_at']).where('kid', 'in', values.map((_, i) => `k${i}`)).orderBy('kid').execute();
    assert.deepEqual(
      rows.map((r) => r.created_at),
      values,
    );
    for (const row of rows) assert.equal(typeof row.created_at, 'bigint');
    // Compared and computed in SQL, not in a double.
    const exact = await db.selectFrom('signing_keys').select('kid').where('created_at', '=', ABOVE_2_53).execute();
    assert.deepEqual(exact, [{ kid: 'k0' }]);
    const neighbour = await db.selectFrom('signing_keys').select('kid').where('created_at', '=', ABOVE_2_53 - 1n).execute();
    assert.deepEqual(neighbour, [], '2^53 + 1 and 2^53 must stay different values');
    const plusOne = await sql<{ v: bigint }>`select created_at + 1 as v from signing_keys where kid = 'k0'`.execute(db);
    assert.equal(plusOne.rows[0]?.v, ABOVE_2_53 + 1n);
  });

  it('PostgreSQL: a fixed hot-path statement is prepared once per connection and run by name; others are not', T, async (t) => {
    if (dialectOf(db) !== 'postgres') {
      t.skip('SQLite run');
      return;
    }
    const one = openDatabase(tdb.url, { poolSize: 1 });
    try {
      const byKid = sqlStatement<{ kid: string }>('select kid from signing_keys where kid = ?');
      for (let i = 0; i < 3; i++) assert.deepEqual(await byKid(one, ['k0']), [{ kid: 'k0' }]);
      const prepared = await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements`.execute(one);
      const mine = prepared.rows.filter((r) => r.statement === 'select kid from signing_keys where kid = $1');
      assert.equal(mine.length, 1, JSON.stringify(prepared.rows));
      assert.match(mine[0]!.name, /^pagoda_\d+$/);
      // A query built at run time stays unnamed.
      assert.ok(!prepared.rows.some((r) => r.statement.includes('pg_prepared_statements')));
      // The same text with other values, and an error, through the named statement.
      assert.deepEqual(await byKid(one, ['nope']), []);
      await assert.rejects(sqlStatement('select kid from signing_keys where created_at = ?')(one, ['not a number']), /invalid input syntax/);
    } finally {
      await one.destroy();
    }
  });

  it('PostgreSQL: a prepared statement keeps working after a migration adds a column to what it selects', T, async (t) => {
    if (dialectOf(db) !== 'postgres') {
      t.skip('SQLite run');
      return;
    }
    await sql`create table prep_probe (id text primary key)`.execute(db);
    await sql`insert into prep_probe (id) values ('a')`.execute(db);
    const one = openDatabase(tdb.url, { poolSize: 1 });
    try {
      const all = sqlStatement<Record<string, unknown>>('select * from prep_probe where id = ?');
      assert.deepEqual(await all(one, ['a']), [{ id: 'a' }]);
      await sql`alter table prep_probe add column note text`.execute(db);
      assert.deepEqual(await all(one, ['a']), [{ id: 'a', note: null }]);
      assert.deepEqual(await all(one, ['a']), [{ id: 'a', note: null }]);
    } finally {
      await one.destroy();
      await sql`drop table prep_probe`.execute(db);
    }
  });

  it('a nullable int8 column reads null as null, and counts read as bigint', T, async () => {
    const row = await db.selectFrom('signing_keys').select('retired_at').where('kid', '=', 'k0').executeTakeFirstOrThrow();
    assert.equal(row.retired_at, null);
    const count = await db.selectFrom('signing_keys').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    assert.equal(count.n, 5n);
  });

  it('SQLite: journal_mode is wal and synchronous is FULL (2)', T, async (t) => {
    if (dialectOf(db) !== 'sqlite') {
      t.skip('PostgreSQL run');
      return;
    }
    const journal = await sql<{ journal_mode: string }>`PRAGMA journal_mode`.execute(db);
    assert.equal(journal.rows[0]?.journal_mode, 'wal');
    const sync = await sql<{ synchronous: bigint | number }>`PRAGMA synchronous`.execute(db);
    assert.equal(Number(sync.rows[0]?.synchronous), 2);
    const fk = await sql<{ foreign_keys: bigint | number }>`PRAGMA foreign_keys`.execute(db);
    assert.equal(Number(fk.rows[0]?.foreign_keys), 1);
  });

  it('SQLite: a new database file and its WAL are readable by their owner only', T, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagoda-mode-'));
    try {
      const file = path.join(dir, 'new.db');
      const fresh = openDatabase(`sqlite:${file}`);
      await migrateToLatest(fresh);
      for (const f of [file, `${file}-wal`]) assert.equal(fs.statSync(f).mode & 0o777, 0o600, f);
      await fresh.destroy();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('SQLite: opening a new file while another process holds its write lock waits for the lock instead of failing', T, async (t) => {
    if (dialectOf(db) !== 'sqlite') {
      t.skip('PostgreSQL run');
      return;
    }
    // Processes started together on a new file: one switches it to WAL (a write) while the others want to.
    const fresh = await createTestDatabase('sqlite');
    const file = fresh.url.slice('sqlite:'.length);
    const holder = spawn(
      process.execPath,
      ['-e', `const db = new (require(${JSON.stringify(createRequire(import.meta.url).resolve('better-sqlite3'))}))(${JSON.stringify(file)}); db.exec('begin immediate'); console.log('locked'); setTimeout(() => db.exec('commit'), 300);`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      holder.stdout.once('data', () => resolve());
      holder.once('exit', (code) => reject(new Error(`the lock holder exited ${code}`)));
    });
    let opened: Db | undefined;
    try {
      opened = openDatabase(fresh.url);
      const journal = await sql<{ journal_mode: string }>`PRAGMA journal_mode`.execute(opened);
      assert.equal(journal.rows[0]?.journal_mode, 'wal');
    } finally {
      await exited;
      await opened?.destroy();
      await fresh.drop();
    }
  });

  it('a prepared read sees committed data only: never an open transaction, and a commit as soon as it is made', T, async () => {
    const read = preparedRead(db, db.selectFrom('signing_keys').select(['kid', 'created_at']).where('kid', '=', ''));
    const row = { kid: 'k_prepared_read', alg: 'HS256', key_enc: 'x', created_at: ABOVE_2_53, retired_at: null };
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    let inserted: () => void = () => undefined;
    const wasInserted = new Promise<void>((r) => (inserted = r));
    const tx = db.transaction().execute(async (t) => {
      await t.insertInto('signing_keys').values(row).execute();
      inserted();
      await held;
    });
    await wasInserted;
    assert.deepEqual(await read([row.kid]), [], 'the open transaction is invisible');
    release();
    await tx;
    assert.deepEqual(await read([row.kid]), [{ kid: row.kid, created_at: ABOVE_2_53 }], 'committed, and read as an exact bigint');
    await db.deleteFrom('signing_keys').where('kid', '=', row.kid).execute();
  });

  it('a prepared read made after a commit of this process sees it, though an earlier read of the same turn did not', T, async () => {
    const read = preparedRead(db, db.selectFrom('signing_keys').select('kid').where('kid', '=', ''));
    const key = (kid: string) => ({ kid, alg: 'HS256', key_enc: 'x', created_at: 1n, retired_at: null });
    // No macrotask between the steps below: on SQLite they all fall in one turn of the event loop.
    assert.deepEqual(await read(['k_turn_tx']), []);
    await db.transaction().execute((t) => t.insertInto('signing_keys').values(key('k_turn_tx')).execute());
    assert.deepEqual(await read(['k_turn_tx']), [{ kid: 'k_turn_tx' }], 'a transaction committed after the first read');
    await db.insertInto('signing_keys').values(key('k_turn_single')).execute();
    assert.deepEqual(await read(['k_turn_single']), [{ kid: 'k_turn_single' }], 'a write committed on its own');
    await inTransaction(db, (t) => t.deleteFrom('signing_keys').where('kid', 'in', ['k_turn_tx', 'k_turn_single']).execute());
    assert.deepEqual(await read(['k_turn_tx']), [], 'a delete, committed');
  });

  it('SQLite: a read snapshot opened in a setImmediate callback ends before the next I/O, so another process\'s commit is seen', T, async (t) => {
    if (dialectOf(db) !== 'sqlite') {
      t.skip('PostgreSQL run');
      return;
    }
    const read = preparedRead(db, db.selectFrom('signing_keys').select('kid').where('kid', '=', ''));
    // Another connection to the file stands for another process; a socket's bytes for a request.
    const other = new BetterSqlite3(tdb.url.slice('sqlite:'.length));
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    const socket = await accepted;
    try {
      const arrived = new Promise((resolve) => socket.once('data', resolve));
      await new Promise<void>((resolve, reject) =>
        setImmediate(() => {
          read(['k_other_process'])
            .then((rows) => {
              assert.deepEqual(rows, [], 'not written yet');
              other.prepare("insert into signing_keys (kid, alg, key_enc, created_at) values ('k_other_process', 'HS256', 'x', 1)").run();
              client.write('query');
              // The bytes are waiting when the loop next polls; the next turn's timers phase comes first, a millisecond on.
              const until = Date.now() + 3;
              while (Date.now() < until);
              resolve();
            })
            .catch(reject);
        }),
      );
      await arrived;
      assert.deepEqual(await read(['k_other_process']), [{ kid: 'k_other_process' }]);
    } finally {
      client.destroy();
      server.close();
      other.prepare("delete from signing_keys where kid = 'k_other_process'").run();
      other.close();
    }
  });

  it('a written-once statement: numbered placeholders on PostgreSQL, its own transaction\'s writes visible, a rollback undoes them', T, async () => {
    const insert = sqlStatement('insert into signing_keys (kid, alg, key_enc, created_at, retired_at) values (?, ?, ?, ?, ?)');
    const select = sqlStatement<{ kid: string; created_at: bigint }>('select kid, created_at from signing_keys where kid = ? and alg = ?');
    const kept = ['k_statement_kept', 'HS256', 'x', ABOVE_2_53, null];
    const undone = ['k_statement_undone', 'HS256', 'x', 1n, null];
    await inTransaction(db, async (tx) => {
      await insert(tx, kept);
      assert.deepEqual(await select(tx, ['k_statement_kept', 'HS256']), [{ kid: 'k_statement_kept', created_at: ABOVE_2_53 }]);
    });
    const failure = inTransaction(db, async (tx) => {
      await insert(tx, undone);
      assert.equal((await select(tx, ['k_statement_undone', 'HS256'])).length, 1);
      throw new Error('roll back');
    });
    await assert.rejects(failure, /roll back/);
    // Outside a transaction it runs through the query executor, on either database.
    assert.deepEqual(await select(db, ['k_statement_kept', 'HS256']), [{ kid: 'k_statement_kept', created_at: ABOVE_2_53 }]);
    assert.deepEqual(await select(db, ['k_statement_undone', 'HS256']), [], 'the rolled back insert is gone');
    await assert.rejects(insert(db, kept), /unique|UNIQUE|duplicate/, 'a failing statement rejects');
    await db.deleteFrom('signing_keys').where('kid', '=', 'k_statement_kept').execute();
  });
});
