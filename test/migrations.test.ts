/**
 * Migrations that rebuild or re-index tables keep what the tables hold and
 * the rules they enforce, up and down, on the database of the run.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { dialectOf, openDatabase, type Db } from '../src/platform/db/database.ts';
import { migrator } from '../src/platform/db/migrate.ts';
import { createTestDatabase, type TestDatabase } from './helpers/db.ts';

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
