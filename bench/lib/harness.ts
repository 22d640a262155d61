// Shared machinery of the benchmarks: server children pinned to one CPU, the load
// generator (autocannon, in this process) pinned to the other, measurements with
// failure accounting and CPU shares, cleanup on every way out.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Agent, request } from 'undici';

// ---------------------------------------------------------------- autocannon (untyped)

export interface CannonOptions {
  url: string;
  connections: number;
  duration: number;
  pipelining: number;
  timeout: number;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  verifyBody?: (body: string) => boolean;
}

export interface CannonResult {
  duration: number;
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number; max: number };
  errors: number;
  timeouts: number;
  mismatches: number;
  non2xx: number;
  resets: number;
  statusCodeStats: Record<string, { count: number }>;
}

export const autocannon = createRequire(import.meta.url)('autocannon') as (opts: CannonOptions) => PromiseLike<CannonResult>;

// ---------------------------------------------------------------- settings

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BARE_SCRIPT = path.join(ROOT, 'bench', 'bare-server.ts');
const WATCHDOG = pathToFileURL(path.join(ROOT, 'bench', 'lib', 'exit-with-parent.mjs')).href;

export const CONNECTIONS = 50;
export const WARMUP_S = 2;
export const LOADGEN_CPU = 0;
export const SERVER_CPU = 1;
export const PIN = process.env.BENCH_PIN !== '0';
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

export function intEnv(name: string, fallback: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${name}: expected an integer from 1 to ${max}, got "${raw}"`);
  return n;
}

export const log = (line: string) => process.stderr.write(line + '\n');
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- cleanup

const live = new Set<ChildProcess>();
const tmpDirs = new Set<string>();

function cleanup(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  tmpDirs.clear();
}

process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    log(`\nbench: ${signal}, stopping`);
    process.exit(130);
  });
}

/** A temporary directory removed when this process exits, however it exits (short of SIGKILL). */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.add(dir);
  return dir;
}

/** Runs main with a hard deadline; kills the children and removes temp dirs on every way out. */
export function runMain(main: () => Promise<number>, deadlineMs: number): void {
  const deadline = setTimeout(() => {
    log(`bench: still running after ${Math.round(deadlineMs / 1000)} s; giving up`);
    process.exit(1);
  }, deadlineMs);
  deadline.unref();
  main().then(
    (code) => {
      cleanup();
      process.exit(code);
    },
    (err: unknown) => {
      log(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      cleanup();
      process.exit(1);
    },
  );
}

// ---------------------------------------------------------------- CPU pinning and accounting

/** Affinity (Cpus_allowed_list) of every thread of a process. */
function threadAffinities(pid: number): string[] {
  const dir = `/proc/${pid}/task`;
  const lists = new Set<string>();
  for (const tid of fs.readdirSync(dir)) {
    try {
      const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(fs.readFileSync(`${dir}/${tid}/status`, 'utf8'));
      if (m) lists.add(m[1]!);
    } catch {
      // thread ended meanwhile
    }
  }
  return [...lists];
}

function checkPinned(pid: number, cpu: number, what: string): void {
  const lists = threadAffinities(pid);
  if (lists.length !== 1 || lists[0] !== String(cpu)) {
    throw new Error(`${what} (pid ${pid}) is not pinned to CPU ${cpu}: its threads allow ${lists.join(' / ')}`);
  }
  const taskset = execFileSync('taskset', ['-p', String(pid)], { encoding: 'utf8' }).trim();
  log(`  ${what}: ${taskset} (every thread: CPU ${cpu})`);
}

/** Pins every thread of this process (autocannon runs here) to the load generator's CPU. */
export function pinSelf(): void {
  if (!PIN) {
    log('bench: BENCH_PIN=0: not pinning; load generator and server share the CPUs');
    return;
  }
  if (os.cpus().length < 2) throw new Error('needs 2 CPUs to pin the load generator and the server apart (BENCH_PIN=0 to run anyway)');
  execFileSync('taskset', ['-a', '-p', '-c', String(LOADGEN_CPU), String(process.pid)], { stdio: 'ignore' });
  checkPinned(process.pid, LOADGEN_CPU, 'load generator');
}

export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

function ticksOf(statLine: string): number {
  // After "pid (comm) ": state is field 3; utime is field 14, stime 15 (1-based).
  const fields = statLine.slice(statLine.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** CPU seconds (user + system, all threads) a process has used so far. */
export function processCpuSeconds(pid: number): number {
  return ticksOf(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')) / CLK_TCK;
}

/** CPU seconds per thread name (main thread "node", "libuv-worker", "V8 Worker", …). */
export function threadCpuSeconds(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = tid === String(pid) ? 'main thread' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      out.set(name, (out.get(name) ?? 0) + ticksOf(stat) / CLK_TCK);
    } catch {
      // thread ended meanwhile
    }
  }
  return out;
}

/**
 * Seconds one CPU spent running tasks (user, nice, system) or stolen by the
 * hypervisor. Interrupt and softirq time is left out: on loopback it is mostly the
 * benchmark's own packets.
 */
export function cpuTaskSeconds(cpu: number): number {
  const line = fs
    .readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`cpu${cpu} `));
  if (!line) return 0;
  const [user, nice, system, , , , , steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + steal!) / CLK_TCK;
}

// ---------------------------------------------------------------- server children

export interface Server {
  name: string;
  port: number;
  child: ChildProcess;
  pid: number;
  exited: Promise<void>;
  stderrTail: () => string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Environment for a server child: ours, minus PAGODA_* and NODE_OPTIONS that would change what is measured. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PAGODA_') && k !== 'NODE_OPTIONS') env[k] = v;
  return { ...env, ...extra };
}

/** `node <nodeArgs>` in the project root, pinned to the server CPU, dying with this process. */
export function startServer(name: string, port: number, nodeArgs: string[], env: Record<string, string>): Server {
  const node = [process.execPath, '--import', WATCHDOG, ...nodeArgs];
  const [cmd, ...args] = PIN ? ['taskset', '-c', String(SERVER_CPU), ...node] : node;
  const child = spawn(cmd!, args, { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${cmd}`);
  live.add(child);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      live.delete(child);
      resolve();
    });
  });
  // stdout carries the gateway's banner (with the demo secret): drained, never printed.
  child.stdout!.resume();
  let tail = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-4000);
  });
  return { name, port, child, pid: child.pid, exited, stderrTail: () => tail };
}

