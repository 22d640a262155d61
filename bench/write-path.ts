// The durable write of a pay-in create on SQLite, without HTTP: the gateway's own path
// (the write floor's, bench/lib/write-floor.ts: createOrders through the transactor's
// group commit, with savepoints, the repository's statements and order effects)
// against a baseline of raw better-sqlite3 statements that write the same rows (the
// order and its two history entries) on the same schema, in the same run.
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
import { newId } from '../src/platform/ids.ts';
import { intEnv, log, machine, median, pinSelf, runMain, tempDir } from './lib/harness.ts';
import { openWriteFloor } from './lib/write-floor.ts';

const WRITES = intEnv('BENCH_WRITES', 20_000, 1_000_000);
const RUNS = intEnv('BENCH_RUNS', 5, 50);
const BATCH = 20;
const PUBLIC_URL = 'https://pagoda.example';

interface Cost {
  cpuUs: number;
  wallUs: number;
}

function timed(run: () => Promise<void>): Promise<Cost> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  return run().then(() => {
    const cpu = process.cpuUsage(cpu0);
    return { cpuUs: (cpu.user + cpu.system) / WRITES, wallUs: Number(process.hrtime.bigint() - t0) / 1000 / WRITES };
  });
}

/** The gateway's write (the write floor's): createOrders in the transactor's group commit, 20 units per commit. */
async function gatewayWrite(file: string): Promise<Cost> {
  const floor = await openWriteFloor(file, PUBLIC_URL);
  try {
    return await timed(async () => {
      for (let b = 0; b < WRITES / BATCH; b++) await Promise.all(Array.from({ length: BATCH }, (_, k) => floor.write(`w-${b * BATCH + k}`)));
    });
  } finally {
    await floor.db.destroy();
  }
}

/** The baseline: the same rows through plain prepared statements, one transaction per 20. */
async function rawWrite(file: string): Promise<Cost> {
  const floor = await openWriteFloor(file, PUBLIC_URL);
  await floor.db.destroy();
  const raw = new BetterSqlite3(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = FULL');
  raw.pragma('foreign_keys = ON');
  // The columns of a new order row, plus those the channel's answer sets.
  const sample = floor.pending('w-sample');
  const columns = [...new Set([...Object.keys(sample.row), ...Object.keys(sample.answered!.changes ?? {}), 'status', 'version'])];
  const insertOrder = raw.prepare(`insert into orders (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`);
  const insertEvents = raw.prepare(
    'insert into order_events (id, order_no, seq, from_status, to_status, cause, actor, detail, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const value = (v: unknown) => (typeof v === 'number' ? BigInt(v) : (v ?? null));
  const writeBatch = raw.transaction((first: number) => {
    for (let i = first; i < first + BATCH; i++) {
      const { row, actor, answered } = floor.pending(`w-${i}`);
      const born: Record<string, unknown> = { ...row, ...answered!.changes, status: answered!.to, version: row.version + 1n };
      insertOrder.run(columns.map((c) => value(born[c])));
      const now = Number(row.created_at);
      insertEvents.run([
        newId('ev_', now), row.order_no, 0n, null, 'CREATED', 'create', actor, null, now,
        newId('ev_', now), row.order_no, 1n, 'CREATED', 'PENDING', answered!.cause, answered!.actor, '{"channelAnswer":"accepted"}', now,
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
