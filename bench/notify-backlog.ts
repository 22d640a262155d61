// The API while the worker works through a large backlog for one destination that is
// down (it answers 500 at once, so attempts finish fast and the worker claims again after
// each): the gateway's authenticated balance route, the same 50 keep-alive connections,
// first with no backlog (the baseline, same gateway, same run), then with BENCH_BACKLOG
// (default 50 000) notifications due for that destination. Prints both, their ratio, and
// the notification attempts the worker recorded per second meanwhile. The gateway
// (`serve`, role all: API and worker in one process, as the quick start runs it) is pinned
// to CPU 1; the load generator and the receiver run here, on CPU 0. BENCH_LATER_PAIRS
// (default 0) adds that many other destinations with one retry each scheduled a day later
// (merchants' failing endpoints waiting for their next attempt), which a claim looking past
// the backlog may walk.
//
//   node --import tsx bench/notify-backlog.ts        (about 1 minute; BENCH_DURATION s per measurement, default 10)
import http from 'node:http';
import path from 'node:path';
import fs from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import {
  call,
  describe,
  freePort,
  gatewayScenarios,
  intEnv,
  log,
  measure,
  pinSelf,
  PIN,
  runMain,
  startGateway,
  stopServer,
  tempDir,
  waitReady,
  type Measurement,
} from './lib/harness.ts';

const BACKLOG = intEnv('BENCH_BACKLOG', 50_000, 1_000_000);
const DURATION_S = intEnv('BENCH_DURATION', 10, 120);
const LATER_PAIRS = intEnv('BENCH_LATER_PAIRS', 0, 1_000_000);

/** A destination that is down but answers: 500 at once. */
async function startReceiver(): Promise<{ url: string; received: () => number; close: () => Promise<void> }> {
  let received = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.statusCode = 500;
      res.end('down');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/notify`, received: () => received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * `count` due copies of the order's notification, and `later` copies to as many other
 * destinations due a day from now, written while the gateway is stopped.
 */
function addBacklog(file: string, orderNo: string, count: number, later: number): void {
  const db = new BetterSqlite3(file);
  try {
    const template = db.prepare('select * from notifications where order_no = ?').get(orderNo) as Record<string, unknown>;
    const columns = Object.keys(template);
    const insert = db.prepare(`insert into notifications (${columns.join(', ')}) values (${columns.map((c) => `@${c}`).join(', ')})`);
    const now = Date.now();
    db.transaction(() => {
      for (let i = 0; i < count; i++) {
        insert.run({ ...template, id: `${String(template.id)}_${String(i).padStart(7, '0')}`, state: 'pending', attempts: 0, next_attempt_at: now - 600_000 + i, lease_until: null });
      }
      for (let i = 0; i < later; i++) {
        const origin = `https://later-${i}.example`;
        insert.run({ ...template, id: `${String(template.id)}_later_${String(i).padStart(7, '0')}`, url: `${origin}/notify`, origin, state: 'pending', attempts: 1, next_attempt_at: now + 86_400_000, lease_until: null });
      }
    })();
  } finally {
    db.close();
  }
}

function attemptsIn(file: string): number {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    return (db.prepare('select count(*) as n from notification_attempts').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function main(): Promise<number> {
  if (PIN) pinSelf();
  const receiver = await startReceiver();
  const dataDir = tempDir('pagoda-bench-backlog-');
  const file = path.join(dataDir, 'pagoda.db');
  const port = await freePort();
  const env = { PAGODA_NOTIFY_ALLOW_HOSTS: '127.0.0.1' };
  const base = `https://127.0.0.1:${port}`;

  let gateway = startGateway(port, dataDir, [], env);
  await waitReady(gateway, `${base}/readyz`);
  const { balance } = await gatewayScenarios(port, dataDir);
  const auth = { authorization: balance.headers!.authorization!, 'content-type': 'application/json' };
  const created = await call(`${base}/api/v3/payment/create`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ merOrderNo: 'backlog-1', currency: 'MXN', amount: 100, payMethod: 'MX_SPEI', notifyUrl: receiver.url }),
  });
  const orderNo = (JSON.parse(created.body) as { data: { orderNo: string } }).data.orderNo;
  const paid = await call(`${base}/sandbox/v1/payins/${orderNo}/complete`, { method: 'POST', headers: auth, body: '{"outcome":"PAID"}' });
  if (paid.status !== 200) throw new Error(`sandbox complete: ${paid.status} ${paid.body}`);

  log(`baseline: no backlog (${DURATION_S} s)`);
  const quiet: Measurement = await measure(balance, gateway, DURATION_S);
  log(describe(quiet));
  await stopServer(gateway);

  addBacklog(file, orderNo, BACKLOG, LATER_PAIRS);
  log(`added ${BACKLOG} due notifications for ${new URL(receiver.url).origin}, and ${LATER_PAIRS} to other destinations due later`);
  gateway = startGateway(port, dataDir, [], env);
  await waitReady(gateway, `${base}/readyz`);
  const attempts0 = attemptsIn(file);
  const t0 = performance.now();
  const busy: Measurement = await measure(balance, gateway, DURATION_S);
  const attemptsPerS = (attemptsIn(file) - attempts0) / ((performance.now() - t0) / 1000);
  log(describe(busy));
  await stopServer(gateway);
  await receiver.close();
  fs.rmSync(dataDir, { recursive: true, force: true });

  const ratio = busy.rps / quiet.rps;
  console.log(`| scenario | balance req/s | p50 / p99 ms | notification attempts/s |`);
  console.log(`|---|---:|---:|---:|`);
  console.log(`| no backlog | ${quiet.rps.toFixed(0)} | ${quiet.p50Ms} / ${quiet.p99Ms} | |`);
  const beside = LATER_PAIRS > 0 ? `, ${LATER_PAIRS} destinations with a retry due later` : '';
  console.log(`| ${BACKLOG} due for a destination that is down${beside} | ${busy.rps.toFixed(0)} | ${busy.p50Ms} / ${busy.p99Ms} | ${attemptsPerS.toFixed(0)} |`);
  console.log(`balance with the backlog ÷ without: ${ratio.toFixed(2)}×`);
  console.log(JSON.stringify({ bench: 'notify-backlog', backlog: BACKLOG, laterPairs: LATER_PAIRS, durationS: DURATION_S, quiet, busy, attemptsPerS, ratio }));
  return quiet.non2xx + busy.non2xx + quiet.errors + busy.errors > 0 ? 1 : 0;
}

runMain(main, (4 * (DURATION_S + 10) + 180) * 1000);