export async function stopServer(server: Server): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const stopped = await Promise.race([server.exited.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
  if (!stopped) {
    log(`  ${server.name} did not stop within ${STOP_TIMEOUT_MS} ms of SIGTERM; killing it`);
    child.kill('SIGKILL');
    await server.exited;
  }
}

const agent = new Agent({ connect: { rejectUnauthorized: false }, headersTimeout: 5000, bodyTimeout: 5000 });

export async function call(url: string, init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {}) {
  const res = await request(url, { dispatcher: agent, method: init.method ?? 'GET', headers: init.headers, body: init.body });
  return { status: res.statusCode, body: await res.body.text() };
}

/** Polls url until it answers 200; fails early if the server exits. Then checks its pinning. */
export async function waitReady(server: Server, url: string): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < READY_TIMEOUT_MS) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      throw new Error(`${server.name} exited (${server.child.exitCode ?? server.child.signalCode}) before answering:\n${server.stderrTail()}`);
    }
    try {
      if ((await call(url)).status === 200) {
        if (PIN) checkPinned(server.pid, SERVER_CPU, server.name);
        return;
      }
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${server.name} did not answer 200 on ${url} within ${READY_TIMEOUT_MS} ms:\n${server.stderrTail()}`);
}

export function startBare(port: number, env: Record<string, string> = {}): Server {
  return startServer('bare server', port, ['--import', 'tsx', BARE_SCRIPT], { ...env, BARE_PORT: String(port) });
}

/** The real gateway, embedded defaults (SQLite in dataDir), as an operator starts it. */
export function startGateway(port: number, dataDir: string, nodeArgs: string[] = [], env: Record<string, string> = {}): Server {
  return startServer('gateway', port, [...nodeArgs, 'bin/pagoda.mjs', 'serve'], {
    PAGODA_DATA_DIR: dataDir,
    PAGODA_PORT: String(port),
    PAGODA_HOST: '127.0.0.1',
    PAGODA_LOG_LEVEL: 'warn',
    ...env,
  });
}

// ---------------------------------------------------------------- scenarios

export type ScenarioKey = 'bare' | 'token' | 'balance';

export interface Scenario {
  key: ScenarioKey;
  label: string;
  url: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

export const LABELS: Record<ScenarioKey, string> = {
  bare: 'bare Fastify GET /bare',
  token: 'POST /api/v3/oauth/token',
  balance: 'GET /api/v3/merchant/balance',
};

export function bareScenario(port: number): Scenario {
  return { key: 'bare', label: LABELS.bare, url: `https://127.0.0.1:${port}/bare`, method: 'GET' };
}

