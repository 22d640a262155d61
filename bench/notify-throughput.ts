// Benchmark: notification delivery throughput of a `--role worker` process against a bare
// undici keep-alive POST loop, and the cost of the claim query at 1k and 100k pending rows.
//
//   BENCH_DB=sqlite   node --import tsx bench/notify-throughput.ts
//   BENCH_DB=postgres node --import tsx bench/notify-throughput.ts
//
// Setup (not timed), once per invocation: a fresh database (sqlite: a durable SQLite file
// in a temp data dir, WAL + synchronous=FULL as the gateway opens it; postgres: a fresh
// database pagoda_test_<random> on PAGODA_TEST_PG_URL, default 127.0.0.1:5432, dropped
// at the end), a merchant made with `pagoda merchant create`, a `--role api` gateway (no
// worker), and BENCH_N v3 SPEI pay-ins made PAID through the API and the sandbox
// (20 at a time): BENCH_N pending notifications to one receiver URL. The api process is
// then stopped.
//
// Per run (BENCH_RUNS): a `--role worker` process starts and delivers all BENCH_N to the
// receiver (answers 200 SUCCESS at once; a child process). Rate = BENCH_N ÷ (last
// delivered_at − first attempt's started_at), both from the gateway's own records, so
// the worker's start-up is not counted. Then, in the same run, the baseline: a bare
// undici keep-alive POST loop (bench/lib/post-loop.ts, a child) sends BENCH_N requests of
// the notifications' median body size to the same receiver, 64 at a time (the worker's
// default maxInFlight), and again 8 at a time (the worker's per-origin cap, and its
// sender's connections per origin). Ratio = worker rate ÷ bare-64 rate; target ≥ 0.25.
// Between runs the same N notifications are made pending again by SQL (attempt rows
// deleted, orders' acknowledged flag cleared; PostgreSQL: VACUUM ANALYZE of those tables).
//
// Pinning (BENCH_PIN=0 to skip): the sender under test (worker, or the bare loop) on CPU
// 1; the receiver and this process (which polls the database every 100 ms) on CPU 0.
// PostgreSQL is not pinned (its backends run on both CPUs).
//
// Claim query: a separate fresh database; 1,000 then BENCH_CLAIM_ROWS (default 100,000)
// pending notifications (state 'pending', next_attempt_at in the past, each with a real
// payload taken from the delivery phase) on 100 orders, inserted by SQL in batches. At
// each size: 3 warm-up claims, then 20 timed calls of claimDue(db, now, lease, 50) from
// src/modules/notify/notify.repository.ts, each claiming rows that were not claimed before
// (claimed rows are put back, untimed, behind the others). PostgreSQL: timed after ANALYZE,
// and at the large size also before it (stale statistics right after a bulk arrival).
// Last, 100 rows of a second destination due behind the whole backlog, claimed leaving out
// the backlog's destination (as the worker does while that destination is at its cap); then
// the same beside 5,000 other destinations with one retry each scheduled a day later (pairs
// the claim beyond the head may look at: merchants' failing endpoints waiting for a retry).
//
// Each phase is bounded: delivery BENCH_DELIVERY_TIMEOUT s (default 600), and the whole
// benchmark by a deadline. Prints per-run lines on stderr, a summary table and a final
// JSON line on stdout. Exit code 1 when a run did not deliver everything or a request failed.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { sql } from 'kysely';
import { claimDue, type ClaimSkips } from '../src/modules/notify/notify.repository.ts';
import { DEFAULT_WORKER_OPTIONS } from '../src/modules/notify/notify.worker.ts';
import { openDatabase, type Db } from '../src/platform/db/database.ts';
import { migrateToLatest } from '../src/platform/db/migrate.ts';
import { createTestDatabase, PG_ADMIN_URL, type TestDatabase } from '../test/helpers/db.ts';
import { TEST_MASTER_KEY } from '../test/helpers/gateway.ts';
import { closeFleetAgent, createPaidPayins, type MerchantCreds } from '../test/helpers/pagoda-fleet.ts';
import { runPagoda } from '../test/helpers/process.ts';
import {
  freePort,
  gitState,
  intEnv,
  LOADGEN_CPU,
  log,
  machine,
  median,
  PIN,
  pinSelf,
  processCpuSeconds,
  ROOT,
  runMain,
  SERVER_CPU,
  sleep,
  startServer,
  stopServer,
  tempDir,
  waitReady,
  type Server,
} from './lib/harness.ts';
import type { ReceiverStats } from './lib/notify-receiver.ts';

