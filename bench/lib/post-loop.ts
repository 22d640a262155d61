// Child of bench/notify-throughput.ts: the baseline sender. POSTs POST_N requests to
// POST_URL over one undici keep-alive Agent, POST_CONCURRENCY at a time, each with a JSON
// body of POST_BODY_BYTES bytes and headers shaped like a notification's (unique
// webhook-id), and checks each answer is 200 SUCCESS. Prints one JSON line:
// {requests, failures, elapsedMs, rate, cpuSeconds}.
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';

const url = process.env.POST_URL!;
const n = Number(process.env.POST_N);
const concurrency = Number(process.env.POST_CONCURRENCY);
const bodyBytes = Number(process.env.POST_BODY_BYTES);
if (!url || !(n > 0) || !(concurrency > 0) || !(bodyBytes > 0)) throw new Error('POST_URL, POST_N, POST_CONCURRENCY, POST_BODY_BYTES are required');

const skeleton = '{"orderNo":"","pad":""}';
const body = `{"orderNo":"","pad":"${'x'.repeat(Math.max(0, bodyBytes - skeleton.length))}"}`;
const signature = `v1,${Buffer.alloc(32, 7).toString('base64')}`;
const agent = new Agent({ keepAliveTimeout: 30_000, headersTimeout: 10_000, bodyTimeout: 10_000 });
const run = `bare_${process.pid}_`;

let next = 0;
let failures = 0;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await Promise.all(
  Array.from({ length: Math.min(concurrency, n) }, async () => {
    while (next < n) {
      const i = next++;
      try {
        const res = await request(url, {
          method: 'POST',
          dispatcher: agent,
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'user-agent': 'Pagoda-Notify/1',
            'webhook-id': `${run}${i}`,
            'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
            'webhook-signature': signature,
          },
          body,
        });
        const text = await res.body.text();
        if (res.statusCode !== 200 || text.trim() !== 'SUCCESS') failures++;
      } catch {
        failures++;
      }
    }
  }),
);
const elapsedMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
await agent.close();
process.stdout.write(JSON.stringify({ requests: n, failures, elapsedMs, rate: (n * 1000) / elapsedMs, cpuSeconds: (cpu.user + cpu.system) / 1e6 }) + '\n');
