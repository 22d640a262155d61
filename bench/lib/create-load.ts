// Load for benchmarks whose every request creates something (bench/create-payment.ts):
// each request carries a unique body (autocannon `requests` + `setupRequest`), every
// generated and every answered id is recorded so the database can be checked against
// the responses afterwards, and PostgreSQL (not pinned: it runs on both CPUs) is
// accounted apart from the processes that disturb a measurement.
import fs from 'node:fs';
import {
  autocannon,
  call,
  CLK_TCK,
  CONNECTIONS,
  cpuTaskSeconds,
  DISTURBED_SHARE,
  LOADGEN_CPU,
  processCpuSeconds,
  SERVER_CPU,
  WARMUP_S,
  type CannonResult,
  type Server,
} from './harness.ts';

// ---------------------------------------------------------------- CPU time from /proc

/** Fields of /proc/<pid>/stat after "(comm)", 0-based from field 3 (state). */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

export type PgKind = 'bench' | 'background' | 'otherClients';

export interface PgSample {
  /** pid → [kind, utime+stime ticks] */
  procs: Map<number, [PgKind, number]>;
  /** utime+stime of the postmaster's reaped children (cutime+cstime): where exited backends' time goes. */
  reapedTicks: number;
  found: boolean;
}

/**
 * CPU ticks of every PostgreSQL process, by kind: backends and autovacuum workers of
 * the benchmark's database ("bench"), backends of other databases or clients
 * ("otherClients": a disturbance), and the server's own processes (postmaster,
 * walwriter, checkpointer, …: "background", they work for whoever writes).
 */
export function samplePostgres(benchDb: string): PgSample {
  const procs = new Map<number, [PgKind, number]>();
  let reapedTicks = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let comm: string;
    let cmdline: string;
    try {
      comm = fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm !== 'postgres') continue;
      cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    } catch {
      continue;
    }
    const f = statFields(entry);
    if (!f) continue;
    const ticks = Number(f[11]) + Number(f[12]);
    const words = cmdline.split(/\s+/);
    let kind: PgKind = 'background';
    if (words.includes(benchDb)) kind = 'bench';
    else if (/\d+\.\d+\.\d+\.\d+\(\d+\)|\[local\]|\]\(\d+\)|::1\(\d+\)/.test(cmdline)) kind = 'otherClients';
    procs.set(Number(entry), [kind, ticks]);
    // The postmaster is the one started with its binary path, not a retitled child.
    if (!cmdline.startsWith('postgres:')) reapedTicks += Number(f[13]) + Number(f[14]);
  }
  return { procs, reapedTicks, found: procs.size > 0 };
}

export interface PgCpu {
  /** CPU seconds over the interval. exited: processes that ended meanwhile (e.g. autovacuum workers). */
  bench: number;
  background: number;
  otherClients: number;
  exited: number;
  /** bench + background + exited: what the benchmark cost PostgreSQL. */
  total: number;
}

export function pgCpuBetween(a: PgSample, b: PgSample): PgCpu {
  const out = { bench: 0, background: 0, otherClients: 0, exited: 0 };
  for (const [pid, [kind, ticks]] of b.procs) out[kind] += ticks - (a.procs.get(pid)?.[1] ?? 0);
  let goneTicks = 0;
  for (const [pid, [, ticks]] of a.procs) if (!b.procs.has(pid)) goneTicks += ticks;
  out.exited = Math.max(0, b.reapedTicks - a.reapedTicks - goneTicks);
  const s = (t: number) => t / CLK_TCK;
  const res = { bench: s(out.bench), background: s(out.background), otherClients: s(out.otherClients), exited: s(out.exited) };
  return { ...res, total: res.bench + res.background + res.exited };
}

// ---------------------------------------------------------------- unique request bodies

/** The ids a load generated and how each was answered. */
export class IdLedger {
  private counter = 0;
  /** Every id put into a request (sent, or about to be: autocannon sends what it builds). */
  readonly generated = new Set<string>();
  /** id → HTTP status of its response. */
  readonly answered = new Map<string, number>();
  /** ids answered 200 with a body that passed the check. */
  readonly ok = new Set<string>();

  constructor(readonly prefix: string) {
    if (!/^[A-Za-z0-9_.:-]{1,40}$/.test(prefix)) throw new Error(`id prefix "${prefix}": 1 to 40 of A-Z a-z 0-9 _ - . :`);
  }

  next(): string {
    const id = `${this.prefix}-${(this.counter++).toString(36)}`;
    this.generated.add(id);
    return id;
  }

  /** Generated ids without a response: in flight when the load stopped (or timed out). */
  unanswered(): string[] {
    return [...this.generated].filter((id) => !this.answered.has(id));
  }
}

export interface UniqueScenario {
  label: string;
  url: string;
  headers: Record<string, string>;
  /** The request body for one id. */
  body: (id: string) => string;
  /** Whether a response (status 200) body is a success for that id. */
  verify: (body: string, id: string) => boolean;
}

