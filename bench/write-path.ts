// The durable write of a pay-in create on SQLite, without HTTP: the gateway's own path
// (createOrders through the transactor's group commit: savepoints, the repository's
// statements, order effects) against a baseline of raw better-sqlite3 statements that
// write the same rows (the order and its two history entries) on the same schema, in
// the same run.
//
//   node --import tsx bench/write-path.ts
//
// Each measurement writes BENCH_WRITES orders (default 20 000) in batches of 20 that
// share a commit, on a fresh database file opened as the gateway opens it (WAL,
// synchronous=FULL), and reads the process's CPU time and the wall time per order.
// Gateway and baseline alternate, BENCH_RUNS times each (default 5); medians. The process
// is pinned to one CPU (BENCH_PIN=0: not pinned). Prints the gateway ÷ baseline ratios.
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { findMethod } from '../src/modules/channels/catalogue.ts';
import { postOrderChange } from '../src/modules/ledger/ledger.service.ts';
import { enqueueOrderNotification } from '../src/modules/notify/notify.service.ts';
import { newOrderRow } from '../src/modules/orders/order.request.ts';
import { createOrders, type OrderEffects } from '../src/modules/orders/order.service.ts';
import { openSqlite, type Db } from '../src/platform/db/database.ts';
import { migrateToLatest } from '../src/platform/db/migrate.ts';
import { createTransactor } from '../src/platform/db/transactor.ts';
import { newId } from '../src/platform/ids.ts';
import { intEnv, log, machine, median, pinSelf, runMain, tempDir } from './lib/harness.ts';

const WRITES = intEnv('BENCH_WRITES', 20_000, 1_000_000);
const RUNS = intEnv('BENCH_RUNS', 5, 50);
const BATCH = 20;
const QRIS = findMethod('ID_QRIS')!;
const PUBLIC_URL = 'https://pagoda.example';

interface Cost {
  cpuUs: number;
  wallUs: number;
}

/** A migrated database with one merchant; the order rows a create would write for it. */
async function prepared(file: string): Promise<{ db: Db; order: (i: number) => ReturnType<typeof newOrderRow> }> {
  const db = openSqlite(file);
  await migrateToLatest(db);
  const merchantId = newId('mch_');
  await db.insertInto('merchants').values({ id: merchantId, name: 'Bench Merchant', status: 'active', default_currency: 'IDR', created_at: 1n, updated_at: 1n }).execute();
  const caller = { merchantId, appId: 'app_bench', generation: 'v3' as const };
  const order = (i: number) => {
    const now = Date.now();
    const req = { merOrderNo: `w-${i}`, currency: 'IDR', amount: 15_000_000n, method: QRIS, extra: null, attach: null, notifyUrl: 'https://merchant.example/notify', returnUrl: null };
    return newOrderRow('payin', caller, req, 'f'.repeat(64), now, { channel: 'sandbox', expiresAt: now + 1_800_000 });
  };
  return { db, order };
}

/** What the sandbox answers for a QRIS pay-in, in size. */
const params = (orderNo: string) => JSON.stringify({ qrCode: `000201010212266900${orderNo}`.padEnd(240, '0'), expireTime: '1800000' });

function timed(run: () => Promise<void>): Promise<Cost> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  return run().then(() => {
    const cpu = process.cpuUsage(cpu0);
    return { cpuUs: (cpu.user + cpu.system) / WRITES, wallUs: Number(process.hrtime.bigint() - t0) / 1000 / WRITES };
  });
}

/** The gateway's write: createOrders in the transactor's group commit, 20 units per commit. */
async function gatewayWrite(file: string): Promise<Cost> {
  const { db, order } = await prepared(file);
  const transact = createTransactor(db);
  const effects: OrderEffects = async (tx, before, after, change) => {
    await postOrderChange(tx, before, after, change.actor);
    await enqueueOrderNotification(tx, Date.now(), PUBLIC_URL, after);
  };
  const one = (i: number) => {
    const row = order(i);
    const answered = { to: 'PENDING' as const, cause: 'channel' as const, actor: 'channel:sandbox', changes: { channel_ref: `sbx_${row.order_no}`, params: params(row.order_no) } };
    return transact((tx) => createOrders(tx, { effects }, [{ row, actor: 'merchant:app_bench', answered }]));
  };
  try {
    return await timed(async () => {
      for (let b = 0; b < WRITES / BATCH; b++) await Promise.all(Array.from({ length: BATCH }, (_, k) => one(b * BATCH + k)));
    });
  } finally {
    await db.destroy();
  }
}

