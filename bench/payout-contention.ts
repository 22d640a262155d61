// Benchmark: payout creation (POST /api/v3/payout/create) under contention, against a
// bare Fastify HTTPS route, on durable SQLite and/or PostgreSQL.
//
//   node --import tsx bench/payout-contention.ts
//
// Setup per database (before any server runs): 50 merchants plus 1 "hot" merchant are
// created with the CLI (`pagoda merchant create --currencies MXN --json`) and each is
// funded with `pagoda balance adjust --account payout --amount 100000000` (no 422s).
// The gateway (`node bin/pagoda.mjs serve`, role all, PAGODA_LOG_LEVEL=warn,
// PAGODA_SANDBOX_PAYOUT_DELAY=1h so sandbox completion does not run meanwhile) is pinned
// to CPU 1, autocannon (in this process) to CPU 0, via bench/lib/harness.ts; the bare
// route is measured in the same run. PostgreSQL (fresh database on 127.0.0.1:5432, user
// postgres, dropped at the end) is not pinned; its CPU is reported.
// Scenarios, 50 keep-alive HTTPS connections, 2 s warm-up + BENCH_DURATION s:
//   many: each request uses the next of the 50 merchants' tokens (round-robin);
//   hot:  every request on the hot merchant (all serialize on its payout balance row).
// Every request has a unique merOrderNo; a success is 200 with "code":0 and its own
// merOrderNo. After each gateway run (server stopped): orders in the database are
// checked against the responses (orders = 200 responses + requests in flight at the
// stop that the server completed), and `pagoda ledger check` must exit 0.
//
// Environment: BENCH_DB=sqlite|postgres|both (default sqlite), BENCH_DURATION (default
// 10), BENCH_RUNS (default 3), BENCH_ATTEMPTS (default 3), BENCH_PIN=0, BENCH_PG_URL;
// BENCH_CPU_PROF=<dir>: the gateway writes V8 CPU profiles of its threads there (--cpu-prof).
import { execFile, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { IdLedger, pgCpuBetween, samplePostgres, type PgCpu } from './lib/create-load.ts';
import {
  cpuTaskSeconds,
  autocannon,
  call,
  CONNECTIONS,
  DISTURBED_SHARE,
  failuresOf,
  freePort,
  gitState,
  intEnv,
  LOADGEN_CPU,
  log,
  measureBare,
  machine,
  median,
  pinSelf,
  PIN,
  processCpuSeconds,
  ROOT,
  runMain,
  SERVER_CPU,
  sleep,
  startGateway,
  stopServer,
  tempDir,
  waitReady,
  WARMUP_S,
  type CannonResult,
  type Measurement,
  type Server,
} from './lib/harness.ts';

const DURATION_S = intEnv('BENCH_DURATION', 10, 300);
const RUNS = intEnv('BENCH_RUNS', 3, 20);
const ATTEMPTS = intEnv('BENCH_ATTEMPTS', 3, 10);
const PG_BASE = (process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, '');
const MANY = 50;
const FUND = '100000000';
const TARGET_MANY = 0.2;
const SETTLE_MS = 2000;
const OTHER_BENCHES = 'bench/create-payment.ts|bench/notify-throughput.ts|bench/auth-balance.ts';

type DbKind = 'sqlite' | 'postgres';
type Key = 'many' | 'hot';
const KEYS: Key[] = ['many', 'hot'];
const LABEL: Record<Key, string> = { many: `payout create, ${MANY} merchants`, hot: 'payout create, 1 hot merchant' };
const DBS: DbKind[] = (() => {
  const raw = (process.env.BENCH_DB || 'sqlite').toLowerCase();
  if (raw === 'both') return ['sqlite', 'postgres'];
  if (raw === 'sqlite' || raw === 'postgres') return [raw];
  throw new Error(`BENCH_DB: expected sqlite, postgres or both, got "${raw}"`);
})();

// ---------------------------------------------------------------- databases and CLI

interface Db {
  kind: DbKind;
  dataDir: string;
  env: Record<string, string>;
  pgName?: string;
  pgUrl?: string;
  many: Creds[];
  hot?: Creds;
}
interface Creds {
  merchantId: string;
  appId: string;
  appSecret: string;
}

let pgToDrop: string | undefined;
process.on('exit', () => {
  if (!pgToDrop) return;
  const u = new URL(PG_BASE);
  spawnSync('psql', ['-h', u.hostname, '-p', u.port || '5432', '-U', u.username || 'postgres', '-d', 'postgres', '-qc', `DROP DATABASE IF EXISTS ${pgToDrop} WITH (FORCE)`], { stdio: 'ignore' });
});

async function withPg<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

function cliEnv(db: Pick<Db, 'dataDir' | 'env'>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PAGODA_') && k !== 'NODE_OPTIONS') env[k] = v;
  return { ...env, PAGODA_DATA_DIR: db.dataDir, PAGODA_LOG_LEVEL: 'warn', ...db.env };
}

function cli(db: Pick<Db, 'dataDir' | 'env'>, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['bin/pagoda.mjs', ...args], { cwd: ROOT, env: cliEnv(db), maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`pagoda ${args.slice(0, 2).join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

async function newMerchant(db: Db, name: string): Promise<Creds> {
  const c = JSON.parse(await cli(db, ['merchant', 'create', '--name', name, '--currencies', 'MXN', '--json'])) as Creds;
  await cli(db, ['balance', 'adjust', '--merchant', c.merchantId, '--currency', 'MXN', '--account', 'payout', '--amount', FUND, '--reason', 'payout-contention bench funding']);
  return c;
}

async function setupDb(kind: DbKind): Promise<Db> {
  const db: Db = { kind, dataDir: tempDir(`pagoda-bench-payout-${kind}-`), env: {}, many: [] };
  if (kind === 'postgres') {
    const name = `pagoda_bench_${crypto.randomBytes(6).toString('hex')}`;
    await withPg(`${PG_BASE}/postgres`, (c) => c.query(`CREATE DATABASE ${name}`));
    pgToDrop = name;
    db.pgName = name;
    db.pgUrl = `${PG_BASE}/${name}`;
    db.env = { PAGODA_DATABASE_URL: db.pgUrl, PAGODA_MASTER_KEY: crypto.randomBytes(32).toString('hex') };
  }
  const t0 = Date.now();
  // The first one creates the schema; the rest 4 at a time.
  db.hot = await newMerchant(db, 'bench-hot');
  let next = 0;
  const worker = async () => {
    while (next < MANY) {
      const i = next++;
      db.many[i] = await newMerchant(db, `bench-m${i}`);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  log(`  ${kind}: ${MANY} + 1 merchants created and funded with ${FUND} MXN each (payout) in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return db;
}

async function ledgerCheck(db: Db): Promise<{ exitCode: number; output: string }> {
  const r = spawnSync(process.execPath, ['bin/pagoda.mjs', 'ledger', 'check'], { cwd: ROOT, env: cliEnv(db), encoding: 'utf8' });
  return { exitCode: r.status ?? -1, output: `${r.stdout}${r.stderr}`.trim().split('\n').slice(-5).join(' | ') };
}

async function ordersWithPrefix(db: Db, prefix: string): Promise<Set<string>> {
  const like = `${prefix}-%`;
  const sql = "SELECT mer_order_no FROM orders WHERE direction = 'payout' AND mer_order_no LIKE ";
  if (db.kind === 'sqlite') {
    const d = new Database(path.join(db.dataDir, 'pagoda.db'), { readonly: true, fileMustExist: true });
    try {
      return new Set((d.prepare(sql + '?').all(like) as { mer_order_no: string }[]).map((r) => r.mer_order_no));
    } finally {
      d.close();
    }
  }
  return withPg(db.pgUrl!, async (c) => new Set((await c.query<{ mer_order_no: string }>(sql + '$1', [like])).rows.map((r) => r.mer_order_no)));
}

// ---------------------------------------------------------------- load

const BODY_TAIL =
  '","currency":"MXN","amount":"10.00","payMethod":"MX_SPEI","notifyUrl":"https://merchant.example/notify","extra":{"accountName":"Ana Lopez","accountNo":"002010077777777771"}}';
const bodyOf = (id: string) => `{"merOrderNo":"${id}${BODY_TAIL}`;
const okBody = (body: string, id: string) => body.startsWith('{"code":0,') && body.includes(`"merOrderNo":"${id}"`);

async function tokenOf(port: number, c: Creds): Promise<string> {
  const res = await call(`https://127.0.0.1:${port}/api/v3/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', app_id: c.appId, app_secret: c.appSecret }),
  });
  const jwt = (JSON.parse(res.body) as { data?: { token?: string } }).data?.token;
  if (res.status !== 200 || !jwt) throw new Error(`no token for ${c.merchantId}: ${res.status} ${res.body.slice(0, 300)}`);
  return `Bearer ${jwt}`;
}

interface Req {
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  setupRequest: (req: Req, ctx: { id?: string }) => Req;
  onResponse: (status: number, body: string, ctx: { id?: string }) => void;
}
const runCannon = autocannon as unknown as (o: Record<string, unknown>) => PromiseLike<CannonResult>;

/** 50 connections for durationS; each request a fresh id and the next token (round-robin). */
function load(url: string, tokens: string[], ids: IdLedger, durationS: number): PromiseLike<CannonResult> {
  let turn = 0;
  const u = new URL(url);
  const req: Req = {
    method: 'POST',
    path: u.pathname,
    headers: { 'content-type': 'application/json' },
    setupRequest(r, ctx) {
      const id = ids.next();
      ctx.id = id;
      const authorization = tokens[turn++ % tokens.length]!;
      return { ...r, headers: { ...r.headers, authorization }, body: bodyOf(id) };
    },
    onResponse(status, body, ctx) {
      if (ctx.id === undefined) return;
      ids.answered.set(ctx.id, status);
      if (status === 200 && okBody(body, ctx.id)) ids.ok.add(ctx.id);
    },
  };
  return runCannon({ url: u.origin, connections: CONNECTIONS, duration: durationS, pipelining: 1, timeout: 10, requests: [req], verifyBody: (b: string) => b.startsWith('{"code":0,') });
}

interface PayoutMeasurement {
  key: Key;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  okResponses: number;
  failedResponses: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  inFlightAtStop: number;
  warmupFailures: number;
  serverCpu: number;
  loadgenCpu: number;
  pgCpu?: number;
  foreign: number;
  disturbed: boolean;
  attempt: number;
  perServerCpuSecond: number;
  perServerAndDbCpuSecond?: number;
  /** Filled in after the server stopped. */
  orders?: number;
  ordersOfInFlight?: number;
  ordersCheck?: boolean;
}

const failuresOfP = (m: PayoutMeasurement) => m.failedResponses + m.errors + m.timeouts;

async function measurePayout(key: Key, url: string, tokens: string[], server: Server, db: Db, ledgers: { warm: IdLedger; measured: IdLedger }): Promise<PayoutMeasurement> {
  const warm = await load(url, tokens, ledgers.warm, WARMUP_S);
  const ids = ledgers.measured;
  const cpu0 = process.cpuUsage();
  const server0 = processCpuSeconds(server.pid);
  const pg0 = db.pgName ? samplePostgres(db.pgName) : undefined;
  const core0 = cpuTaskSeconds(SERVER_CPU);
  const lg0 = cpuTaskSeconds(LOADGEN_CPU);
  const t0 = performance.now();
  const r = await load(url, tokens, ids, DURATION_S);
  const wall = (performance.now() - t0) / 1000;
  const serverS = processCpuSeconds(server.pid) - server0;
  const coreS = cpuTaskSeconds(SERVER_CPU) - core0;
  const lgCoreS = cpuTaskSeconds(LOADGEN_CPU) - lg0;
  const pgCpu: PgCpu | undefined = pg0 ? pgCpuBetween(pg0, samplePostgres(db.pgName!)) : undefined;
  const c = process.cpuUsage(cpu0);
  const lgS = (c.user + c.system) / 1e6;
  const foreignS = coreS + lgCoreS - serverS - lgS - (pgCpu?.total ?? 0);
  const otherServer = Math.max(0, coreS - serverS) / wall;
  const otherLg = Math.max(0, lgCoreS - lgS) / wall;
  const statusCodes: Record<string, number> = {};
  for (const [code, s] of Object.entries(r.statusCodeStats)) statusCodes[code] = s.count;
  return {
    key,
    rps: r.requests.total / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    requests: r.requests.total,
    okResponses: ids.ok.size,
    failedResponses: ids.answered.size - ids.ok.size,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes,
    inFlightAtStop: ids.generated.size - ids.answered.size,
    warmupFailures: ledgers.warm.answered.size - ledgers.warm.ok.size + warm.errors + warm.timeouts,
    serverCpu: serverS / wall,
    loadgenCpu: lgS / wall,
    pgCpu: pgCpu && pgCpu.total / wall,
    foreign: Math.max(0, foreignS / wall),
    disturbed: PIN && (pgCpu ? foreignS / wall > DISTURBED_SHARE : otherServer > DISTURBED_SHARE || (otherLg > DISTURBED_SHARE && lgCoreS / wall > 0.9)),
    attempt: 1,
    perServerCpuSecond: serverS > 0 ? r.requests.total / serverS : 0,
    perServerAndDbCpuSecond: pgCpu && serverS + pgCpu.total > 0 ? r.requests.total / (serverS + pgCpu.total) : undefined,
  };
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
function describeP(m: PayoutMeasurement, bare: Measurement): string {
  const f = failuresOfP(m);
  return (
    `  ${LABEL[m.key].padEnd(32)} ${m.rps.toFixed(0).padStart(6)} req/s (${(m.rps / bare.rps).toFixed(3)}× bare)  p50 ${m.p50Ms} ms  p99 ${m.p99Ms} ms` +
    `  CPU: server ${pct(m.serverCpu)}, loadgen ${pct(m.loadgenCpu)}${m.pgCpu === undefined ? '' : `, PostgreSQL ${pct(m.pgCpu)}`}` +
    `  ${m.perServerCpuSecond.toFixed(0)} req/server CPU-s  ${m.inFlightAtStop} in flight at stop  ` +
    (f ? `FAILED: ${m.failedResponses} bad responses, ${m.errors} errors, ${m.timeouts} timeouts; statuses ${JSON.stringify(m.statusCodes)}` : 'ok') +
    (m.warmupFailures ? ` (warm-up: ${m.warmupFailures} failed)` : '') +
    (m.disturbed ? ` DISTURBED (other processes: ${pct(m.foreign)} of a core)` : '')
  );
}

// ---------------------------------------------------------------- one run

interface DbRun {
  many: PayoutMeasurement;
  hot: PayoutMeasurement;
  ledgerCheck: { exitCode: number; output: string };
}

async function gatewayRun(db: Db, run: number, tag: string, bare: Measurement): Promise<DbRun> {
  const session = `${tag}-${db.kind[0]}${run}`; // every id of this server session starts with `${session}-`
  const port = await freePort();
  const gateway = startGateway(port, db.dataDir, process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [], { ...db.env, PAGODA_SANDBOX_PAYOUT_DELAY: '1h' });
  const url = `https://127.0.0.1:${port}/api/v3/payout/create`;
  const all: IdLedger[] = [];
  const kept = {} as Record<Key, { m: PayoutMeasurement; ledger: IdLedger; prefix: string }>;
  try {
    await waitReady(gateway, `https://127.0.0.1:${port}/healthz`);
    const manyTokens: string[] = [];
    for (const c of db.many) manyTokens.push(await tokenOf(port, c));
    const hotTokens = [await tokenOf(port, db.hot!)];
    for (const key of KEYS) {
      const tokens = key === 'many' ? manyTokens : hotTokens;
      // Preflight: one request by hand.
      const pre = new IdLedger(`${session}-${key[0]}p`);
      all.push(pre);
      const id = pre.next();
      const res = await call(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: tokens[0]! }, body: bodyOf(id) });
      pre.answered.set(id, res.status);
      if (res.status !== 200 || !okBody(res.body, id)) throw new Error(`${LABEL[key]}: expected 200 with "code":0, got ${res.status} ${res.body.slice(0, 300)}`);
      pre.ok.add(id);
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        const prefix = `${session}-${key[0]}${attempt}`;
        const ledgers = { warm: new IdLedger(`${prefix}w`), measured: new IdLedger(`${prefix}m`) };
        all.push(ledgers.warm, ledgers.measured);
        const m = { ...(await measurePayout(key, url, tokens, gateway, db, ledgers)), attempt };
        const prev = kept[key];
        if (!prev || (prev.m.disturbed && (!m.disturbed || m.foreign < prev.m.foreign))) kept[key] = { m, ledger: ledgers.measured, prefix: `${prefix}m` };
        log(describeP(m, bare) + `  [${db.kind}]` + (m.disturbed ? `  → attempt ${attempt}/${ATTEMPTS} disturbed${attempt < ATTEMPTS ? ', repeating' : ''}` : ''));
        if (!m.disturbed) break;
      }
      await sleep(SETTLE_MS); // let requests abandoned at the stop finish
    }
  } finally {
    await stopServer(gateway);
  }
  // Orders check: every ledger of this server session, then the kept measurements.
  const inDb = await ordersWithPrefix(db, session);
  let ok = 0;
  let completedInFlight = 0;
  let problems = 0;
  const known = new Set<string>();
  for (const l of all) {
    for (const id of l.generated) {
      known.add(id);
      if (l.ok.has(id)) {
        ok++;
        if (!inDb.has(id)) problems++;
      } else if (l.answered.has(id)) {
        if (inDb.has(id)) problems++;
      } else if (inDb.has(id)) completedInFlight++;
    }
  }
  for (const id of inDb) if (!known.has(id)) problems++;
  const sessionOk = problems === 0 && inDb.size === ok + completedInFlight;
  log(
    `  orders check (${db.kind}, whole session): ${inDb.size} payout orders = ${ok} responses 200 + ${completedInFlight} completed in-flight requests` +
      ` → ${sessionOk ? 'OK' : `FAILED (${problems} mismatched ids)`}`,
  );
  for (const key of KEYS) {
    const { m, ledger, prefix } = kept[key];
    const orders = [...inDb].filter((id) => id.startsWith(`${prefix}-`)).length;
    const ofInFlight = [...ledger.generated].filter((id) => !ledger.answered.has(id) && inDb.has(id)).length;
    m.orders = orders;
    m.ordersOfInFlight = ofInFlight;
    m.ordersCheck = sessionOk && orders === ledger.ok.size + ofInFlight && m.okResponses === ledger.ok.size;
    log(`    ${LABEL[key]}: orders created ${orders}, responses 200 ${ledger.ok.size}, completed in-flight ${ofInFlight} → ${m.ordersCheck ? 'OK' : 'MISMATCH'}`);
  }
  const lc = await ledgerCheck(db);
  log(`  pagoda ledger check (${db.kind}): exit ${lc.exitCode}: ${lc.output}`);
  return { many: kept.many.m, hot: kept.hot.m, ledgerCheck: lc };
}

