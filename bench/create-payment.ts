// Benchmark: pay-in creation (POST /api/v3/payment/create) against a bare Fastify HTTPS
// route, on durable SQLite and on PostgreSQL.
//
//   node --import tsx bench/create-payment.ts
//
// Starts the real gateway (`node bin/pagoda.mjs serve`, role all, PAGODA_LOG_LEVEL=warn,
// its own self-signed TLS, a fresh data dir) and, separately, the bare Fastify server
// (bench/bare-server.ts); only one server runs while measuring. Servers run on CPU 1,
// this process (autocannon, in-process) on CPU 0. Databases:
//   - sqlite: the embedded default (WAL, synchronous=FULL: every commit is durable) in
//     the fresh data dir;
//   - postgres: a fresh database pagoda_bench_<random> on 127.0.0.1:5432 (user
//     postgres, trust), created here and dropped at the end, PostgreSQL's own settings
//     (synchronous_commit is printed). PostgreSQL is NOT pinned: it runs on both CPUs,
//     beside the load generator and the gateway; its CPU time (from /proc) is reported.
// Per run: bare GET /bare; with SQLite, the write floor (bench/lib/write-floor.ts: the
// bare server plus a POST route that makes only the create's durable SQLite write, through
// the gateway's own repository and group commit; BENCH_FLOOR=0 leaves it out), measured
// and checked like the gateway; then for each database a gateway started on it, a token for
// the demo merchant, and POST /api/v3/payment/create with a Bearer token and a unique
// merOrderNo per request, 50 keep-alive HTTPS connections for BENCH_DURATION s after a
// 2 s warm-up. A response counts as a success only if it is 200 with "code":0, status
// PENDING and its own merOrderNo; anything else is counted and makes the result
// invalid (exit code 1). A measurement disturbed by other processes (more than 10% of
// a benchmark CPU; with PostgreSQL, of a core across both CPUs, PostgreSQL's own work
// for the benchmark excepted) is repeated, up to BENCH_ATTEMPTS times.
// After each gateway run (server stopped) the orders in the database are checked
// against the responses: every 200 has its order, no failed response has one, and
// orders = 200 responses + requests that were in flight when autocannon stopped (the
// server completed them; autocannon never read their responses).
//
// Prints per-run lines (stderr), per database a table of medians over BENCH_RUNS runs
// with ratios to the bare route of the same run, the target verdicts (≥ 0.25× bare
// req/s and p99 ≤ 50 ms), and the results as JSON on the last line of stdout.
//
// Environment: BENCH_DB=sqlite|postgres|both (default both), BENCH_DURATION (s, default
// 10), BENCH_RUNS (default 3), BENCH_ATTEMPTS (default 3), BENCH_PIN=0 to skip pinning,
// BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432; the server to create the
// database on).
// BENCH_PROFILE=1: instead, per database one measurement with the V8 profiler and a SQL
// statement timer inside the gateway (bench/lib/probe.mjs + bench/lib/probe-sql.mjs):
// where the create path's time goes. PROFILE_OUT=<dir> keeps the .cpuprofile files.
// BENCH_PROFILE_SQL=0 leaves the statement timer out (it costs a CPU-time reading per
// statement), for a profile closer to the unprofiled run.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { formatRows, summarize, type CpuProfile } from './lib/cpuprofile.ts';
import { createPathComponents } from './lib/create-profile.ts';
import { describeCreate, failuresOfCreate, IdLedger, measureCreate, type CreateMeasurement, type Phases, type UniqueScenario } from './lib/create-load.ts';
import {
  CONNECTIONS,
  failuresOf,
  freePort,
  gatewayScenarios,
  gitState,
  intEnv,
  LOADGEN_CPU,
  log,
  measureBare,
  machine,
  median,
  pinSelf,
  PIN,
  ROOT,
  runMain,
  SERVER_CPU,
  sleep,
  startBare,
  startGateway,
  stopServer,
  tempDir,
  threadCpuSeconds,
  waitReady,
  WARMUP_S,
  type Measurement,
  type Server,
} from './lib/harness.ts';

const DURATION_S = intEnv('BENCH_DURATION', 10, 300);
const RUNS = intEnv('BENCH_RUNS', 3, 20);
const ATTEMPTS = intEnv('BENCH_ATTEMPTS', 3, 10);
const PROFILE = process.env.BENCH_PROFILE === '1';
const PROFILE_SQL = process.env.BENCH_PROFILE_SQL !== '0';
const PG_BASE = (process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, '');
const TARGET_RATIO = 0.25;
const TARGET_P99_MS = 50;
/** Pause after the load before the server is stopped, for requests still in flight. */
const SETTLE_MS = 2000;