interface Credentials {
  merchantId: string;
  appId: string;
  appSecret: string;
}

/** The token and balance scenarios against a running gateway, with the demo merchant's credentials and a fresh token. */
export async function gatewayScenarios(port: number, dataDir: string): Promise<{ token: Scenario; balance: Scenario }> {
  const base = `https://127.0.0.1:${port}`;
  const creds = JSON.parse(fs.readFileSync(path.join(dataDir, 'demo-merchant.json'), 'utf8')) as Credentials;
  const token: Scenario = {
    key: 'token',
    label: LABELS.token,
    url: `${base}/api/v3/oauth/token`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', app_id: creds.appId, app_secret: creds.appSecret }),
  };
  const issued = await call(token.url, token);
  const jwt = (JSON.parse(issued.body) as { data?: { token?: string } }).data?.token;
  if (issued.status !== 200 || !jwt) throw new Error(`no token: ${issued.status} ${issued.body.slice(0, 300)}`);
  const balance: Scenario = {
    key: 'balance',
    label: LABELS.balance,
    url: `${base}/api/v3/merchant/balance`,
    method: 'GET',
    headers: { authorization: `Bearer ${jwt}` },
  };
  return { token, balance };
}

// ---------------------------------------------------------------- measuring

export interface Measurement {
  scenario: ScenarioKey;
  /** Completed responses per second of the measurement. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  seconds: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  resets: number;
  statusCodes: Record<string, number>;
  warmupFailures: number;
  /** Shares of one core over the measurement: the server process and everything else on its CPU; same for the load generator. */
  serverCpu: number;
  otherOnServerCpu: number;
  loadgenCpu: number;
  otherOnLoadgenCpu: number;
  /**
   * Other processes took more than DISTURBED_SHARE of the server CPU, or of the load
   * generator's CPU while that CPU was nearly full (so autocannon may have been held back).
   */
  disturbed: boolean;
  /** Which attempt this is (a disturbed measurement is repeated). */
  attempt: number;
  /** Responses per CPU-second of the server process: insensitive to other load on the machine. */
  perServerCpuSecond: number;
}

export const isSuccessBody = (body: string) => body.startsWith('{"code":0,');

export const failuresOf = (m: Pick<Measurement, 'non2xx' | 'errors' | 'timeouts' | 'mismatches'>) =>
  m.non2xx + m.errors + m.timeouts + m.mismatches;

async function preflight(s: Scenario): Promise<void> {
  const res = await call(s.url, { method: s.method, headers: s.headers, body: s.body });
  if (res.status !== 200 || !isSuccessBody(res.body)) {
    throw new Error(`${s.label}: expected 200 with "code":0, got ${res.status} ${res.body.slice(0, 300)}`);
  }
}

/**
 * One request checked by hand, a warm-up, then the measured load: `connections`
 * keep-alive connections for `durationS`. hooks.before/after run right around the
 * measured part (e.g. to start and stop a profiler).
 */
