/**
 * A database that cannot serve: requests answer 503 "not ready" in the envelope
 * (merchant-api.md section 6), the process stays up and answers its health
 * checks, and it serves again by itself once the database is back.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { CompiledQuery, sql } from 'kysely';
import { inTransaction, openDatabase } from '../src/platform/db/database.ts';
import { migrateToLatest } from '../src/platform/db/migrate.ts';
import { databaseUnavailable } from '../src/platform/db/unavailable.ts';
import { createTestDatabase, PG_ADMIN_URL, TEST_DB, type TestDatabase } from './helpers/db.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { bearer, countOrders, createV3, payinBody } from './helpers/payins.ts';
import { mountTmpfs } from './helpers/tmpfs.ts';

const T = { timeout: 60_000 };
const BALANCE = '/api/v3/merchant/balance';

describe('SQLite: another process holding the write lock', { skip: TEST_DB === 'sqlite' ? false : 'PostgreSQL run' }, () => {
  let tdb: TestDatabase;
  let gw: TestGateway;
  let token: string;
  let other: BetterSqlite3.Database;
  before(async () => {
    tdb = await createTestDatabase('sqlite');
    gw = await startGateway({}, { db: tdb });
    token = await gw.token(await gw.merchant());
    other = new BetterSqlite3(tdb.url.slice('sqlite:'.length));
  });
  after(async () => {
    if (other.inTransaction) other.exec('rollback');
    other.close();
    await gw.close();
    await tdb.drop();
  });

  it('a write waits for the lock without stopping the event loop, and goes through once it is released', T, async () => {
    other.exec('begin immediate');
    const body = payinBody();
    let created = false;
    const pending = createV3(gw, token, body).then((res) => ((created = true), res));
    await new Promise((resolve) => setTimeout(resolve, 300));
    // SQLite's own wait would hold the event loop inside the call: nothing else would be answered.
    const health = await gw.call('GET', '/healthz');
    assert.equal(health.status, 200);
    assert.equal(created, false, 'the create cannot have committed while the lock is held');
    other.exec('commit');
    const res = await pending;
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.data.merOrderNo, body.merOrderNo);
  });

  it('a lock held past the wait answers 503 "database busy" and creates nothing; the retry succeeds', T, async () => {
    const before = await countOrders(gw);
    other.exec('begin immediate');
    const body = payinBody();
    let res;
    try {
      res = await createV3(gw, token, body);
    } finally {
      other.exec('commit');
    }
    assert.equal(res.status, 503, res.text);
    assert.deepEqual(res.json, { code: 503, msg: 'not ready', error: 'database busy (another process holds its write lock)' });
    assert.equal(await countOrders(gw), before);
    assert.ok(gw.logs.some((l) => l.includes('"request failed"') && l.includes('database is locked')), 'the driver’s words are in the log');
    const retry = await createV3(gw, token, body);
    assert.equal(retry.status, 200, retry.text);
    assert.equal(await countOrders(gw), before + 1);
  });

  it('once the lock has been out of reach for the whole wait, later writes fail at once, reads between them notwithstanding', T, async () => {
    other.exec('begin immediate');
    try {
      const first = await createV3(gw, token, payinBody());
      assert.equal(first.status, 503, first.text);
      // A read gets through the lock (WAL); it says nothing about the lock, and must not restart the wait.
      assert.equal((await gw.call('GET', BALANCE, { headers: bearer(token) })).status, 200);
      await gw.core.db.selectFrom('merchants').select('id').execute();
      // So does the readiness probe (raw SQL on the write connection), which a load balancer calls every few seconds.
      assert.equal((await gw.call('GET', '/readyz')).status, 200);
      await sql`select count(*) from orders`.execute(gw.core.db);
      const sent = Date.now();
      const second = await createV3(gw, token, payinBody());
      assert.equal(second.status, 503, second.text);
      assert.ok(Date.now() - sent < 2_500, `the second write waited ${Date.now() - sent} ms: a fresh 5 s wait`);
    } finally {
      other.exec('commit');
    }
    assert.equal((await createV3(gw, token, payinBody())).status, 200, 'the lock released, writes go through');
  });

  it('a wait that ran out does not make a later, short lock fail at once: after a quiet second, a write waits afresh', T, async () => {
    other.exec('begin immediate');
    try {
      assert.equal((await createV3(gw, token, payinBody())).status, 503);
    } finally {
      other.exec('commit');
    }
    // Only reads for a while (an API-only process has no background writes), then another process locks for a moment.
    for (let i = 0; i < 6; i++) {
      assert.equal((await gw.call('GET', '/readyz')).status, 200);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    other.exec('begin immediate');
    const release = setTimeout(() => other.exec('commit'), 1_500);
    try {
      const sent = Date.now();
      const res = await createV3(gw, token, payinBody());
      assert.equal(res.status, 200, `${res.text} after ${Date.now() - sent} ms`);
      assert.ok(Date.now() - sent >= 1_000, 'it waited for the lock');
    } finally {
      clearTimeout(release);
      if (other.inTransaction) other.exec('commit');
    }
  });

  it('a command with no migration pending does not need the write lock (a read-only command runs while another process holds it)', T, async () => {
    other.exec('begin immediate');
    const second = openDatabase(tdb.url);
    try {
      assert.deepEqual(await migrateToLatest(second), []);
    } finally {
      other.exec('commit');
      await second.destroy();
    }
  });

  it('a full disk answers 503 "disk full" and creates nothing; the log has SQLite\'s own words', T, async () => {
    const db = gw.core.db;
    const pages = Number((await sql<{ page_count: bigint }>`pragma page_count`.execute(db)).rows[0]!.page_count);
    // The file may not grow, and a filler takes the room left in it: to SQLite the disk is full (SQLITE_FULL).
    await sql.raw(`pragma max_page_count = ${pages}`).execute(db);
    await sql`create table filler (x blob)`.execute(db);
    await assert.rejects(async () => {
      for (let i = 0; i < 10_000; i++) await sql`insert into filler values (zeroblob(1000))`.execute(db);
    }, /database or disk is full/);
    const before = await countOrders(gw);
    let res;
    try {
      // A large order (50 members of 256 characters in extra) needs pages of its own, not the slack of a page.
      const large = () => payinBody({ attach: 'a'.repeat(512), extra: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v'.repeat(256)])) });
      res = await Promise.all([createV3(gw, token, large()), createV3(gw, token, large())]);
    } finally {
      await sql.raw('pragma max_page_count = 1073741823').execute(db);
      await sql`drop table filler`.execute(db);
    }
    for (const r of res) assert.deepEqual([r.status, r.json], [503, { code: 503, msg: 'not ready', error: 'database cannot write (disk full)' }], r.text);
    assert.equal(await countOrders(gw), before);
    assert.ok(!gw.logs.some((l) => l.includes('cannot rollback')), 'the real cause is not hidden by a failed ROLLBACK');
    assert.ok(gw.logs.some((l) => l.includes('database or disk is full')));
    const retry = await createV3(gw, token, payinBody());
    assert.equal(retry.status, 200, retry.text);
  });

  it('a database file removed or replaced under the running process makes /readyz answer 503, saying so', T, async () => {
    const file = tdb.url.slice('sqlite:'.length);
    assert.equal((await gw.call('GET', '/readyz')).status, 200);
    fs.renameSync(file, `${file}.away`);
    try {
      const gone = await gw.call('GET', '/readyz');
      assert.equal(gone.status, 503);
      assert.equal(gone.json.error, 'the database file was removed while in use; restart the process', 'and names no path: readiness is public');
      fs.copyFileSync(`${file}.away`, file);
      assert.match((await gw.call('GET', '/readyz')).json.error, /was replaced while in use/);
      fs.rmSync(file);
    } finally {
      fs.renameSync(`${file}.away`, file);
    }
    assert.equal((await gw.call('GET', '/readyz')).status, 200, 'the same file back in place');
  });
});

describe('PostgreSQL: connections lost and a database out of reach', { skip: TEST_DB === 'postgres' ? false : 'SQLite run' }, () => {
  let tdb: TestDatabase;
  let gw: TestGateway;
  let token: string;
  const name = () => new URL(tdb.url).pathname.slice(1);
  const admin = async (text: string, values: unknown[] = []) => {
    const client = new pg.Client({ connectionString: PG_ADMIN_URL });
    await client.connect();
    try {
      return (await client.query(text, values)).rows;
    } finally {
      await client.end();
    }
  };
  before(async () => {
    tdb = await createTestDatabase('postgres');
    gw = await startGateway({}, { db: tdb });
    token = await gw.token(await gw.merchant());
  });
  after(async () => {
    await gw.close();
    await tdb.drop();
  });

  it('a connection terminated in the middle of a transaction fails that transaction only; the process and the pool carry on', T, async (t) => {
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    t.after(() => process.off('uncaughtException', onUncaught));
    const marker = `pg_sleep_marker_${Date.now()}`;
    // In a transaction: the client stays checked out (for the ROLLBACK) while its connection ends.
    const sleeping = inTransaction(gw.core.db, (tx) => tx.executeQuery(CompiledQuery.raw(`select pg_sleep(20) as ${marker}`))).then(
      () => assert.fail('the terminated query cannot succeed'),
      (e: unknown) => e,
    );
    let pid: number | undefined;
    for (let i = 0; i < 100 && pid === undefined; i++) {
      const rows = await admin('select pid from pg_stat_activity where datname = $1 and query like $2 and pid <> pg_backend_pid()', [name(), `%${marker}%`]);
      pid = rows[0]?.pid;
      if (pid === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(pid, 'the query reached the server');
    await admin('select pg_terminate_backend($1)', [pid]);
    // Without a listener on the checked-out client, its 'error' event would end this process here.
    const err = await sleeping;
    assert.equal(databaseUnavailable(err), 'database unreachable', String(err));
    // The connection's end comes after the query's error.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(uncaught.map(String), []);
    const balance = await gw.call('GET', BALANCE, { headers: bearer(token) });
    assert.equal(balance.status, 200, balance.text);
  });

  it('while the database is out of reach, the API answers 503 and /healthz stays up; it serves again once it is back', T, async () => {
    const away = `${name()}_away`;
    // Nobody may connect while it is renamed: the gateway's connections are ended first.
    await admin(`alter database ${name()} allow_connections false`);
    await admin('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name()]);
    await admin(`alter database ${name()} rename to ${away}`);
    try {
      const res = await gw.call('GET', BALANCE, { headers: bearer(token) });
      assert.equal(res.status, 503, res.text);
      assert.deepEqual(res.json, { code: 503, msg: 'not ready', error: 'database unreachable' });
      const create = await createV3(gw, token, payinBody());
      assert.equal(create.status, 503, create.text);
      assert.equal((await gw.call('GET', '/healthz')).status, 200);
      assert.equal((await gw.call('GET', '/readyz')).status, 503);
      assert.ok(!gw.logs.some((l) => l.includes('"unhandled error"')), 'an outage is not logged as a bug');
    } finally {
      await admin(`alter database ${away} rename to ${name()}`);
      await admin(`alter database ${name()} allow_connections true`);
    }
    const back = await gw.call('GET', BALANCE, { headers: bearer(token) });
    assert.equal(back.status, 200, back.text);
  });
  // The orders table in a tablespace on a small tmpfs: PostgreSQL cannot extend its file (53100).
  const local = ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(PG_ADMIN_URL).hostname);
  it('a full disk answers 503 "disk full" and creates nothing; with room again it serves', { ...T, skip: !(local && process.getuid?.() === 0) && 'needs root (to mount a tmpfs) and the PostgreSQL server on this machine' }, async (t) => {
    const tmpfs = mountTmpfs('1m');
    if (!tmpfs) return t.skip('a tmpfs could not be mounted here');
    const ts = `${name()}_full`;
    const db = gw.core.db;
    const cleanup: Array<() => Promise<unknown> | void> = [() => tmpfs.unmount()];
    try {
      const owner = fs.statSync((await admin('show data_directory'))[0].data_directory as string);
      fs.chownSync(tmpfs.dir, owner.uid, owner.gid);
      await admin(`create tablespace ${ts} location '${tmpfs.dir}'`);
      cleanup.unshift(() => admin(`drop tablespace ${ts}`));
      await sql.raw(`alter table orders set tablespace ${ts}`).execute(db);
      cleanup.unshift(() => sql.raw('alter table orders set tablespace pg_default').execute(db));
      await sql.raw(`create table filler (x text) tablespace ${ts}`).execute(db);
      cleanup.unshift(() => sql.raw('drop table filler').execute(db));
      await assert.rejects(sql`insert into filler select repeat('x', 1000) from generate_series(1, 100000)`.execute(db), { code: '53100' });
      const before = await countOrders(gw);
      const res = await Promise.all([createV3(gw, token, payinBody()), createV3(gw, token, payinBody())]);
      for (const r of res) assert.deepEqual([r.status, r.json], [503, { code: 503, msg: 'not ready', error: 'database cannot write (disk full)' }], r.text);
      assert.equal(await countOrders(gw), before);
      assert.ok(!gw.logs.some((l) => l.includes('"unhandled error"')), 'a full disk is not logged as a bug');
      assert.ok(gw.logs.some((l) => l.includes('No space left on device')), "the log has PostgreSQL's own words");
      tmpfs.resize('64m');
      const retry = await createV3(gw, token, payinBody());
      assert.equal(retry.status, 200, retry.text);
      assert.equal(await countOrders(gw), before + 1);
    } finally {
      // Each step undone whatever the others do: a tablespace outlives the test's database.
      for (const undo of cleanup) {
        try {
          await undo();
        } catch (err) {
          t.diagnostic(`cleanup: ${String(err)}`);
        }
      }
    }
  });
});