type DbKind = 'sqlite' | 'postgres';
const DBS: DbKind[] = (() => {
  const raw = (process.env.BENCH_DB || 'both').toLowerCase();
  if (raw === 'both') return ['sqlite', 'postgres'];
  if (raw === 'sqlite' || raw === 'postgres') return [raw];
  throw new Error(`BENCH_DB: expected sqlite, postgres or both, got "${raw}"`);
})();
const DB_LABEL: Record<DbKind, string> = { sqlite: 'SQLite (WAL, synchronous=FULL)', postgres: 'PostgreSQL (synchronous_commit as set)' };
const SHORT: Record<DbKind, string> = { sqlite: 'sq', postgres: 'pg' };
/** The write floor (bench/lib/write-floor.ts), measured in each run beside SQLite unless BENCH_FLOOR=0. */
const FLOOR = DBS.includes('sqlite') && process.env.BENCH_FLOOR !== '0';
const FLOOR_LABEL = 'write floor: bare route + the create\'s SQLite write';

// ---------------------------------------------------------------- the scenario

const BODY_TAIL = '","currency":"IDR","amount":"150000","payMethod":"qris","notifyUrl":"https://merchant.example/notify"}';

function createScenario(port: number, authorization: string): UniqueScenario {
  return {
    label: 'POST /api/v3/payment/create',
    url: `https://127.0.0.1:${port}/api/v3/payment/create`,
    headers: { authorization },
    body: (id) => `{"merOrderNo":"${id}${BODY_TAIL}`,
    verify: (body, id) => body.startsWith('{"code":0,') && body.includes('"status":"PENDING"') && body.includes(`"merOrderNo":"${id}"`),
  };
}

// ---------------------------------------------------------------- databases

interface PgSetup {
  name: string;
  url: string;
  settings: Record<string, string>;
}

let pgToDrop: string | undefined;

