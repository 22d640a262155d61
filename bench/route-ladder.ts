// Where the gateway's per-request cost comes from: the same load as bench/auth-balance.ts
// on a ladder of routes, each adding one layer to the one before.
//
//   node --import tsx bench/route-ladder.ts
//
// bare Fastify GET /bare (bench/bare-server.ts) → the gateway's GET /healthz (its server
// setup: TLS, hooks, request ids, logger, envelope; no auth, no database) → GET
// /api/v3/merchant/balance (plus Bearer authentication and one database read). Servers
// pinned to CPU 1, autocannon to CPU 0, BENCH_DURATION s (default 5) per route after a
// 2 s warm-up, BENCH_RUNS runs (default 3); medians, and each route's server CPU per
// response as µs.
import { bareScenario, describe, freePort, gatewayScenarios, intEnv, log, machine, measure, median, pinSelf, runMain, startBare, startGateway, stopServer, tempDir, waitReady, type Measurement, type Scenario, type Server } from './lib/harness.ts';

const DURATION_S = intEnv('BENCH_DURATION', 5, 120);
const RUNS = intEnv('BENCH_RUNS', 3, 20);

async function measured(s: Scenario, server: Server): Promise<Measurement> {
  const m = await measure(s, server, DURATION_S);
  log(describe(m));
  return m;
}

async function main(): Promise<number> {
  const host = machine();
  log(`route-ladder: ${RUNS} runs of ${DURATION_S} s per route; ${host.nproc} CPUs, ${host.cpu}, Node ${host.node}`);
  pinSelf();
  const dataDir = tempDir('pagoda-ladder-');
  const rows: Record<string, Measurement[]> = { bare: [], healthz: [], balance: [] };
  for (let run = 1; run <= RUNS; run++) {
    const barePort = await freePort();
    const bare = startBare(barePort);
    try {
      const s = bareScenario(barePort);
      await waitReady(bare, s.url);
      rows.bare!.push(await measured(s, bare));
    } finally {
      await stopServer(bare);
    }
    const port = await freePort();
    const gateway = startGateway(port, dataDir);
    try {
      const healthzUrl = `https://127.0.0.1:${port}/healthz`;
      await waitReady(gateway, healthzUrl);
      const { balance } = await gatewayScenarios(port, dataDir);
      const healthz: Scenario = { ...balance, key: 'bare', label: 'gateway GET /healthz', url: healthzUrl, headers: {} };
      rows.healthz!.push(await measured(healthz, gateway));
      rows.balance!.push(await measured(balance, gateway));
    } finally {
      await stopServer(gateway);
    }
  }
  const bareRps = median(rows.bare!.map((m) => m.rps));
  console.log('\n| route | req/s (median) | × bare | server CPU µs per response |');
  console.log('|---|---:|---:|---:|');
  for (const [name, list] of Object.entries(rows)) {
    const rps = median(list.map((m) => m.rps));
    const us = 1e6 / median(list.map((m) => m.perServerCpuSecond));
    console.log(`| ${name} | ${Math.round(rps)} | ${(rps / bareRps).toFixed(2)} | ${us.toFixed(1)} |`);
  }
  return 0;
}

runMain(main, 15 * 60_000);