const DB_KIND = process.env.BENCH_DB ?? 'sqlite';
if (DB_KIND !== 'sqlite' && DB_KIND !== 'postgres') throw new Error(`BENCH_DB: sqlite or postgres, got "${DB_KIND}"`);
const N = intEnv('BENCH_N', 2000, 200_000);
const RUNS = intEnv('BENCH_RUNS', 3, 20);
const DELIVERY_TIMEOUT_S = intEnv('BENCH_DELIVERY_TIMEOUT', 600, 7200);
const CLAIM_ROWS = intEnv('BENCH_CLAIM_ROWS', 100_000, 2_000_000);
const CLAIM_SMALL = 1000;
const CLAIM_SAMPLES = 20;
const CLAIM_BATCH = 50;
const CONCURRENCY = DEFAULT_WORKER_OPTIONS.maxInFlight;
const PER_ORIGIN = DEFAULT_WORKER_OPTIONS.perOrigin;
const TARGET_RATIO = 0.25;
const SETUP_CONCURRENCY = 20;

const WATCHDOG = pathToFileURL(path.join(ROOT, 'bench', 'lib', 'exit-with-parent.mjs')).href;

// ---------------------------------------------------------------- children and databases we own

const children = new Set<ChildProcess>();
const pgDatabases = new Set<string>();