function dropWithPsql(name: string): void {
  try {
    const u = new URL(PG_BASE);
    execFileSync('psql', ['-h', u.hostname, '-p', u.port || '5432', '-U', u.username || 'postgres', '-d', 'postgres', '-qc', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`], {
      stdio: 'ignore',
      timeout: 10_000,
    });
  } catch {
    log(`bench: could not drop database ${name}; drop it by hand`);
  }
}

// Registered after the harness's exit handler, so it runs after the gateway was killed.
process.on('exit', () => {
  if (pgToDrop) dropWithPsql(pgToDrop);
});

async function withPg<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function createPgDatabase(): Promise<PgSetup> {
  const name = `pagoda_bench_${crypto.randomBytes(6).toString('hex')}`;
  await withPg(`${PG_BASE}/postgres`, (c) => c.query(`CREATE DATABASE ${name}`));
  pgToDrop = name;
  const url = `${PG_BASE}/${name}`;
  const names = ['server_version', 'synchronous_commit', 'fsync', 'wal_sync_method', 'full_page_writes', 'commit_delay', 'shared_buffers', 'max_connections', 'data_directory'];
  const settings: Record<string, string> = {};
  await withPg(url, async (c) => {
    for (const n of names) {
      try {
        settings[n] = String((await c.query(`SHOW ${n}`)).rows[0]?.[n]);
      } catch {
        settings[n] = '(not visible)';
      }
    }
  });
  return { name, url, settings };
}

async function dropPgDatabase(name: string): Promise<void> {
  await withPg(`${PG_BASE}/postgres`, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  pgToDrop = undefined;
}

/** Cpus_allowed_list of PostgreSQL's postmaster (PostgreSQL is left unpinned; this records it). */
function postmasterAffinity(): string {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.startsWith('postgres:')) continue;
      return /^Cpus_allowed_list:\s*(\S+)/m.exec(fs.readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1] ?? '?';
    } catch {
      // gone
    }
  }
  return '(postmaster not found in /proc)';
}

function filesystemOf(dir: string): string {
  try {
    const [source, type] = execFileSync('df', ['-P', '-T', dir], { encoding: 'utf8' }).trim().split('\n')[1]?.trim().split(/\s+/) ?? [];
    return `${type ?? '?'} (${source ?? '?'})`;
  } catch {
    return '?';
  }
}

// ---------------------------------------------------------------- checking orders against responses

interface OrderRowLite {
  mer_order_no: string;
  status: string;
}

interface Verification {
  /** Orders in the database with this gateway run's prefix. */
  orders: number;
  /** Responses 200 (checked body) over preflight, warm-up and measurement(s). */
  okResponses: number;
  failedResponses: number;
  /** Requests in flight when a load stopped (never answered). */
  inFlight: number;
  okWithoutOrder: number;
  /** Orders of 200 responses whose status in the database is not PENDING. */
  okNotPending: number;
  ordersOfInFlight: number;
  ordersOfFailed: number;
  ordersUnknown: number;
  /** The kept measurement alone. */
  measured: { orders: number; okResponses: number; ordersOfInFlight: number };
  statuses: Record<string, number>;
  events: number;
  passed: boolean;
}

function verify(ledgers: IdLedger[], measured: IdLedger, rows: OrderRowLite[], events: number): Verification {
  const statusOf = new Map(rows.map((r) => [r.mer_order_no, r.status]));
  const inDb = new Set(statusOf.keys());
  const statuses: Record<string, number> = {};
  for (const r of rows) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  let okResponses = 0;
  let failedResponses = 0;
  let inFlight = 0;
  let okWithoutOrder = 0;
  let okNotPending = 0;
  let ordersOfInFlight = 0;
  let ordersOfFailed = 0;
  const known = new Set<string>();
  for (const l of ledgers) {
    for (const id of l.generated) {
      known.add(id);
      const status = l.answered.get(id);
      if (status === undefined) {
        inFlight++;
        if (inDb.has(id)) ordersOfInFlight++;
      } else if (l.ok.has(id)) {
        okResponses++;
        if (!inDb.has(id)) okWithoutOrder++;
        else if (statusOf.get(id) !== 'PENDING') okNotPending++;
      } else {
        failedResponses++;
        if (inDb.has(id)) ordersOfFailed++;
      }
    }
  }
  const ordersUnknown = [...inDb].filter((id) => !known.has(id)).length;
  const mOrders = [...measured.generated].filter((id) => inDb.has(id)).length;
  const mInFlight = [...measured.generated].filter((id) => !measured.answered.has(id) && inDb.has(id)).length;
  const passed = okWithoutOrder === 0 && okNotPending === 0 && ordersOfFailed === 0 && ordersUnknown === 0 && rows.length === okResponses + ordersOfInFlight;
  return {
    orders: rows.length,
    okResponses,
    failedResponses,
    inFlight,
    okWithoutOrder,
    okNotPending,
    ordersOfInFlight,
    ordersOfFailed,
    ordersUnknown,
    measured: { orders: mOrders, okResponses: measured.ok.size, ordersOfInFlight: mInFlight },
    statuses,
    events,
    passed,
  };
}

function readSqliteOrders(file: string, prefix: string): { rows: OrderRowLite[]; events: number; journalMode: string } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const like = `${prefix}-%`;
    const rows = db.prepare('SELECT mer_order_no, status FROM orders WHERE mer_order_no LIKE ?').all(like) as OrderRowLite[];
    const events = (db.prepare('SELECT count(*) AS n FROM order_events WHERE order_no IN (SELECT order_no FROM orders WHERE mer_order_no LIKE ?)').get(like) as { n: number }).n;
    const journalMode = String(db.pragma('journal_mode', { simple: true }));
    return { rows, events: Number(events), journalMode };
  } finally {
    db.close();
  }
}

async function readPgOrders(url: string, prefix: string): Promise<{ rows: OrderRowLite[]; events: number }> {
  return withPg(url, async (c) => {
    const like = `${prefix}-%`;
    const rows = (await c.query<OrderRowLite>('SELECT mer_order_no, status FROM orders WHERE mer_order_no LIKE $1', [like])).rows;
    const events = (await c.query<{ n: string }>('SELECT count(*) AS n FROM order_events WHERE order_no IN (SELECT order_no FROM orders WHERE mer_order_no LIKE $1)', [like])).rows[0]!.n;
    return { rows, events: Number(events) };
  });
}

function describeVerification(v: Verification): string {
  const head = v.passed ? 'orders check OK' : 'ORDERS CHECK FAILED';
  const problems = [
    v.okWithoutOrder ? `${v.okWithoutOrder} 200 responses without an order` : '',
    v.okNotPending ? `${v.okNotPending} orders answered PENDING are not PENDING in the database` : '',
    v.ordersOfFailed ? `${v.ordersOfFailed} orders for requests answered with a failure` : '',
    v.ordersUnknown ? `${v.ordersUnknown} orders with this run's prefix that no request asked for` : '',
  ].filter(Boolean);
  return (
    `  ${head}: ${v.orders} orders in the database = ${v.okResponses} responses 200 + ${v.ordersOfInFlight} requests in flight when a load stopped ` +
    `(${v.inFlight} were in flight; the server completed ${v.ordersOfInFlight}); measured window alone: ${v.measured.orders} orders = ` +
    `${v.measured.okResponses} responses 200 + ${v.measured.ordersOfInFlight} in flight; statuses ${JSON.stringify(v.statuses)}; ` +
    `${v.events} history events (${(v.events / Math.max(1, v.orders)).toFixed(2)} per order)` +
    (problems.length ? `; ${problems.join('; ')}` : '')
  );
}

// ---------------------------------------------------------------- gateway runs

interface Ctx {
  tag: string;
  sqliteDir: string;
  floorDir: string;
  pgDir: string;
  pg?: PgSetup;
  masterKey: string;
}

function gatewayEnv(db: DbKind, ctx: Ctx): Record<string, string> {
  if (db === 'sqlite') return {};
  return { PAGODA_DATABASE_URL: ctx.pg!.url, PAGODA_MASTER_KEY: ctx.masterKey, PAGODA_DEMO_MERCHANT: '1' };
}

const dataDirOf = (db: DbKind, ctx: Ctx) => (db === 'sqlite' ? ctx.sqliteDir : ctx.pgDir);

interface DbRun {
  create: CreateMeasurement;
  verification: Verification;
  ratios: { rps: number; perCpu: number; perServerAndDbCpu?: number };
}

async function gatewayRun(db: DbKind, run: number, ctx: Ctx, bare: Measurement): Promise<DbRun> {
  const port = await freePort();
  const dataDir = dataDirOf(db, ctx);
  const gateway = startGateway(port, dataDir, [], gatewayEnv(db, ctx));
  return keptRun(gateway, `${ctx.tag}-${SHORT[db]}${run}`, db, bare, ctx, async () => {
    await waitReady(gateway, `https://127.0.0.1:${port}/healthz`);
    const { balance } = await gatewayScenarios(port, dataDir);
    return { scenario: createScenario(port, balance.headers!.authorization!), ordersFile: path.join(ctx.sqliteDir, 'pagoda.db') };
  });
}

/** The write floor (bench/lib/write-floor.ts) on SQLite, measured and checked like the gateway. */
async function floorRun(run: number, ctx: Ctx, bare: Measurement): Promise<DbRun> {
  const port = await freePort();
  const file = path.join(ctx.floorDir, 'floor.db');
  const server = startBare(port, { FLOOR_DB: file });
  return keptRun(server, `${ctx.tag}-fl${run}`, 'sqlite', bare, ctx, async () => {
    await waitReady(server, `https://127.0.0.1:${port}/bare`);
    const scenario: UniqueScenario = { ...createScenario(port, ''), label: FLOOR_LABEL, url: `https://127.0.0.1:${port}/floor`, headers: {} };
    return { scenario, ordersFile: file };
  });
}

/**
 * Measures `server` (up to ATTEMPTS times while disturbed, keeping the least
 * disturbed measurement), stops it, then checks the orders of the ids prefixed
 * `prefix` against the responses.
 */
async function keptRun(
  server: Server,
  prefix: string,
  db: DbKind,
  bare: Measurement,
  ctx: Ctx,
  ready: () => Promise<{ scenario: UniqueScenario; ordersFile: string }>,
): Promise<DbRun> {
  const ledgers: IdLedger[] = [];
  let kept: { m: CreateMeasurement; measured: IdLedger } | undefined;
  let ordersFile = '';
  try {
    const started = await ready();
    ordersFile = started.ordersFile;
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const phases: Phases = {
        preflight: new IdLedger(`${prefix}-a${attempt}p`),
        warmup: new IdLedger(`${prefix}-a${attempt}w`),
        measured: new IdLedger(`${prefix}-a${attempt}m`),
      };
      ledgers.push(phases.preflight, phases.warmup, phases.measured);
      const m = { ...(await measureCreate(started.scenario, server, DURATION_S, phases, db === 'postgres' ? ctx.pg!.name : undefined)), attempt };
      const line = `${describeCreate(m, bare.rps)}  [${db}]`;
      if (!kept || (kept.m.disturbed && (!m.disturbed || noise(m) < noise(kept.m)))) kept = { m, measured: phases.measured };
      if (!m.disturbed) {
        log(line);
        break;
      }
      log(line + (attempt < ATTEMPTS ? `  → attempt ${attempt}/${ATTEMPTS} disturbed, repeating` : `  → attempt ${attempt}/${ATTEMPTS} disturbed, keeping the least disturbed one`));
    }
    // Requests autocannon abandoned at the stop are still being served: let them finish
    // before stopping the server, so that the check below sees them complete.
    await sleep(SETTLE_MS);
  } finally {
    await stopServer(server);
  }
  const { m, measured } = kept!;
  const read = db === 'sqlite' ? readSqliteOrders(ordersFile, prefix) : await readPgOrders(ctx.pg!.url, prefix);
  if ('journalMode' in read && read.journalMode !== 'wal') log(`  note: SQLite journal_mode is ${read.journalMode}, not wal`);
  const verification = verify(ledgers, measured, read.rows, read.events);
  log(describeVerification(verification));
  return {
    create: m,
    verification,
    ratios: {
      rps: m.rps / bare.rps,
      perCpu: m.perServerCpuSecond / bare.perServerCpuSecond,
      perServerAndDbCpu: m.perServerAndDbCpuSecond === undefined ? undefined : m.perServerAndDbCpuSecond / bare.perServerCpuSecond,
    },
  };
}

const noise = (m: CreateMeasurement) => (m.pg ? m.foreign : Math.max(m.otherOnServerCpu, m.otherOnLoadgenCpu));

// ---------------------------------------------------------------- setup shared by both modes

async function setup(): Promise<Ctx> {
  const tag = `b${crypto.randomBytes(3).toString('hex')}`;
  const ctx: Ctx = {
    tag,
    sqliteDir: tempDir('pagoda-bench-sqlite-'),
    floorDir: tempDir('pagoda-bench-floor-'),
    pgDir: tempDir('pagoda-bench-pg-'),
    masterKey: crypto.randomBytes(32).toString('hex'),
  };
  if (DBS.includes('sqlite')) {
    const src = fs.readFileSync(path.join(ROOT, 'src', 'platform', 'db', 'database.ts'), 'utf8');
    const sync = /pragma\('synchronous = (\w+)'\)/.exec(src)?.[1] ?? 'unknown';
    const journal = /pragma\('journal_mode = (\w+)'\)/.exec(src)?.[1] ?? 'unknown';
    log(`SQLite: the gateway sets journal_mode = ${journal}, synchronous = ${sync} (src/platform/db/database.ts); data dir on ${filesystemOf(ctx.sqliteDir)}`);
  }
  if (DBS.includes('postgres')) {
    ctx.pg = await createPgDatabase();
    const s = ctx.pg.settings;
    log(`PostgreSQL ${s.server_version}: database ${ctx.pg.name} created; SHOW synchronous_commit = ${s.synchronous_commit}`);
    log(`  fsync = ${s.fsync}, wal_sync_method = ${s.wal_sync_method}, full_page_writes = ${s.full_page_writes}, commit_delay = ${s.commit_delay}, shared_buffers = ${s.shared_buffers}, max_connections = ${s.max_connections}`);
    log(`  data directory ${s.data_directory} on ${s.data_directory?.startsWith('/') ? filesystemOf(s.data_directory) : '?'}; NOT pinned: postmaster allows CPUs ${postmasterAffinity()}`);
  }
  return ctx;
}

async function teardown(ctx: Ctx): Promise<void> {
  if (ctx.pg) {
    await dropPgDatabase(ctx.pg.name);
    log(`PostgreSQL: database ${ctx.pg.name} dropped`);
  }
}

// ---------------------------------------------------------------- benchmark

async function main(): Promise<number> {
  if (PROFILE) return profileMain();
  const startedAt = new Date().toISOString();
  const host = machine();
  log(
    `bench create-payment: ${RUNS} runs × (bare, ${DBS.join(', ')}); ${CONNECTIONS} keep-alive HTTPS connections; ${WARMUP_S} s warm-up + ${DURATION_S} s each`,
  );
  log(`machine: ${host.nproc} CPUs, ${host.cpu}, Node ${host.node}, load average ${host.loadavgAtStart.join(' ')}`);
  pinSelf();
  const ctx = await setup();
  const runs: { run: number; bare: Measurement; floor?: DbRun; db: Partial<Record<DbKind, DbRun>> }[] = [];
  try {
    for (let i = 1; i <= RUNS; i++) {
      log(`run ${i}/${RUNS}`);
      const bare = await measureBare(DURATION_S, ATTEMPTS);
      const entry: (typeof runs)[number] = { run: i, bare, db: {} };
      if (FLOOR) entry.floor = await floorRun(i, ctx, bare);
      for (const db of DBS) entry.db[db] = await gatewayRun(db, i, ctx, bare);
      runs.push(entry);
    }
  } finally {
    await teardown(ctx);
  }

  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  const bareStats = {
    rps: median(runs.map((r) => r.bare.rps)),
    rpsMin: Math.min(...runs.map((r) => r.bare.rps)),
    rpsMax: Math.max(...runs.map((r) => r.bare.rps)),
    p50Ms: median(runs.map((r) => r.bare.p50Ms)),
    p99Ms: median(runs.map((r) => r.bare.p99Ms)),
    perServerCpuSecond: median(runs.map((r) => r.bare.perServerCpuSecond)),
    serverCpu: median(runs.map((r) => r.bare.serverCpu)),
    loadgenCpu: median(runs.map((r) => r.bare.loadgenCpu)),
    failedResponses: runs.reduce((n, r) => n + failuresOf(r.bare), 0),
    disturbed: runs.filter((r) => r.bare.disturbed).length,
  };
  const summarizeDb = (rs: DbRun[]) => {
      const ms = rs.map((r) => r.create);
      const of = (f: (m: CreateMeasurement) => number) => median(ms.map(f));
      const pgShares = ms.every((m) => m.pg) ? ms.map((m) => m.pg!) : undefined;
      const stats = {
        rps: of((m) => m.rps),
        rpsMin: Math.min(...ms.map((m) => m.rps)),
        rpsMax: Math.max(...ms.map((m) => m.rps)),
        p50Ms: of((m) => m.p50Ms),
        p99Ms: of((m) => m.p99Ms),
        p99MsMax: Math.max(...ms.map((m) => m.p99Ms)),
        ratioToBare: median(rs.map((r) => r.ratios.rps)),
        perServerCpuSecond: of((m) => m.perServerCpuSecond),
        perCpuRatioToBare: median(rs.map((r) => r.ratios.perCpu)),
        perServerAndDbCpuSecond: pgShares ? of((m) => m.perServerAndDbCpuSecond!) : undefined,
        perServerAndDbCpuRatioToBare: pgShares ? median(rs.map((r) => r.ratios.perServerAndDbCpu!)) : undefined,
        serverCpu: of((m) => m.serverCpu),
        loadgenCpu: of((m) => m.loadgenCpu),
        postgresCpu: pgShares ? median(pgShares.map((p) => p.total)) : undefined,
        postgresBackendsCpu: pgShares ? median(pgShares.map((p) => p.bench)) : undefined,
        postgresBackgroundCpu: pgShares ? median(pgShares.map((p) => p.background + p.exited)) : undefined,
        failedResponses: ms.reduce((n, m) => n + failuresOfCreate(m), 0),
        disturbed: ms.filter((m) => m.disturbed).length,
        ordersCheckPassed: rs.filter((r) => r.verification.passed).length,
        orders: rs.map((r) => r.verification.orders),
        okResponses: rs.map((r) => r.verification.okResponses),
        ordersOfInFlight: rs.map((r) => r.verification.ordersOfInFlight),
      };
      const reliable = rs.filter((r, i) => r.create.disturbed || runs[i]!.bare.disturbed).length * 2 < rs.length;
      const valid = stats.failedResponses === 0 && stats.ordersCheckPassed === rs.length;
      const ratioMet = stats.ratioToBare >= TARGET_RATIO;
      const p99Met = stats.p99Ms <= TARGET_P99_MS;
      const met = !valid || !reliable ? null : ratioMet && p99Met;
      return { stats, reliable, valid, ratioMet, p99Met, met };
  };
  const perDb = {} as Record<DbKind, ReturnType<typeof summarizeDb>>;
  for (const db of DBS) perDb[db] = summarizeDb(runs.map((r) => r.db[db]!));
  const floor = FLOOR ? summarizeDb(runs.map((r) => r.floor!)) : undefined;

  const statsRow = (label: string, s: ReturnType<typeof summarizeDb>['stats']) => [
    label,
    s.rps.toFixed(0),
    `${s.rpsMin.toFixed(0)}–${s.rpsMax.toFixed(0)}`,
    String(s.p50Ms),
    String(s.p99Ms),
    s.ratioToBare.toFixed(3),
    s.perServerCpuSecond.toFixed(0),
    s.perCpuRatioToBare.toFixed(3),
    s.perServerAndDbCpuSecond === undefined ? '' : s.perServerAndDbCpuSecond.toFixed(0),
    s.perServerAndDbCpuRatioToBare === undefined ? '' : s.perServerAndDbCpuRatioToBare.toFixed(3),
    pct(s.serverCpu),
    s.postgresCpu === undefined ? '' : pct(s.postgresCpu),
    pct(s.loadgenCpu),
    String(s.failedResponses),
    `${s.disturbed}/${RUNS}`,
    `${s.ordersCheckPassed}/${RUNS} ok`,
  ];

  const out: string[] = [
    '',
    `Medians of ${RUNS} runs: ${CONNECTIONS} keep-alive HTTPS connections, ${DURATION_S} s per measurement after ${WARMUP_S} s warm-up,` +
      (PIN ? ` server on CPU ${SERVER_CPU}, autocannon on CPU ${LOADGEN_CPU}; PostgreSQL unpinned (both CPUs).` : ' UNPINNED.'),
    '× bare: req/s ÷ bare req/s of the same run (median over runs); × bare/CPU-s: the same with responses per CPU-second of the',
    'server process; for PostgreSQL also per CPU-second of server + PostgreSQL. CPU: share of one core during the measurement.',
    '',
  ];
  const header = ['scenario', 'req/s', 'min–max', 'p50 ms', 'p99 ms', '× bare', 'req/server CPU-s', '× bare/CPU-s', 'req/(srv+PG) CPU-s', '× bare', 'server CPU', 'PG CPU', 'loadgen CPU', 'failed', 'disturbed', 'orders check'];
  const rows: string[][] = [
    [
      'bare Fastify GET /bare',
      bareStats.rps.toFixed(0),
      `${bareStats.rpsMin.toFixed(0)}–${bareStats.rpsMax.toFixed(0)}`,
      String(bareStats.p50Ms),
      String(bareStats.p99Ms),
      '1.00',
      bareStats.perServerCpuSecond.toFixed(0),
      '1.00',
      '',
      '',
      pct(bareStats.serverCpu),
      '',
      pct(bareStats.loadgenCpu),
      String(bareStats.failedResponses),
      `${bareStats.disturbed}/${RUNS}`,
      '',
    ],
    ...(floor ? [statsRow(FLOOR_LABEL, floor.stats)] : []),
    ...DBS.map((db) => statsRow(`create, ${db}`, perDb[db].stats)),
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  out.push(fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt), '');
  for (const db of DBS) {
    const d = perDb[db];
    const s = d.stats;
    out.push(
      `${DB_LABEL[db]}: orders per run ${s.orders.join(', ')} = responses 200 ${s.okResponses.join(', ')} + completed in-flight ${s.ordersOfInFlight.join(', ')}` +
        ` (check passed in ${s.ordersCheckPassed} of ${RUNS} runs)` +
        (s.postgresCpu === undefined
          ? ''
          : `; PostgreSQL used ${pct(s.postgresCpu)} of a core (backends ${pct(s.postgresBackendsCpu ?? 0)}, background ${pct(s.postgresBackgroundCpu ?? 0)})`),
    );
    const target = `  Target "create ≥ ${TARGET_RATIO}× bare req/s AND p99 ≤ ${TARGET_P99_MS} ms"`;
    const parts = `${s.ratioToBare.toFixed(3)}× bare: ${d.ratioMet ? 'met' : 'not met'}; p99 ${s.p99Ms} ms (median; worst run ${s.p99MsMax} ms): ${d.p99Met ? 'met' : 'not met'}`;
    if (!d.valid) out.push(`${target}: UNDETERMINED, results NOT VALID (failed responses or orders check failed; see the per-run lines). Measured ${parts}`);
    else if (!d.reliable) out.push(`${target}: UNDETERMINED (most runs disturbed). Measured ${parts}; per server CPU-s ${s.perCpuRatioToBare.toFixed(3)}×`);
    else out.push(`${target}: ${d.met ? 'MET' : 'NOT MET'} (${parts})`);
  }
  if (floor) {
    const sqliteFloor = median(runs.map((r) => r.db.sqlite!.create.rps / r.floor!.create.rps));
    out.push(
      `Write floor: ${floor.stats.ratioToBare.toFixed(3)}× bare (orders check passed in ${floor.stats.ordersCheckPassed} of ${RUNS} runs${floor.valid ? '' : '; NOT VALID'});` +
        ` create on SQLite is ${sqliteFloor.toFixed(2)}× the floor (median of the runs' ratios): the rest of the gateway's work costs the difference.`,
    );
  }
  if (bareStats.loadgenCpu > 0.9) {
    out.push(`Note: autocannon used ${pct(bareStats.loadgenCpu)} of its core on the bare route: the bare figure may be bounded by the load generator, which flatters the ratios.`);
  }
  if (DBS.includes('postgres')) {
    out.push('Note: PostgreSQL is not pinned; it shares both CPUs with the gateway (CPU 1) and autocannon (CPU 0), so its CPU comes partly out of the load generator\'s core.');
  }
  process.stdout.write(out.join('\n') + '\n');

  const valid = bareStats.failedResponses === 0 && DBS.every((db) => perDb[db].valid) && (floor?.valid ?? true);
  const result = {
    bench: 'create-payment',
    startedAt,
    machine: host,
    git: gitState(),
    settings: {
      runs: RUNS,
      attempts: ATTEMPTS,
      durationS: DURATION_S,
      warmupS: WARMUP_S,
      connections: CONNECTIONS,
      pinned: PIN,
      serverCpu: SERVER_CPU,
      loadgenCpu: LOADGEN_CPU,
      databases: DBS,
      postgres: ctx.pg ? { database: ctx.pg.name, ...ctx.pg.settings, pinned: false } : undefined,
    },
    runs,
    medians: { bare: bareStats, ...(floor ? { floor: floor.stats } : {}), ...Object.fromEntries(DBS.map((db) => [db, perDb[db].stats])) },
    targets: Object.fromEntries(
      DBS.map((db) => [db, { minRatioToBare: TARGET_RATIO, maxP99Ms: TARGET_P99_MS, ratio: perDb[db].stats.ratioToBare, p99Ms: perDb[db].stats.p99Ms, ratioMet: perDb[db].ratioMet, p99Met: perDb[db].p99Met, reliable: perDb[db].reliable, met: perDb[db].met }]),
    ),
    valid,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
  return valid ? 0 : 1;
}

// ---------------------------------------------------------------- profile mode

const PROBE = path.join(ROOT, 'bench', 'lib', 'probe.mjs');
const PROBE_SQL = path.join(ROOT, 'bench', 'lib', 'probe-sql.mjs');

async function waitForFile(file: string, server: Server): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (fs.existsSync(file)) return;
    if (server.child.exitCode !== null) throw new Error(`gateway exited:\n${server.stderrTail()}`);
    await sleep(50);
  }
  throw new Error(`probe did not write ${path.basename(file)} within 15 s:\n${server.stderrTail()}`);
}