/** The baseline: the same rows through plain prepared statements, one transaction per 20. */
async function rawWrite(file: string): Promise<Cost> {
  const { db, order } = await prepared(file);
  await db.destroy();
  const raw = new BetterSqlite3(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = FULL');
  raw.pragma('foreign_keys = ON');
  // The columns a new order row has, plus those the channel's answer sets.
  const columns = [...new Set([...Object.keys(order(-1)), 'status', 'version', 'channel_ref', 'params'])];
  const at = (column: string) => columns.indexOf(column);
  const [STATUS, VERSION, REF, PARAMS] = [at('status'), at('version'), at('channel_ref'), at('params')];
  const insertOrder = raw.prepare(`insert into orders (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`);
  const insertEvents = raw.prepare(
    'insert into order_events (id, order_no, seq, from_status, to_status, cause, actor, detail, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const value = (v: unknown) => (typeof v === 'number' ? BigInt(v) : (v ?? null));
  const writeBatch = raw.transaction((first: number) => {
    for (let i = first; i < first + BATCH; i++) {
      const row = order(i) as Record<string, unknown>;
      const values = columns.map((c) => value(row[c]));
      values[STATUS] = 'PENDING';
      values[VERSION] = 1n;
      values[REF] = `sbx_${String(row.order_no)}`;
      values[PARAMS] = params(String(row.order_no));
      insertOrder.run(values);
      const now = Number(row.created_at);
      insertEvents.run([
        newId('ev_', now), row.order_no, 0n, null, 'CREATED', 'create', 'merchant:app_bench', null, now,
        newId('ev_', now), row.order_no, 1n, 'CREATED', 'PENDING', 'channel', 'channel:sandbox', '{"channelAnswer":"accepted"}', now,
      ]);
    }
  });
  try {
    return await timed(async () => {
      for (let b = 0; b < WRITES / BATCH; b++) writeBatch(b * BATCH);
    });
  } finally {
    raw.close();
  }
}

async function main(): Promise<number> {
  const host = machine();
  log(`write-path: ${RUNS} runs × (baseline, gateway), ${WRITES} orders each in commits of ${BATCH}; ${host.nproc} CPUs, ${host.cpu}, Node ${host.node}`);
  pinSelf();
  const dir = tempDir('pagoda-write-path-');
  const costs: Record<'raw' | 'gateway', Cost[]> = { raw: [], gateway: [] };
  try {
    for (let run = 1; run <= RUNS; run++) {
      for (const [kind, write] of [['raw', rawWrite], ['gateway', gatewayWrite]] as const) {
        const file = path.join(dir, `${kind}-${run}.db`);
        const cost = await write(file);
        costs[kind].push(cost);
        log(`  run ${run} ${kind.padEnd(7)}  CPU ${cost.cpuUs.toFixed(1)} µs/order  wall ${cost.wallUs.toFixed(1)} µs/order`);
        for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const med = (kind: 'raw' | 'gateway', key: keyof Cost) => median(costs[kind].map((c) => c[key]));
  const ratios = (key: keyof Cost) => costs.gateway.map((c, i) => c[key] / costs.raw[i]![key]);
  log('');
  log(`medians of ${RUNS} runs, µs per order written (order + 2 history rows, commits of ${BATCH}, WAL, synchronous=FULL):`);
  log(`  baseline: raw better-sqlite3 statements   CPU ${med('raw', 'cpuUs').toFixed(1)}   wall ${med('raw', 'wallUs').toFixed(1)}`);
  log(`  gateway: createOrders in group commit      CPU ${med('gateway', 'cpuUs').toFixed(1)}   wall ${med('gateway', 'wallUs').toFixed(1)}`);
  log(`  gateway ÷ baseline (median of the runs' ratios): CPU ${median(ratios('cpuUs')).toFixed(2)}×, wall ${median(ratios('wallUs')).toFixed(2)}×`);
  return 0;
}

runMain(main, 20 * 60_000);