process.on('exit', () => {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // gone
    }
  }
  // runMain's deadline exits without running finally blocks: drop what is left, synchronously.
  for (const name of pgDatabases) {
    try {
      execFileSync('psql', [PG_ADMIN_URL, '-qc', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`], { stdio: 'ignore', timeout: 10_000 });
    } catch {
      // best effort
    }
  }
});

function spawnPinned(cpu: number, nodeArgs: string[], env: NodeJS.ProcessEnv, ipc: boolean): ChildProcess {
  const node = [process.execPath, '--import', WATCHDOG, ...nodeArgs];
  const [cmd, ...args] = PIN ? ['taskset', '-c', String(cpu), ...node] : node;
  const child = spawn(cmd!, args, { cwd: ROOT, env, stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function newDatabase(): Promise<TestDatabase> {
  if (DB_KIND === 'sqlite') {
    const dir = tempDir('pagoda-nbench-db-');
    return { url: `sqlite:${path.join(dir, 'pagoda.db')}`, dialect: 'sqlite', drop: async () => undefined };
  }
  const database = await createTestDatabase('postgres');
  const name = new URL(database.url).pathname.slice(1);
  pgDatabases.add(name);
  return {
    ...database,
    drop: async () => {
      await database.drop();
      pgDatabases.delete(name);
    },
  };
}

// ---------------------------------------------------------------- receiver child

interface Receiver {
  url: string;
  child: ChildProcess;
  mark(): Promise<void>;
  stats(): Promise<ReceiverStats>;
}

async function startReceiverChild(): Promise<Receiver> {
  const child = spawnPinned(LOADGEN_CPU, ['--import', 'tsx', 'bench/lib/notify-receiver.ts'], process.env, true);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-4000)));
  child.stdout!.resume();
  const waiting = new Map<number, (msg: any) => void>();
  let nextId = 1;
  const ready = new Promise<{ url: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`receiver not ready in 30 s: ${stderr}`)), 30_000);
    child.on('message', (msg: any) => {
      if (msg.ready) {
        clearTimeout(timer);
        resolve(msg);
      } else waiting.get(msg.id)?.(msg);
    });
    child.once('exit', (code) => reject(new Error(`receiver exited (${code}): ${stderr}`)));
  });
  const { url } = await ready;
  const ask = (cmd: string) =>
    new Promise<any>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => reject(new Error(`receiver did not answer ${cmd}`)), 10_000);
      waiting.set(id, (msg) => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(msg);
      });
      child.send({ id, cmd });
    });
  return { url, child, mark: async () => void (await ask('mark')), stats: () => ask('stats') };
}

// ---------------------------------------------------------------- gateway processes

function gatewayEnv(database: TestDatabase, dataDir: string, port: number): Record<string, string> {
  return {
    PAGODA_DATA_DIR: dataDir,
    PAGODA_DATABASE_URL: database.url,
    PAGODA_MASTER_KEY: TEST_MASTER_KEY,
    PAGODA_PORT: String(port),
    PAGODA_HOST: '127.0.0.1',
    PAGODA_LOG_LEVEL: 'warn',
    PAGODA_DEMO_MERCHANT: '0',
    PAGODA_NOTIFY_ALLOW_HOSTS: '127.0.0.1',
  };
}

function startRole(role: 'api' | 'worker', port: number, env: Record<string, string>): Server {
  return startServer(`gateway --role ${role}`, port, ['bin/pagoda.mjs', 'serve', '--role', role], env);
}

// ---------------------------------------------------------------- delivery phase

interface BareResult {
  requests: number;
  failures: number;
  elapsedMs: number;
  rate: number;
  cpuSeconds: number;
}

interface DeliveryRun {
  run: number;
  delivered: number;
  complete: boolean;
  /** Deliveries per second (gateway records: first attempt start → last delivered_at). */
  workerRate: number;
  windowMs: number;
  /** From spawning the worker to the database showing all delivered (includes start-up). */
  endToEndMs: number;
  workerCpuSeconds: number;
  deliveriesPerWorkerCpuSecond: number;
  attempts: number;
  failedAttempts: number;
  receiver: ReceiverStats;
  bodyBytes: number;
  bare64: BareResult;
  bare8: BareResult;
  ratio: number;
  ratioPerCpu: number;
}

async function countDelivered(db: Db): Promise<number> {
  const row = await db.selectFrom('notifications').select((eb) => eb.fn.countAll<bigint>().as('n')).where('state', '=', 'delivered').executeTakeFirstOrThrow();
  return Number(row.n);
}

async function resetNotifications(db: Db): Promise<void> {
  const now = Date.now();
  await db.deleteFrom('notification_attempts').execute();
  await db
    .updateTable('notifications')
    .set({ state: 'pending', attempts: 0n, next_attempt_at: now, lease_until: null, last_error: null, delivered_at: null, updated_at: now })
    .execute();
  await db.updateTable('orders').set({ acknowledged: 0n }).execute();
  if (DB_KIND === 'postgres') await sql`vacuum analyze notifications, notification_attempts, orders`.execute(db);
}

async function bareLoop(url: string, concurrency: number, bodyBytes: number): Promise<BareResult> {
  const child = spawnPinned(
    SERVER_CPU,
    ['--import', 'tsx', 'bench/lib/post-loop.ts'],
    { ...process.env, POST_URL: url, POST_N: String(N), POST_CONCURRENCY: String(concurrency), POST_BODY_BYTES: String(bodyBytes) },
    false,
  );
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err = (err + c).slice(-4000)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`bare loop exited ${code}: ${err}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as BareResult;
}

async function deliveryRun(run: number, db: Db, env: Record<string, string>, port: number, receiver: Receiver): Promise<DeliveryRun> {
  if (run > 1) await resetNotifications(db);
  await receiver.mark();
  const spawnedAt = Date.now();
  const worker = startRole('worker', port, env);
  let cpuAtFirst: number | undefined;
  let delivered = 0;
  let doneAt: number | undefined;
  let cpuAtEnd = 0;
  try {
    const deadline = spawnedAt + DELIVERY_TIMEOUT_S * 1000;
    while (Date.now() < deadline) {
      if (worker.child.exitCode !== null) throw new Error(`the worker exited (${worker.child.exitCode}):\n${worker.stderrTail()}`);
      delivered = await countDelivered(db);
      if (delivered > 0 && cpuAtFirst === undefined) cpuAtFirst = processCpuSeconds(worker.pid);
      if (delivered === N) {
        doneAt = Date.now();
        break;
      }
      await sleep(100);
    }
    cpuAtEnd = processCpuSeconds(worker.pid);
  } finally {
    await stopServer(worker);
  }
  const complete = doneAt !== undefined;
  const span = await db
    .selectFrom('notification_attempts')
    .select((eb) => [eb.fn.min('started_at').as('first'), eb.fn.countAll<bigint>().as('n')])
    .executeTakeFirstOrThrow();
  const last = await db.selectFrom('notifications').select((eb) => eb.fn.max('delivered_at').as('last')).executeTakeFirstOrThrow();
  const failed = await db.selectFrom('notification_attempts').select((eb) => eb.fn.countAll<bigint>().as('n')).where('outcome', '!=', 'delivered').executeTakeFirstOrThrow();
  const windowMs = complete ? Number(last.last) - Number(span.first) : Date.now() - Number(span.first ?? spawnedAt);
  const workerCpuSeconds = cpuAtEnd - (cpuAtFirst ?? cpuAtEnd);
  const stats = await receiver.stats();
  const bodyBytes = stats.medianBodyBytes || 600;

  const bare64 = await bareLoop(receiver.url, CONCURRENCY, bodyBytes);
  const bare8 = await bareLoop(receiver.url, PER_ORIGIN, bodyBytes);
  const workerRate = (delivered * 1000) / Math.max(1, windowMs);
  const perCpu = workerCpuSeconds > 0 ? delivered / workerCpuSeconds : 0;
  const barePerCpu = bare64.cpuSeconds > 0 ? bare64.requests / bare64.cpuSeconds : 0;
  return {
    run,
    delivered,
    complete,
    workerRate,
    windowMs,
    endToEndMs: (doneAt ?? Date.now()) - spawnedAt,
    workerCpuSeconds,
    deliveriesPerWorkerCpuSecond: perCpu,
    attempts: Number(span.n),
    failedAttempts: Number(failed.n),
    receiver: stats,
    bodyBytes,
    bare64,
    bare8,
    ratio: workerRate / bare64.rate,
    ratioPerCpu: barePerCpu > 0 ? perCpu / barePerCpu : 0,
  };
}

function describeRun(r: DeliveryRun): string {
  return (
    `  run ${r.run}: worker ${r.workerRate.toFixed(1)} deliveries/s (${r.delivered}/${N}${r.complete ? '' : ' INCOMPLETE'} in ${(r.windowMs / 1000).toFixed(1)} s, ` +
    `${(r.endToEndMs / 1000).toFixed(1)} s from spawn; ${r.deliveriesPerWorkerCpuSecond.toFixed(0)} per worker CPU-s; ${r.attempts} attempts, ${r.failedAttempts} failed; ` +
    `receiver max ${r.receiver.maxInFlight} in flight, ${r.receiver.connections} connections)  ` +
    `bare-64 ${r.bare64.rate.toFixed(0)}/s  bare-8 ${r.bare8.rate.toFixed(0)}/s  ratio ${r.ratio.toFixed(3)}×` +
    (r.bare64.failures + r.bare8.failures ? `  BARE FAILURES ${r.bare64.failures + r.bare8.failures}` : '')
  );
}

// ---------------------------------------------------------------- claim phase

/** Rows of a second destination, due after the whole backlog, for the claim around a busy destination. */
const CLAIM_OTHER = 100;
const OTHER_URL = 'https://other-destination.example/notify';

/** Destinations with one retry each, scheduled later, for the claim around a busy destination among many of them. */
const CLAIM_LATER_PAIRS = 5000;

function claimLabel(f: ClaimFigures): string {
  const around = f.aroundBusy ? ` leaving out the destination of ${f.rows} of them, ${CLAIM_OTHER} others due behind` : '';
  const later = f.laterPairs ? `, ${f.laterPairs} other destinations with a retry scheduled later` : '';
  return `claimDue(${CLAIM_BATCH}) at ${f.rows} pending${around}${later}${f.analyzed ? '' : ' (before ANALYZE)'}`;
}

interface ClaimFigures {
  rows: number;
  /** PostgreSQL: measured after ANALYZE (SQLite: always true, nothing to analyze). */
  analyzed: boolean;
  medianMs: number;
  p90Ms: number;
  maxMs: number;
  claimed: number;
  /** Measured leaving out the destination of every row but the last CLAIM_OTHER (a busy destination's backlog ahead of them). */
  aroundBusy?: boolean;
  /** Destinations (merchants' failing endpoints, say) with a retry pending but not due, beside. */
  laterPairs?: number;
}

/** One pending row for each of `count` destinations, due a day after `base`: retries scheduled later. */
async function insertScheduledLater(db: Db, count: number, base: number, sample: { payload: string }): Promise<void> {
  const rows = Array.from({ length: count }, (_, i) => ({
    id: `ntf_later_${String(i).padStart(8, '0')}`,
    order_no: `ORD_BENCH_${i % 100}`,
    merchant_id: 'mer_bench',
    app_id: 'app_bench',
    status: 'PAID',
    url: `https://later-${i}.example/notify`,
    origin: `https://later-${i}.example`,
    payload: sample.payload,
    state: 'pending',
    attempts: 1n,
    next_attempt_at: base + 2 * 86_400_000,
    lease_until: null,
    last_error: null,
    created_at: base,
    updated_at: base,
    delivered_at: null,
  }));
  await db.transaction().execute(async (tx) => {
    for (let i = 0; i < rows.length; i += 500) await tx.insertInto('notifications').values(rows.slice(i, i + 500)).execute();
  });
}

async function insertNotifications(db: Db, from: number, count: number, base: number, sample: { payload: string; url: string }, url = sample.url): Promise<void> {
  const BATCH = 500;
  const PER_TX = 20_000;
  for (let start = from; start < from + count; start += PER_TX) {
    const end = Math.min(from + count, start + PER_TX);
    await db.transaction().execute(async (tx) => {
      for (let b = start; b < end; b += BATCH) {
        const rows = [];
        for (let i = b; i < Math.min(end, b + BATCH); i++) {
          rows.push({
            id: `ntf_bench_${String(i).padStart(8, '0')}`,
            order_no: `ORD_BENCH_${i % 100}`,
            merchant_id: 'mer_bench',
            app_id: 'app_bench',
            status: 'PAID',
            url,
            origin: new URL(url).origin,
            payload: sample.payload,
            state: 'pending',
            attempts: 0n,
            next_attempt_at: base + i,
            lease_until: null,
            last_error: null,
            created_at: base + i,
            updated_at: base + i,
            delivered_at: null,
          });
        }
        await tx.insertInto('notifications').values(rows).execute();
      }
    });
  }
}

async function timeClaims(db: Db, rows: number, analyzed: boolean, state: { requeue: number }, skip?: ClaimSkips): Promise<ClaimFigures> {
  const leaseMs = 10_000 * 2 + 5000;
  const samples: number[] = [];
  let claimed = 0;
  for (let k = 0; k < 3 + CLAIM_SAMPLES; k++) {
    const now = Date.now();
    const t0 = performance.now();
    const got = await claimDue(db, now, leaseMs, CLAIM_BATCH, skip);
    const dt = performance.now() - t0;
    if (got.length !== CLAIM_BATCH) throw new Error(`claimDue returned ${got.length} rows, expected ${CLAIM_BATCH}`);
    if (k >= 3) {
      samples.push(dt);
      claimed += got.length;
    }
    // Put them back, due, behind every other row: the next claim takes rows not claimed before.
    const ids = got.map((n) => n.id);
    await db.updateTable('notifications').set({ next_attempt_at: state.requeue++, lease_until: null }).where('id', 'in', ids).execute();
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return { rows, analyzed, medianMs: median(samples), p90Ms: sorted[Math.floor(sorted.length * 0.9)]!, maxMs: sorted.at(-1)!, claimed, ...(skip ? { aroundBusy: true } : {}) };
}

async function claimPhase(sample: { payload: string; url: string }): Promise<ClaimFigures[]> {
  const database = await newDatabase();
  const db = openDatabase(database.url, { poolSize: 2 });
  try {
    await migrateToLatest(db);
    const now = Date.now();
    const base = now - 86_400_000;
    await db.insertInto('merchants').values({ id: 'mer_bench', name: 'Bench', status: 'active', default_currency: 'MXN', created_at: now, updated_at: now }).execute();
    const orders = Array.from({ length: 100 }, (_, i) => ({
      order_no: `ORD_BENCH_${i}`,
      direction: 'payin',
      merchant_id: 'mer_bench',
      app_id: 'app_bench',
      generation: 'v3',
      mer_order_no: `bench-${i}`,
      request_hash: 'bench',
      currency: 'MXN',
      amount: 10_000n,
      paid_amount: 10_000n,
      method: 'MX_SPEI',
      channel: 'sandbox',
      channel_ref: null,
      status: 'PAID',
      attach: null,
      notify_url: sample.url,
      return_url: null,
      extra: null,
      params: null,
      message: null,
      expires_at: null,
      created_at: now,
      updated_at: now,
    }));
    await db.insertInto('orders').values(orders).execute();
    // Claimed rows go back behind all others, still in the past.
    const state = { requeue: base + CLAIM_ROWS + 1 };
    // SQLite: never analyzed (the gateway does not run ANALYZE); PostgreSQL: as autovacuum would.
    const analyze = async () => {
      if (DB_KIND === 'postgres') await sql`analyze notifications`.execute(db);
    };
    const out: ClaimFigures[] = [];
    let t0 = performance.now();
    await insertNotifications(db, 0, CLAIM_SMALL, base, sample);
    await analyze();
    log(`  claim: inserted ${CLAIM_SMALL} pending rows in ${(performance.now() - t0).toFixed(0)} ms`);
    out.push(await timeClaims(db, CLAIM_SMALL, true, state));
    t0 = performance.now();
    await insertNotifications(db, CLAIM_SMALL, CLAIM_ROWS - CLAIM_SMALL, base, sample);
    log(`  claim: inserted ${CLAIM_ROWS - CLAIM_SMALL} more pending rows in ${(performance.now() - t0).toFixed(0)} ms`);
    if (DB_KIND === 'postgres') out.push(await timeClaims(db, CLAIM_ROWS, false, state));
    await analyze();
    out.push(await timeClaims(db, CLAIM_ROWS, true, state));
    // Another destination's rows, due after the whole backlog, claimed while the backlog's destination is busy (left out).
    await insertNotifications(db, CLAIM_ROWS, CLAIM_OTHER, base, sample, OTHER_URL);
    await analyze();
    out.push(await timeClaims(db, CLAIM_ROWS, true, state, { origins: [new URL(sample.url).origin] }));
    // The same among many destinations whose retries are scheduled later (each a pair the claim may look at).
    await insertScheduledLater(db, CLAIM_LATER_PAIRS, base, sample);
    await analyze();
    out.push({ ...(await timeClaims(db, CLAIM_ROWS, true, state, { origins: [new URL(sample.url).origin] })), laterPairs: CLAIM_LATER_PAIRS });
    for (const f of out) log(`  ${claimLabel(f)}: median ${f.medianMs.toFixed(2)} ms, p90 ${f.p90Ms.toFixed(2)} ms, max ${f.maxMs.toFixed(2)} ms`);
    return out;
  } finally {
    await db.destroy();
    await database.drop();
  }
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const startedAt = new Date().toISOString();
  const host = machine();
  log(`bench notify-throughput on ${DB_KIND}: N=${N}, ${RUNS} runs; worker defaults maxInFlight ${CONCURRENCY}, perOrigin ${PER_ORIGIN}`);
  log(`machine: ${host.nproc} CPUs, ${host.cpu}, Node ${host.node}, load average ${host.loadavgAtStart.join(' ')}`);
  pinSelf();

  const database = await newDatabase();
  const dataDir = tempDir('pagoda-nbench-');
  const port = await freePort();
  const env = gatewayEnv(database, dataDir, port);
  const receiver = await startReceiverChild();
  let db: Db | undefined;
  const runs: DeliveryRun[] = [];
  let setupMs = 0;
  let sample = { payload: '', url: receiver.url };
  try {
    const made = await runPagoda(['merchant', 'create', '--name', 'Bench Merchant', '--currencies', 'MXN', '--json'], env, 60_000);
    if (made.code !== 0) throw new Error(`merchant create failed: ${made.stderr}`);
    const creds = JSON.parse(made.stdout) as MerchantCreds;

    const api = startRole('api', port, env);
    try {
      await waitReady(api, `https://127.0.0.1:${port}/healthz`);
      const t0 = performance.now();
      await createPaidPayins(`https://127.0.0.1:${port}`, creds, receiver.url, N, { concurrency: SETUP_CONCURRENCY, prefix: 'bench' });
      setupMs = performance.now() - t0;
      log(`setup: ${N} PAID pay-ins in ${(setupMs / 1000).toFixed(1)} s (${((N * 1000) / setupMs).toFixed(0)}/s, ${SETUP_CONCURRENCY} at a time, not timed)`);
    } finally {
      await closeFleetAgent();
      await stopServer(api);
    }
    db = openDatabase(database.url, { poolSize: 2 });
    const pending = await db.selectFrom('notifications').select((eb) => eb.fn.countAll<bigint>().as('n')).where('state', '=', 'pending').executeTakeFirstOrThrow();
    if (Number(pending.n) !== N) throw new Error(`expected ${N} pending notifications, found ${pending.n}`);
    const one = await db.selectFrom('notifications').select(['payload', 'url']).limit(1).executeTakeFirstOrThrow();
    sample = { payload: one.payload, url: one.url };

    for (let run = 1; run <= RUNS; run++) {
      const r = await deliveryRun(run, db, env, port, receiver);
      log(describeRun(r));
      runs.push(r);
    }
  } finally {
    await db?.destroy();
    await database.drop();
  }

  log('claim query:');
  const claims = await claimPhase(sample);

  const of = (f: (r: DeliveryRun) => number) => median(runs.map(f));
  const medians = {
    workerRate: of((r) => r.workerRate),
    workerRateMin: Math.min(...runs.map((r) => r.workerRate)),
    workerRateMax: Math.max(...runs.map((r) => r.workerRate)),
    bare64Rate: of((r) => r.bare64.rate),
    bare8Rate: of((r) => r.bare8.rate),
    ratio: of((r) => r.ratio),
    ratioTo8: of((r) => r.workerRate / r.bare8.rate),
    deliveriesPerWorkerCpuSecond: of((r) => r.deliveriesPerWorkerCpuSecond),
    ratioPerCpu: of((r) => r.ratioPerCpu),
    endToEndS: of((r) => r.endToEndMs / 1000),
  };
  const incomplete = runs.filter((r) => !r.complete).length;
  const bareFailures = runs.reduce((n, r) => n + r.bare64.failures + r.bare8.failures, 0);
  const met = medians.ratio >= TARGET_RATIO;

  const pinning = PIN ? `worker and bare loop pinned to CPU ${SERVER_CPU}; receiver and this process to CPU ${LOADGEN_CPU}` : 'UNPINNED';
  const out = [
    '',
    `Notification delivery on ${DB_KIND}, N=${N}, medians of ${RUNS} runs (${pinning}${DB_KIND === 'postgres' ? '; PostgreSQL unpinned' : ''}).`,
    '',
    `| figure | median | range |`,
    `|---|---:|---:|`,
    `| worker deliveries/s (first attempt → last delivered_at) | ${medians.workerRate.toFixed(1)} | ${medians.workerRateMin.toFixed(1)}–${medians.workerRateMax.toFixed(1)} |`,
    `| bare undici POST/s, ${CONCURRENCY} at a time | ${medians.bare64Rate.toFixed(0)} | ${Math.min(...runs.map((r) => r.bare64.rate)).toFixed(0)}–${Math.max(...runs.map((r) => r.bare64.rate)).toFixed(0)} |`,
    `| bare undici POST/s, ${PER_ORIGIN} at a time | ${medians.bare8Rate.toFixed(0)} | ${Math.min(...runs.map((r) => r.bare8.rate)).toFixed(0)}–${Math.max(...runs.map((r) => r.bare8.rate)).toFixed(0)} |`,
    `| worker ÷ bare-${CONCURRENCY} | ${medians.ratio.toFixed(4)}× | |`,
    `| worker ÷ bare-${PER_ORIGIN} | ${medians.ratioTo8.toFixed(4)}× | |`,
    `| deliveries per worker CPU-second | ${medians.deliveriesPerWorkerCpuSecond.toFixed(0)} | |`,
    `| all ${N} delivered, from worker spawn | ${medians.endToEndS.toFixed(1)} s | |`,
    ...claims.map((c) => `| ${claimLabel(c)} ms (median / p90 / max of ${CLAIM_SAMPLES}) | ${c.medianMs.toFixed(2)} | ${c.p90Ms.toFixed(2)} / ${c.maxMs.toFixed(2)} |`),
    '',
    `Target "worker ≥ ${TARGET_RATIO}× bare": ${incomplete ? 'NOT MET (incomplete runs)' : met ? 'MET' : 'NOT MET'} (${medians.ratio.toFixed(4)}×)`,
  ];
  if (incomplete) out.push(`INCOMPLETE: ${incomplete} run(s) did not deliver all ${N} within ${DELIVERY_TIMEOUT_S} s; their rate is delivered ÷ elapsed.`);
  if (bareFailures) out.push(`NOT VALID: the bare loop had ${bareFailures} failed requests.`);
  process.stdout.write(out.join('\n') + '\n');
  const result = {
    bench: 'notify-throughput',
    db: DB_KIND,
    startedAt,
    machine: host,
    git: gitState(),
    settings: { n: N, runs: RUNS, pinned: PIN, senderCpu: SERVER_CPU, receiverCpu: LOADGEN_CPU, bareConcurrency: [CONCURRENCY, PER_ORIGIN], setupConcurrency: SETUP_CONCURRENCY, claimRows: [CLAIM_SMALL, CLAIM_ROWS], claimBatch: CLAIM_BATCH, claimSamples: CLAIM_SAMPLES },
    setupMs,
    runs,
    medians,
    claims,
    target: { minRatio: TARGET_RATIO, ratio: medians.ratio, met: !incomplete && met },
    valid: incomplete === 0 && bareFailures === 0,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
  return incomplete || bareFailures ? 1 : 0;
}

runMain(main, (RUNS * (DELIVERY_TIMEOUT_S + 300) + 900) * 1000);