interface SqlStat {
  count: number;
  wallMs: number;
  cpuMs: number;
  cpuMeasured: boolean;
}

async function profileMain(): Promise<number> {
  const host = machine();
  log(`create-payment profile: ${DBS.join(', ')}; ${DURATION_S} s each; ${host.nproc} CPUs, ${host.cpu}, Node ${host.node}, load average ${host.loadavgAtStart.join(' ')}`);
  pinSelf();
  const ctx = await setup();
  const outDir = process.env.PROFILE_OUT ? path.resolve(process.env.PROFILE_OUT) : undefined;
  if (outDir) fs.mkdirSync(outDir, { recursive: true });
  try {
    for (const db of DBS) {
      const probeDir = tempDir('pagoda-probe-');
      const port = await freePort();
      const dataDir = dataDirOf(db, ctx);
      const gateway = startGateway(port, dataDir, ['--import', PROBE, ...(PROFILE_SQL ? ['--import', PROBE_SQL] : [])], { ...gatewayEnv(db, ctx), BENCH_PROBE_DIR: probeDir });
      const prefix = `${ctx.tag}-${SHORT[db]}prof`;
      const phases: Phases = { preflight: new IdLedger(`${prefix}-p`), warmup: new IdLedger(`${prefix}-w`), measured: new IdLedger(`${prefix}-m`) };
      let threads0 = new Map<string, number>();
      let threads1 = new Map<string, number>();
      let m: CreateMeasurement;
      try {
        await waitReady(gateway, `https://127.0.0.1:${port}/healthz`);
        const { balance } = await gatewayScenarios(port, dataDir);
        const scenario = createScenario(port, balance.headers!.authorization!);
        m = await measureCreate(scenario, gateway, DURATION_S, phases, db === 'postgres' ? ctx.pg!.name : undefined, {
          before: async () => {
            gateway.child.kill('SIGUSR2');
            await waitForFile(path.join(probeDir, 'window-1.started'), gateway);
            threads0 = threadCpuSeconds(gateway.pid);
          },
          after: async () => {
            threads1 = threadCpuSeconds(gateway.pid);
            gateway.child.kill('SIGUSR2');
            await waitForFile(path.join(probeDir, 'window-1.done'), gateway);
            if (PROFILE_SQL) await waitForFile(path.join(probeDir, 'window-1.sql.json'), gateway);
          },
        });
        await sleep(SETTLE_MS);
      } finally {
        await stopServer(gateway);
      }
      const profile = JSON.parse(fs.readFileSync(path.join(probeDir, 'window-1.cpuprofile'), 'utf8')) as CpuProfile;
      const sql = PROFILE_SQL ? (JSON.parse(fs.readFileSync(path.join(probeDir, 'window-1.sql.json'), 'utf8')) as { eventLoopUtilization: number; statements: Record<string, SqlStat> }) : undefined;
      if (outDir) fs.copyFileSync(path.join(probeDir, 'window-1.cpuprofile'), path.join(outDir, `create-${db}.cpuprofile`));

      const lines: string[] = ['', `=== POST /api/v3/payment/create on ${DB_LABEL[db]} (under the profiler)`, describeCreate(m)];
      const threadCpu = [...threads1].map(([name, s]) => [name, s - (threads0.get(name) ?? 0)] as const).filter(([, s]) => s > 0.005);
      const cpuTotal = threadCpu.reduce((a, [, s]) => a + s, 0);
      lines.push(`CPU by server thread over ${m.seconds} s (${cpuTotal.toFixed(2)} CPU-s in all, ${((cpuTotal / m.requests) * 1e6).toFixed(0)} µs per response):`);
      for (const [name, s] of threadCpu.sort((a, b) => b[1] - a[1])) lines.push(`  ${((s / cpuTotal) * 100).toFixed(1).padStart(5)}%  ${s.toFixed(2)} s  ${name}`);
      if (m.pg) lines.push(`PostgreSQL CPU: ${((m.pg.total * m.seconds * 1e6) / m.requests).toFixed(0)} µs per response (${(m.pg.total * 100).toFixed(0)}% of a core)`);
      if (sql) {
        lines.push(`Main thread event-loop utilization: ${(sql.eventLoopUtilization * 100).toFixed(1)}% (busy, incl. time blocked in synchronous calls such as SQLite's fsync)`);
        const stmts = Object.entries(sql.statements);
        const totalCount = stmts.filter(([k]) => !k.includes('Pool#connect')).reduce((a, [, s]) => a + s.count, 0);
        lines.push(`SQL statements executed per response: ${(totalCount / m.requests).toFixed(2)} (window: ${m.seconds} s, ${m.requests} responses)`);
        lines.push('  per resp.   µs each (wall)   wall ms/s   [CPU µs each]  statement');
        for (const [k, s] of stmts.slice(0, 30)) {
          lines.push(
            `  ${(s.count / m.requests).toFixed(3).padStart(8)}  ${((s.wallMs * 1000) / s.count).toFixed(1).padStart(14)}  ${(s.wallMs / m.seconds).toFixed(0).padStart(10)}` +
              `   ${s.cpuMeasured ? ((s.cpuMs * 1000) / s.count).toFixed(1).padStart(12) : ''.padStart(12)}  ${k}`,
          );
        }
      }
      const summary = summarize(profile, ROOT);
      lines.push(`Main-thread profile: ${summary.totalMs.toFixed(0)} ms sampled`);
      lines.push(formatRows('Main-thread time by component of the create path (from the whole stack):', createPathComponents(profile, ROOT)));
      lines.push(formatRows('Self time by origin:', summary.selfByOrigin));
      lines.push(formatRows('Self time by function:', summary.selfByFunction));
      lines.push(formatRows('Inclusive time by function (synchronous callees only):', summary.inclusiveByFunction));
      process.stdout.write(lines.join('\n') + '\n');
    }
  } finally {
    await teardown(ctx);
  }
  return 0;
}

const perMeasurementS = DURATION_S + WARMUP_S + 10;
runMain(
  main,
  PROFILE
    ? (DBS.length * (perMeasurementS + 90) + 60) * 1000
    : (RUNS * (ATTEMPTS * perMeasurementS * (1 + DBS.length) + 90 * (1 + DBS.length)) + 60) * 1000,
);