export async function measure(
  s: Scenario,
  server: Server,
  durationS: number,
  hooks: { before?: () => Promise<void> | void; after?: () => Promise<void> | void } = {},
): Promise<Measurement> {
  const opts: Omit<CannonOptions, 'duration'> = {
    url: s.url,
    connections: CONNECTIONS,
    pipelining: 1,
    timeout: 10,
    method: s.method,
    headers: s.headers,
    body: s.body,
    verifyBody: isSuccessBody,
  };
  await preflight(s);
  const warm = await autocannon({ ...opts, duration: WARMUP_S });
  await hooks.before?.();
  const cpu0 = process.cpuUsage();
  const server0 = processCpuSeconds(server.pid);
  const core0 = PIN ? cpuTaskSeconds(SERVER_CPU) : 0;
  const lgCore0 = PIN ? cpuTaskSeconds(LOADGEN_CPU) : 0;
  const t0 = performance.now();
  const r = await autocannon({ ...opts, duration: durationS });
  const wall = (performance.now() - t0) / 1000;
  const serverSeconds = processCpuSeconds(server.pid) - server0;
  const coreSeconds = PIN ? cpuTaskSeconds(SERVER_CPU) - core0 : serverSeconds;
  const cpu = process.cpuUsage(cpu0);
  const loadgenSeconds = (cpu.user + cpu.system) / 1e6;
  const lgCoreSeconds = PIN ? cpuTaskSeconds(LOADGEN_CPU) - lgCore0 : loadgenSeconds;
  await hooks.after?.();
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(r.statusCodeStats)) statusCodes[code] = stat.count;
  return {
    scenario: s.key,
    // autocannon's own average drops partial seconds; this does not.
    rps: r.requests.total / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    requests: r.requests.total,
    seconds: r.duration,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    mismatches: r.mismatches,
    resets: r.resets,
    statusCodes,
    warmupFailures: failuresOf(warm),
    serverCpu: serverSeconds / wall,
    otherOnServerCpu: Math.max(0, coreSeconds - serverSeconds) / wall,
    loadgenCpu: loadgenSeconds / wall,
    otherOnLoadgenCpu: Math.max(0, lgCoreSeconds - loadgenSeconds) / wall,
    disturbed:
      (coreSeconds - serverSeconds) / wall > DISTURBED_SHARE ||
      ((lgCoreSeconds - loadgenSeconds) / wall > DISTURBED_SHARE && lgCoreSeconds / wall > 0.9),
    attempt: 1,
    perServerCpuSecond: serverSeconds > 0 ? r.requests.total / serverSeconds : 0,
  };
}

/** Other processes may take this share of a benchmark CPU before a measurement counts as disturbed. */
export const DISTURBED_SHARE = 0.1;

/**
 * measure(), repeated while other processes disturb it (up to `attempts` times);
 * returns the first undisturbed measurement, or else the least disturbed one.
 */
export async function measureSteady(s: Scenario, server: Server, durationS: number, attempts: number): Promise<Measurement> {
  let best: Measurement | undefined;
  const noise = (m: Measurement) => Math.max(m.otherOnServerCpu, m.otherOnLoadgenCpu);
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const m = { ...(await measure(s, server, durationS)), attempt };
    if (!m.disturbed) return m;
    if (attempt < attempts) log(describe(m) + `  → attempt ${attempt}/${attempts} disturbed, repeating`);
    else log(describe(m) + `  → attempt ${attempt}/${attempts} disturbed, keeping the least disturbed one:`);
    if (!best || noise(m) < noise(best)) best = m;
  }
  return best!;
}

const pct = (share: number) => `${(share * 100).toFixed(0)}%`;

/** One line per measurement, failures spelled out. */
export function describe(m: Measurement, ratio?: number): string {
  const failures = failuresOf(m);
  const status = failures
    ? `FAILED RESPONSES: non2xx=${m.non2xx} errors=${m.errors} timeouts=${m.timeouts} mismatches=${m.mismatches} statuses=${JSON.stringify(m.statusCodes)}`
    : 'ok';
  const warm = m.warmupFailures ? ` (warm-up: ${m.warmupFailures} failed responses)` : '';
  const disturbed = m.disturbed
    ? ` DISTURBED: other processes took ${pct(m.otherOnServerCpu)} of the server's CPU, ${pct(m.otherOnLoadgenCpu)} of the load generator's`
    : '';
  return (
    `  ${LABELS[m.scenario].padEnd(29)} ${m.rps.toFixed(0).padStart(6)} req/s` +
    (ratio === undefined ? '' : ` (${ratio.toFixed(2)}× bare)`) +
    `  p50 ${m.p50Ms} ms  p99 ${m.p99Ms} ms  CPU: server ${pct(m.serverCpu)}, loadgen ${pct(m.loadgenCpu)}` +
    `  ${m.perServerCpuSecond.toFixed(0)} req per server CPU-s  ${status}${warm}${disturbed}`
  );
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function machine() {
  return {
    nproc: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    loadavgAtStart: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
}

export function gitState(): { head: string; changedFiles: string[] } | undefined {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' });
    return { head, changedFiles: status.split('\n').filter(Boolean).map((l) => l.slice(3)) };
  } catch {
    return undefined;
  }
}

/** The bare Fastify route alone: start it, measure it steadily, stop it. */
export async function measureBare(durationS: number, attempts: number): Promise<Measurement> {
  const port = await freePort();
  const server = startBare(port);
  try {
    const scenario = bareScenario(port);
    await waitReady(server, scenario.url);
    const bare = await measureSteady(scenario, server, durationS, attempts);
    log(describe(bare));
    return bare;
  } finally {
    await stopServer(server);
  }
}
