// Preloaded (`node --import`) beside bench/lib/probe.mjs into a gateway under study by
// bench/create-payment.ts (BENCH_PROFILE=1). probe.mjs counts Database#prepare calls,
// which the gateway's statement cache now makes rare; this probe counts and times
// every statement actually executed, on both databases:
//   - better-sqlite3: Statement#run/get/all/iterate (wall time on the main thread;
//     for transaction control (begin/commit/savepoint…) also the process's CPU time,
//     so that a COMMIT's fsync wait shows as wall time without CPU);
//   - pg: Client#query from call to result (includes the round trip and PostgreSQL's
//     work, commits waiting for the WAL flush), and Pool#connect (waiting for a pooled
//     connection).
// It also records the main thread's event-loop utilization over the window.
// Each SIGUSR2 toggles a window in step with probe.mjs; at the end of window n it
// writes $BENCH_PROBE_DIR/window-<n>.sql.json.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const dir = process.env.BENCH_PROBE_DIR;
if (!dir) throw new Error('probe-sql: BENCH_PROBE_DIR is not set');
const require = createRequire(path.join(process.cwd(), 'package.json'));

let open = false;
let window = 0;
let stats = new Map();
let elu0;

const TX_CONTROL = /^\s*(begin|commit|rollback|savepoint|release)/i;
const key = (db, sql) => `${db}: ${String(sql).replace(/\s+/g, ' ').trim().slice(0, 160)}`;

function record(k, ns, cpuUs) {
  let s = stats.get(k);
  if (!s) stats.set(k, (s = { count: 0, wallMs: 0, cpuMs: 0, cpuMeasured: false }));
  s.count++;
  s.wallMs += Number(ns) / 1e6;
  if (cpuUs !== undefined) {
    s.cpuMs += cpuUs / 1000;
    s.cpuMeasured = true;
  }
}

// ---- better-sqlite3
const Database = require('better-sqlite3');
const probeDb = new Database(':memory:');
const Statement = Object.getPrototypeOf(probeDb.prepare('select 1'));
probeDb.close();
for (const method of ['run', 'get', 'all', 'iterate']) {
  const original = Statement[method];
  Statement[method] = function (...args) {
    if (!open) return original.apply(this, args);
    const control = TX_CONTROL.test(this.source);
    const c0 = control ? process.cpuUsage() : undefined;
    const t0 = process.hrtime.bigint();
    try {
      return original.apply(this, args);
    } finally {
      const ns = process.hrtime.bigint() - t0;
      let cpu;
      if (c0) {
        const c = process.cpuUsage(c0);
        cpu = c.user + c.system;
      }
      record(key('sqlite', this.source), ns, cpu);
    }
  };
}

// ---- pg
let pg;
try {
  pg = require('pg');
} catch {
  pg = undefined;
}
if (pg) {
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (...args) {
    const t0 = process.hrtime.bigint();
    const result = query.apply(this, args);
    if (open && typeof args[0] === 'string' && result && typeof result.then === 'function') {
      const k = key('pg', args[0]);
      const done = () => record(k, process.hrtime.bigint() - t0);
      result.then(done, done);
    }
    return result;
  };
  const connect = pg.Pool.prototype.connect;
  pg.Pool.prototype.connect = function (...args) {
    const t0 = process.hrtime.bigint();
    const result = connect.apply(this, args);
    if (open && args.length === 0 && result && typeof result.then === 'function') {
      const done = () => record('pg: (waiting for a pooled connection: Pool#connect)', process.hrtime.bigint() - t0);
      result.then(done, done);
    }
    return result;
  };
}

process.on('SIGUSR2', () => {
  if (!open) {
    window++;
    stats = new Map();
    elu0 = performance.eventLoopUtilization();
    open = true;
  } else {
    open = false;
    const elu = performance.eventLoopUtilization(elu0);
    const out = {
      eventLoopUtilization: elu.utilization,
      statements: Object.fromEntries([...stats].sort((a, b) => b[1].wallMs - a[1].wallMs)),
    };
    fs.writeFileSync(path.join(dir, `window-${window}.sql.json`), JSON.stringify(out));
  }
});