interface CannonRequest {
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  setupRequest: (req: CannonRequest, context: { id?: string }) => CannonRequest;
  onResponse: (status: number, body: string, context: { id?: string }) => void;
}

const runCannon = autocannon as unknown as (opts: {
  url: string;
  connections: number;
  duration: number;
  pipelining: number;
  timeout: number;
  requests: CannonRequest[];
  verifyBody: (body: string) => boolean;
}) => PromiseLike<CannonResult>;

/**
 * autocannon with `connections` keep-alive connections for `durationS`, every request
 * with a fresh id from `ids`. With pipelining 1 a connection has one request at a time,
 * so the per-connection context names the id a response answers.
 */
export function uniqueLoad(s: UniqueScenario, ids: IdLedger, durationS: number): PromiseLike<CannonResult> {
  const url = new URL(s.url);
  const request: CannonRequest = {
    method: 'POST',
    path: url.pathname,
    headers: { 'content-type': 'application/json', ...s.headers },
    setupRequest(req, context) {
      const id = ids.next();
      context.id = id;
      req.body = s.body(id);
      return req;
    },
    onResponse(status, body, context) {
      const id = context.id;
      if (id === undefined) return;
      ids.answered.set(id, status);
      if (status === 200 && s.verify(body, id)) ids.ok.add(id);
    },
  };
  return runCannon({
    url: url.origin,
    connections: CONNECTIONS,
    duration: durationS,
    pipelining: 1,
    timeout: 10,
    requests: [request],
    // Counted as a mismatch by autocannon; the id-level check above is the stricter one.
    verifyBody: (body) => body.startsWith('{"code":0,'),
  });
}

// ---------------------------------------------------------------- one measurement

export interface CreateMeasurement {
  label: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Responses autocannon counted in the measured window. */
  requests: number;
  seconds: number;
  /** Responses 200 whose body passed the check for their own id. */
  okResponses: number;
  /** Responses that arrived but were not that (any status, any body). */
  failedResponses: number;
  /** Connection errors and timeouts (no response). */
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** Requests built but never answered: in flight when autocannon stopped (or timed out). */
  inFlightAtStop: number;
  warmupFailures: number;
  serverCpu: number;
  otherOnServerCpu: number;
  loadgenCpu: number;
  otherOnLoadgenCpu: number;
  /** PostgreSQL's CPU over the measurement (shares of one core), when measuring against PostgreSQL. */
  pg?: { bench: number; background: number; otherClients: number; exited: number; total: number };
  /** Share of a core taken on the two CPUs by anything but the server, the load generator and PostgreSQL's work for the benchmark. */
  foreign: number;
  disturbed: boolean;
  attempt: number;
  perServerCpuSecond: number;
  /** Responses per CPU-second of server + PostgreSQL (PostgreSQL only). */
  perServerAndDbCpuSecond?: number;
}

export const failuresOfCreate = (m: Pick<CreateMeasurement, 'failedResponses' | 'errors' | 'timeouts'>) => m.failedResponses + m.errors + m.timeouts;

/** Fresh id ledgers for the three parts of one measurement. */
export interface Phases {
  preflight: IdLedger;
  warmup: IdLedger;
  measured: IdLedger;
}

/**
 * One request checked by hand, a warm-up (WARMUP_S), then `durationS` of load, each
 * part with its own id prefix. With pgDb, PostgreSQL's CPU is sampled and "disturbed"
 * means that other processes (anything but server, load generator and PostgreSQL's
 * work for the benchmark database) took more than DISTURBED_SHARE of a core across
 * both CPUs, since PostgreSQL runs unpinned on both. Otherwise the harness's rule:
 * more than DISTURBED_SHARE of the server CPU, or of a nearly full load-generator CPU.
 */
