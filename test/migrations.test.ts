/**
 * Migrations that rebuild or re-index tables keep what the tables hold and
 * the rules they enforce, up and down, on the database of the run.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { dialectOf, openDatabase, type Db } from '../src/platform/db/database.ts';
import { migrator } from '../src/platform/db/migrate.ts';
import { createTestDatabase, TEST_DB, type TestDatabase } from './helpers/db.ts';

const T = { timeout: 60_000 };
const BEFORE_HISTORY_KEY = '0005_orders_by_direction';
const AFTER_JOBS_INDEX = '0007_orders_one_job_index';
const UNDER_TEST = ['0006_order_events_by_order', AFTER_JOBS_INDEX];

/** Migrates up or down to `name`; the migrations that ran. */
async function migrateTo(db: Db, name: string): Promise<string[]> {
  const { error, results } = await migrator(db).migrateTo(name);
  if (error) throw error;
  return (results ?? []).map((r) => r.migrationName);
}

async function indexesOf(db: Db, table: string): Promise<string[]> {
  const rows =
    dialectOf(db) === 'postgres'
      ? (await sql<{ name: string }>`select indexname as name from pg_indexes where tablename = ${table}`.execute(db)).rows
      : (await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = ${table} and sql is not null`.execute(db)).rows;
  return rows.map((r) => r.name).sort();
}

const history = (db: Db) => db.selectFrom('order_events').selectAll().orderBy('order_no').orderBy('seq').execute();

describe('migrations: order history keyed by (order_no, seq), one index for the jobs', () => {
  let tdb: TestDatabase;
  let db: Db;
  before(async () => {
    tdb = await createTestDatabase();
    db = openDatabase(tdb.url);
    await migrateTo(db, BEFORE_HISTORY_KEY);
    await db.insertInto('merchants').values({ id: 'mch_m', name: 'M', status: 'active', default_currency: 'IDR', created_at: 1n, updated_at: 1n }).execute();
    for (const [orderNo, direction, status, expiresAt] of [
      ['PI1', 'payin', 'PENDING', 5_000n],
      ['PO1', 'payout', 'PENDING', null],
    ] as const) {
      await db
        .insertInto('orders')
        .values({
          order_no: orderNo, direction, merchant_id: 'mch_m', app_id: 'app_a', generation: 'v3', mer_order_no: `m-${orderNo}`, request_hash: 'h',
          currency: 'IDR', amount: 100n, status, notify_url: 'https://m.example/n', expires_at: expiresAt, created_at: 1n, updated_at: 2n, version: 1n,
        })
        .execute();
      await db
        .insertInto('order_events')
        .values([
          { id: `ev_${orderNo}_0`, order_no: orderNo, seq: 0n, from_status: null, to_status: 'CREATED', cause: 'create', actor: 'merchant:app_a', detail: null, created_at: 1n },
          { id: `ev_${orderNo}_1`, order_no: orderNo, seq: 1n, from_status: 'CREATED', to_status: status, cause: 'channel', actor: 'channel:sandbox', detail: '{"a":"<b>\'"}', created_at: 2n },
        ])
        .execute();
    }
  });
  after(async () => {
    await db?.destroy();
    await tdb?.drop();
  });

  it('up: the history survives the rebuild, its key and foreign key still hold, the jobs find their orders', T, async () => {
    const kept = await history(db);
    assert.equal(kept.length, 4);
    assert.deepEqual(await migrateTo(db, AFTER_JOBS_INDEX), UNDER_TEST);
    assert.deepEqual(await history(db), kept);

    const again = { id: 'ev_other', order_no: 'PI1', seq: 1n, from_status: 'PENDING', to_status: 'PAID', cause: 'channel', actor: 'x', detail: null, created_at: 3n };
    await assert.rejects(db.insertInto('order_events').values(again).execute(), /unique|duplicate/i, 'a second entry with the same (order_no, seq)');
    await assert.rejects(db.insertInto('order_events').values({ ...again, order_no: 'NOPE', seq: 0n }).execute(), /foreign key/i, 'an entry for no order');
    assert.deepEqual(await history(db), kept);

    const orderIndexes = await indexesOf(db, 'orders');
    assert.ok(orderIndexes.includes('orders_jobs_idx'), orderIndexes.join(', '));
    assert.ok(!orderIndexes.includes('orders_status_expiry_idx') && !orderIndexes.includes('orders_direction_status_idx'), orderIndexes.join(', '));
    const expired = await db.selectFrom('orders').select('order_no').where('direction', '=', 'payin').where('status', 'in', ['CREATED', 'PENDING']).where('expires_at', '<=', 6_000n).execute();
    assert.deepEqual(expired, [{ order_no: 'PI1' }]);
  });

  it('down and up again: the history is kept both ways', T, async () => {
    const kept = await history(db);
    assert.deepEqual(await migrateTo(db, BEFORE_HISTORY_KEY), [...UNDER_TEST].reverse());
    assert.deepEqual(await history(db), kept);
    const orderIndexes = await indexesOf(db, 'orders');
    assert.ok(orderIndexes.includes('orders_status_expiry_idx') && orderIndexes.includes('orders_direction_status_idx') && !orderIndexes.includes('orders_jobs_idx'), orderIndexes.join(', '));
    assert.ok((await indexesOf(db, 'order_events')).includes('order_events_order_seq_uq'));
    const again = { id: 'ev_other', order_no: 'PO1', seq: 0n, from_status: null, to_status: 'CREATED', cause: 'create', actor: 'x', detail: null, created_at: 3n };
    await assert.rejects(db.insertInto('order_events').values(again).execute(), /unique|duplicate/i);
    assert.deepEqual(await migrateTo(db, AFTER_JOBS_INDEX), UNDER_TEST);
    assert.deepEqual(await history(db), kept);
  });
});

describe('migration 0009: notifications of a database made before they had an origin', () => {
  const notification = (id: string, url: string) => ({
    id, order_no: 'PI1', merchant_id: 'mch_m', app_id: 'app_a', status: 'PAID', url, payload: '{}', state: 'pending', next_attempt_at: 1n, created_at: 1n, updated_at: 1n,
  });
  /** A database at 0008 with one paid order, in the shape 0002 had before `origin` (or in today's). */
  async function at0008(withOrigin: boolean): Promise<{ db: Db; tdb: TestDatabase }> {
    const tdb = await createTestDatabase();
    const db = openDatabase(tdb.url);
    await migrateTo(db, '0008_app_token_epoch');
    if (!withOrigin) await sql`alter table notifications drop column origin`.execute(db);
    await db.insertInto('merchants').values({ id: 'mch_m', name: 'M', status: 'active', default_currency: 'IDR', created_at: 1n, updated_at: 1n }).execute();
    await db
      .insertInto('orders')
      .values({
        order_no: 'PI1', direction: 'payin', merchant_id: 'mch_m', app_id: 'app_a', generation: 'v3', mer_order_no: 'm-PI1', request_hash: 'h',
        currency: 'IDR', amount: 100n, status: 'PAID', notify_url: 'https://m.example/n', expires_at: null, created_at: 1n, updated_at: 2n, version: 1n,
      })
      .execute();
    return { db, tdb };
  }

  it('adds the column, filled from each URL, and state changes can write notifications again', T, async (t) => {
    const { db, tdb } = await at0008(false);
    t.after(async () => (await db.destroy(), await tdb.drop()));
    for (const [id, url] of [['nt_1', 'https://Shop.Example:8443/notify?x=1'], ['nt_2', 'http://127.0.0.1:9000/n']]) {
      await db.insertInto('notifications').values(notification(id!, url!) as never).execute();
    }
    assert.deepEqual(await migrateTo(db, '0009_notification_origin'), ['0009_notification_origin']);
    const rows = await db.selectFrom('notifications').select(['id', 'origin']).orderBy('id').execute();
    assert.deepEqual(rows, [{ id: 'nt_1', origin: 'https://shop.example:8443' }, { id: 'nt_2', origin: 'http://127.0.0.1:9000' }]);
    await db.insertInto('notifications').values({ ...notification('nt_3', 'https://m.example/n'), origin: 'https://m.example' }).execute();
    await assert.rejects(db.insertInto('notifications').values({ ...notification('nt_4', 'https://m.example/n'), origin: null as never }).execute(), /not null|null value/i);
  });

  it('on a database that has the column, it changes nothing', T, async (t) => {
    const { db, tdb } = await at0008(true);
    t.after(async () => (await db.destroy(), await tdb.drop()));
    await db.insertInto('notifications').values({ ...notification('nt_1', 'https://m.example/n'), origin: 'as written' }).execute();
    assert.deepEqual(await migrateTo(db, '0009_notification_origin'), ['0009_notification_origin']);
    assert.deepEqual(await db.selectFrom('notifications').select(['id', 'origin']).execute(), [{ id: 'nt_1', origin: 'as written' }]);
  });

  it('PostgreSQL: a notifications table in another schema is not the one it looks at, either way', { ...T, skip: TEST_DB === 'postgres' ? false : 'SQLite has one schema' }, async (t) => {
    for (const withOrigin of [true, false]) {
      const { db, tdb } = await at0008(withOrigin);
      t.after(async () => (await db.destroy(), await tdb.drop()));
      // Sorted before "public": what a listing of every schema's tables finds first.
      await sql`create schema aaa`.execute(db);
      await sql.raw(`create table aaa.notifications (id text primary key, url text${withOrigin ? '' : ', origin text'})`).execute(db);
      assert.deepEqual(await migrateTo(db, '0009_notification_origin'), ['0009_notification_origin'], `public has origin: ${withOrigin}`);
      const columns = await sql<{ schema: string }>`select table_schema as schema from information_schema.columns where table_name = 'notifications' and column_name = 'origin' order by 1`.execute(db);
      assert.deepEqual(columns.rows.map((r) => r.schema), withOrigin ? ['public'] : ['aaa', 'public']);
    }
  });
});
