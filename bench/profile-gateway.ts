// Where a gateway request's time goes, under the load of bench/auth-balance.ts.
//
//   node --import tsx bench/profile-gateway.ts
//
// Starts the gateway as the benchmark does (pinned to CPU 1, SQLite in a temp data
// dir) with bench/lib/probe.mjs preloaded, and for each scenario (PROFILE_SCENARIOS,
// default "balance,token") runs the benchmark's load while the V8 CPU profiler
// samples the server's main thread. Prints per scenario: throughput (under the
// profiler, so a little lower than the benchmark's), CPU by server thread, SQL
// statements per request, self time by origin and by function, inclusive time by
// function. PROFILE_OUT=<dir> keeps the .cpuprofile files (open them in Chrome
// DevTools or speedscope). BENCH_DURATION (s, default 10) as in the benchmark.
import fs from 'node:fs';
import path from 'node:path';
import { formatRows, summarize, type CpuProfile } from './lib/cpuprofile.ts';
import {
  describe,
  freePort,
  gatewayScenarios,
  intEnv,
  log,
  machine,
  measure,
  pinSelf,
  ROOT,
  runMain,
  sleep,
  startGateway,
  stopServer,
  tempDir,
  threadCpuSeconds,
  waitReady,
  type Server,
} from './lib/harness.ts';

const DURATION_S = intEnv('BENCH_DURATION', 10, 300);
const SCENARIOS = (process.env.PROFILE_SCENARIOS || 'balance,token').split(',').map((s) => s.trim());
for (const s of SCENARIOS) if (s !== 'balance' && s !== 'token') throw new Error(`PROFILE_SCENARIOS: unknown scenario "${s}" (balance, token)`);
const PROBE = path.join(ROOT, 'bench', 'lib', 'probe.mjs');

async function waitFor(file: string, server: Server): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (fs.existsSync(file)) return;
    if (server.child.exitCode !== null) throw new Error(`gateway exited:\n${server.stderrTail()}`);
    await sleep(50);
  }
  throw new Error(`probe did not write ${path.basename(file)} within 15 s:\n${server.stderrTail()}`);
}

async function main(): Promise<number> {
  const host = machine();
  log(`profile-gateway: ${SCENARIOS.join(', ')}; ${DURATION_S} s each; ${host.nproc} CPUs, ${host.cpu}, Node ${host.node}`);
  pinSelf();
  const dataDir = tempDir('pagoda-profile-');
  const probeDir = tempDir('pagoda-probe-');
  const out = process.env.PROFILE_OUT ? path.resolve(process.env.PROFILE_OUT) : undefined;
  if (out) fs.mkdirSync(out, { recursive: true });

  const port = await freePort();
  const gateway = startGateway(port, dataDir, ['--import', PROBE], { BENCH_PROBE_DIR: probeDir });
  try {
    await waitReady(gateway, `https://127.0.0.1:${port}/healthz`);
    const scenarios = await gatewayScenarios(port, dataDir);
    let window = 0;
    for (const key of SCENARIOS) {
      const scenario = scenarios[key as 'balance' | 'token'];
      window++;
      let threads0 = new Map<string, number>();
      let threads1 = new Map<string, number>();
      const m = await measure(scenario, gateway, DURATION_S, {
        before: async () => {
          gateway.child.kill('SIGUSR2');
          await waitFor(path.join(probeDir, `window-${window}.started`), gateway);
          threads0 = threadCpuSeconds(gateway.pid);
        },
        after: async () => {
          threads1 = threadCpuSeconds(gateway.pid);
          gateway.child.kill('SIGUSR2');
          await waitFor(path.join(probeDir, `window-${window}.done`), gateway);
        },
      });
      const profileFile = path.join(probeDir, `window-${window}.cpuprofile`);
      const profile = JSON.parse(fs.readFileSync(profileFile, 'utf8')) as CpuProfile;
      const queries = JSON.parse(fs.readFileSync(path.join(probeDir, `window-${window}.queries.json`), 'utf8')) as Record<string, number>;
      if (out) fs.copyFileSync(profileFile, path.join(out, `${key}.cpuprofile`));

      const lines: string[] = ['', `=== ${scenario.label} (under the profiler)`, describe(m)];
      const threadCpu = [...threads1].map(([name, s]) => [name, s - (threads0.get(name) ?? 0)] as const).filter(([, s]) => s > 0.005);
      const cpuTotal = threadCpu.reduce((a, [, s]) => a + s, 0);
      lines.push(`CPU by server thread over ${m.seconds} s (${cpuTotal.toFixed(2)} CPU-s in all):`);
      for (const [name, s] of threadCpu.sort((a, b) => b[1] - a[1])) {
        lines.push(`  ${((s / cpuTotal) * 100).toFixed(1).padStart(5)}%  ${s.toFixed(2)} s  ${name}`);
      }
      const totalStatements = Object.values(queries).reduce((a, b) => a + b, 0);
      lines.push(`SQL statements prepared per request: ${(totalStatements / m.requests).toFixed(2)} (${totalStatements} for ${m.requests} responses)`);
      for (const [sql, count] of Object.entries(queries).sort((a, b) => b[1] - a[1])) {
        lines.push(`  ${(count / m.requests).toFixed(2)}×  ${sql}`);
      }
      const summary = summarize(profile, ROOT);
      lines.push(`Main-thread profile: ${summary.totalMs.toFixed(0)} ms sampled`);
      lines.push(formatRows('Main-thread time by component (from the whole stack):', summary.byComponent));
      lines.push(formatRows('Self time by origin:', summary.selfByOrigin));
      lines.push(formatRows('Self time by function:', summary.selfByFunction));
      lines.push(formatRows('Inclusive time by function (synchronous callees only; async continuations are attributed to where they resume):', summary.inclusiveByFunction));
      process.stdout.write(lines.join('\n') + '\n');
    }
  } finally {
    await stopServer(gateway);
  }
  return 0;
}

runMain(main, (SCENARIOS.length * (DURATION_S + 10) + 120) * 1000);