export async function measureCreate(
  s: UniqueScenario,
  server: Server,
  durationS: number,
  phases: Phases,
  pgDb: string | undefined,
  hooks: { before?: () => Promise<void> | void; after?: () => Promise<void> | void } = {},
): Promise<CreateMeasurement> {
  const id = phases.preflight.next();
  const res = await call(s.url, { method: 'POST', headers: { 'content-type': 'application/json', ...s.headers }, body: s.body(id) });
  phases.preflight.answered.set(id, res.status);
  if (res.status !== 200 || !s.verify(res.body, id)) throw new Error(`${s.label}: expected 200 with "code":0 and PENDING, got ${res.status} ${res.body.slice(0, 300)}`);
  phases.preflight.ok.add(id);

  const warm = await uniqueLoad(s, phases.warmup, WARMUP_S);
  await hooks.before?.();
  const ids = phases.measured;
  const cpu0 = process.cpuUsage();
  const server0 = processCpuSeconds(server.pid);
  const pg0 = pgDb ? samplePostgres(pgDb) : undefined;
  const core0 = cpuTaskSeconds(SERVER_CPU);
  const lgCore0 = cpuTaskSeconds(LOADGEN_CPU);
  const t0 = performance.now();
  const r = await uniqueLoad(s, ids, durationS);
  const wall = (performance.now() - t0) / 1000;
  const serverSeconds = processCpuSeconds(server.pid) - server0;
  const coreSeconds = cpuTaskSeconds(SERVER_CPU) - core0;
  const lgCoreSeconds = cpuTaskSeconds(LOADGEN_CPU) - lgCore0;
  const pg = pg0 ? pgCpuBetween(pg0, samplePostgres(pgDb!)) : undefined;
  const cpu = process.cpuUsage(cpu0);
  const loadgenSeconds = (cpu.user + cpu.system) / 1e6;
  await hooks.after?.();

  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(r.statusCodeStats)) statusCodes[code] = stat.count;
  const foreignSeconds = coreSeconds + lgCoreSeconds - serverSeconds - loadgenSeconds - (pg?.total ?? 0);
  const otherOnServer = Math.max(0, coreSeconds - serverSeconds) / wall;
  const otherOnLoadgen = Math.max(0, lgCoreSeconds - loadgenSeconds) / wall;
  const disturbed = pg
    ? foreignSeconds / wall > DISTURBED_SHARE
    : otherOnServer > DISTURBED_SHARE || (otherOnLoadgen > DISTURBED_SHARE && lgCoreSeconds / wall > 0.9);
  const share = (x: number) => x / wall;
  return {
    label: s.label,
    rps: r.requests.total / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    requests: r.requests.total,
    seconds: r.duration,
    okResponses: ids.ok.size,
    failedResponses: ids.answered.size - ids.ok.size,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes,
    inFlightAtStop: ids.generated.size - ids.answered.size,
    warmupFailures: phases.warmup.answered.size - phases.warmup.ok.size + warm.errors + warm.timeouts,
    serverCpu: share(serverSeconds),
    otherOnServerCpu: otherOnServer,
    loadgenCpu: share(loadgenSeconds),
    otherOnLoadgenCpu: otherOnLoadgen,
    pg: pg && { bench: share(pg.bench), background: share(pg.background), otherClients: share(pg.otherClients), exited: share(pg.exited), total: share(pg.total) },
    foreign: Math.max(0, share(foreignSeconds)),
    disturbed,
    attempt: 1,
    perServerCpuSecond: serverSeconds > 0 ? r.requests.total / serverSeconds : 0,
    perServerAndDbCpuSecond: pg && serverSeconds + pg.total > 0 ? r.requests.total / (serverSeconds + pg.total) : undefined,
  };
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

export function describeCreate(m: CreateMeasurement, bareRps?: number): string {
  const failures = failuresOfCreate(m);
  const status = failures
    ? `FAILED: ${m.failedResponses} bad responses, ${m.errors} errors, ${m.timeouts} timeouts; statuses ${JSON.stringify(m.statusCodes)}`
    : 'ok';
  const counted = m.requests === m.okResponses + m.failedResponses ? '' : ` (autocannon counted ${m.requests} responses, the id check ${m.okResponses + m.failedResponses})`;
  const warm = m.warmupFailures ? ` (warm-up: ${m.warmupFailures} failed)` : '';
  const pg = m.pg
    ? `, PostgreSQL ${pct(m.pg.total)} (backends ${pct(m.pg.bench)}, background ${pct(m.pg.background)}` +
      `${m.pg.exited > 0.005 ? `, exited ${pct(m.pg.exited)}` : ''}${m.pg.otherClients > 0.005 ? `; other clients' backends ${pct(m.pg.otherClients)}` : ''})`
    : '';
  const disturbed = m.disturbed
    ? m.pg
      ? ` DISTURBED: other processes took ${pct(m.foreign)} of a core`
      : ` DISTURBED: other processes took ${pct(m.otherOnServerCpu)} of the server's CPU, ${pct(m.otherOnLoadgenCpu)} of the load generator's`
    : '';
  return (
    `  ${m.label.padEnd(29)} ${m.rps.toFixed(0).padStart(6)} req/s` +
    (bareRps === undefined ? '' : ` (${(m.rps / bareRps).toFixed(3)}× bare)`) +
    `  p50 ${m.p50Ms} ms  p99 ${m.p99Ms} ms  CPU: server ${pct(m.serverCpu)}, loadgen ${pct(m.loadgenCpu)}${pg}` +
    `  ${m.perServerCpuSecond.toFixed(0)} req per server CPU-s` +
    (m.perServerAndDbCpuSecond ? ` (${m.perServerAndDbCpuSecond.toFixed(0)} per server+PostgreSQL CPU-s)` : '') +
    `  ${m.inFlightAtStop} in flight at stop  ${status}${counted}${warm}${disturbed}`
  );
}