// ---------------------------------------------------------------- main

async function waitForOtherBenches(): Promise<void> {
  for (let i = 0; i <= 60; i++) {
    const r = spawnSync('pgrep', ['-f', OTHER_BENCHES], { encoding: 'utf8' });
    const pids = r.stdout.split('\n').filter((p) => p && Number(p) !== process.pid);
    if (pids.length === 0) return;
    if (i === 60) throw new Error(`other benchmarks still running after 10 minutes (pids ${pids.join(' ')})`);
    if (i === 0) log(`bench: waiting for other benchmarks to finish (pids ${pids.join(' ')}), polling every 10 s`);
    await sleep(10_000);
  }
}

async function main(): Promise<number> {
  const startedAt = new Date().toISOString();
  const host = machine();
  log(`bench payout-contention: ${RUNS} runs × (bare, ${DBS.map((d) => `${d}: many, hot`).join('; ')}); ${CONNECTIONS} keep-alive HTTPS connections; ${WARMUP_S} s warm-up + ${DURATION_S} s each`);
  log(`machine: ${host.nproc} CPUs, ${host.cpu}, Node ${host.node}, load average ${host.loadavgAtStart.join(' ')}`);
  pinSelf();
  const tag = `pc${crypto.randomBytes(3).toString('hex')}`;
  const dbs: Db[] = [];
  for (const kind of DBS) dbs.push(await setupDb(kind));
  await waitForOtherBenches();
  const runs: { run: number; bare: Measurement; db: Partial<Record<DbKind, DbRun>> }[] = [];
  try {
    for (let i = 1; i <= RUNS; i++) {
      log(`run ${i}/${RUNS}`);
      const bare = await measureBare(DURATION_S, ATTEMPTS);
      const entry: (typeof runs)[number] = { run: i, bare, db: {} };
      for (const db of dbs) entry.db[db.kind] = await gatewayRun(db, i, tag, bare);
      runs.push(entry);
    }
  } finally {
    for (const db of dbs) {
      if (db.pgName) {
        await withPg(`${PG_BASE}/postgres`, (c) => c.query(`DROP DATABASE IF EXISTS ${db.pgName} WITH (FORCE)`)).catch(() => log(`could not drop ${db.pgName}`));
        pgToDrop = undefined;
      }
    }
  }

  const bareRps = runs.map((r) => r.bare.rps);
  const summary: Record<string, unknown> = {
    bare: { rps: median(bareRps), rpsMin: Math.min(...bareRps), rpsMax: Math.max(...bareRps), p50Ms: median(runs.map((r) => r.bare.p50Ms)), p99Ms: median(runs.map((r) => r.bare.p99Ms)), perServerCpuSecond: median(runs.map((r) => r.bare.perServerCpuSecond)), failed: runs.reduce((n, r) => n + failuresOf(r.bare), 0), disturbed: runs.filter((r) => r.bare.disturbed).length },
  };
  const header = ['scenario', 'req/s', 'min–max', 'p50 ms', 'p99 ms', '× bare', 'req/server CPU-s', '× bare/CPU-s', 'server CPU', 'PG CPU', 'failed', 'disturbed', 'orders=200s', 'ledger check'];
  const b = summary.bare as { rps: number; rpsMin: number; rpsMax: number; p50Ms: number; p99Ms: number; perServerCpuSecond: number; failed: number; disturbed: number };
  const rows: string[][] = [['bare Fastify GET /bare', b.rps.toFixed(0), `${b.rpsMin.toFixed(0)}–${b.rpsMax.toFixed(0)}`, String(b.p50Ms), String(b.p99Ms), '1.00', b.perServerCpuSecond.toFixed(0), '1.00', pct(median(runs.map((r) => r.bare.serverCpu))), '', String(b.failed), `${b.disturbed}/${RUNS}`, '', '']];
  let valid = b.failed === 0;
  const verdicts: string[] = [];
  for (const kind of DBS) {
    const ledgerOk = runs.filter((r) => r.db[kind]!.ledgerCheck.exitCode === 0).length;
    if (ledgerOk !== RUNS) valid = false;
    for (const key of KEYS) {
      const ms = runs.map((r) => r.db[kind]![key]);
      const ratios = runs.map((r) => r.db[kind]![key].rps / r.bare.rps);
      const cpuRatios = runs.map((r) => r.db[kind]![key].perServerCpuSecond / r.bare.perServerCpuSecond);
      const s = {
        rps: median(ms.map((m) => m.rps)),
        rpsMin: Math.min(...ms.map((m) => m.rps)),
        rpsMax: Math.max(...ms.map((m) => m.rps)),
        p50Ms: median(ms.map((m) => m.p50Ms)),
        p99Ms: median(ms.map((m) => m.p99Ms)),
        ratioToBare: median(ratios),
        ratioMin: Math.min(...ratios),
        ratioMax: Math.max(...ratios),
        perServerCpuSecond: median(ms.map((m) => m.perServerCpuSecond)),
        perCpuRatioToBare: median(cpuRatios),
        perServerAndDbCpuSecond: kind === 'postgres' ? median(ms.map((m) => m.perServerAndDbCpuSecond ?? 0)) : undefined,
        serverCpu: median(ms.map((m) => m.serverCpu)),
        pgCpu: kind === 'postgres' ? median(ms.map((m) => m.pgCpu ?? 0)) : undefined,
        failed: ms.reduce((n, m) => n + failuresOfP(m), 0),
        disturbed: ms.filter((m) => m.disturbed).length,
        ordersCheckPassed: ms.filter((m) => m.ordersCheck).length,
        orders: ms.map((m) => m.orders),
        okResponses: ms.map((m) => m.okResponses),
        ordersOfInFlight: ms.map((m) => m.ordersOfInFlight),
        ledgerCheckPassed: ledgerOk,
      };
      summary[`${kind}.${key}`] = s;
      if (s.failed || s.ordersCheckPassed !== RUNS) valid = false;
      rows.push([`${LABEL[key]}, ${kind}`, s.rps.toFixed(0), `${s.rpsMin.toFixed(0)}–${s.rpsMax.toFixed(0)}`, String(s.p50Ms), String(s.p99Ms), `${s.ratioToBare.toFixed(3)}`, s.perServerCpuSecond.toFixed(0), s.perCpuRatioToBare.toFixed(3), pct(s.serverCpu), s.pgCpu === undefined ? '' : pct(s.pgCpu), String(s.failed), `${s.disturbed}/${RUNS}`, `${s.ordersCheckPassed}/${RUNS}`, `${ledgerOk}/${RUNS} exit 0`]);
      if (key === 'many') {
        const reliable = runs.filter((r) => r.bare.disturbed || r.db[kind]!.many.disturbed).length * 2 < RUNS;
        const state = s.failed || s.ordersCheckPassed !== RUNS ? 'UNDETERMINED (failures or orders check failed)' : !reliable ? 'UNDETERMINED (most runs disturbed)' : s.ratioToBare >= TARGET_MANY ? 'MET' : 'NOT MET';
        verdicts.push(`${kind}: target "${MANY} merchants ≥ ${TARGET_MANY}× bare req/s": ${state} (${s.ratioToBare.toFixed(3)}×, runs ${s.ratioMin.toFixed(3)}–${s.ratioMax.toFixed(3)}; per server CPU-s ${s.perCpuRatioToBare.toFixed(3)}×)`);
      } else {
        verdicts.push(`${kind}: 1 hot merchant (no target): ${s.rps.toFixed(0)} req/s (${s.ratioToBare.toFixed(3)}× bare), p99 ${s.p99Ms} ms`);
      }
      verdicts.push(`  orders per run ${s.orders.join(', ')} = responses 200 ${s.okResponses.join(', ')} + completed in-flight ${s.ordersOfInFlight.join(', ')}`);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [
    '',
    `Medians of ${RUNS} runs: ${CONNECTIONS} keep-alive HTTPS connections, ${DURATION_S} s after ${WARMUP_S} s warm-up,` +
      (PIN ? ` server on CPU ${SERVER_CPU}, autocannon on CPU ${LOADGEN_CPU}${DBS.includes('postgres') ? '; PostgreSQL unpinned' : ''}.` : ' UNPINNED.'),
    '× bare: req/s ÷ bare req/s of the same run (median); × bare/CPU-s: the same per CPU-second of the server process.',
    '',
    fmt(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(fmt),
    '',
    ...verdicts,
    valid ? '' : 'NOT VALID: failed responses, an orders check or a ledger check failed; see the per-run lines.',
  ];
  process.stdout.write(out.join('\n') + '\n');
  const result = {
    bench: 'payout-contention',
    startedAt,
    machine: host,
    git: gitState(),
    settings: { runs: RUNS, attempts: ATTEMPTS, durationS: DURATION_S, warmupS: WARMUP_S, connections: CONNECTIONS, merchants: MANY, pinned: PIN, serverCpu: SERVER_CPU, loadgenCpu: LOADGEN_CPU, databases: DBS, sandboxPayoutDelay: '1h' },
    runs,
    medians: summary,
    valid,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
  return valid ? 0 : 1;
}

runMain(main, (300 * DBS.length + RUNS * (ATTEMPTS * (DURATION_S + WARMUP_S + 10) * (1 + 2 * DBS.length) + 120 * DBS.length) + 660) * 1000);
