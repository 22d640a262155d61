// Baseline for the benchmarks: a bare Fastify 5 HTTPS server with one JSON route,
// the same TLS setup as the gateway (self-signed EC P-256, TLS ≥ 1.2), logger off.
// Started by bench/*.ts as a child process; listens on 127.0.0.1:$BARE_PORT.
// With FLOOR_DB=<file> it also serves POST /floor (bench/lib/write-floor.ts).
import Fastify from 'fastify';
import { generate } from 'selfsigned';

const port = Number(process.env.BARE_PORT);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  process.stderr.write('bare-server: BARE_PORT must be a port number\n');
  process.exit(2);
}

const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' });
const app = Fastify({ logger: false, https: { key: pems.private, cert: pems.cert, minVersion: 'TLSv1.2' } });

app.get('/bare', async () => ({ code: 0, msg: 'success', data: { ok: true } }));
const floorDb = process.env.FLOOR_DB;
const closeFloor = floorDb ? await (await import('./lib/write-floor.ts')).registerWriteFloor(app, floorDb, `https://127.0.0.1:${port}`) : async () => undefined;

await app.listen({ host: '127.0.0.1', port });

process.once('SIGTERM', () => {
  const force = setTimeout(() => process.exit(1), 5000);
  force.unref();
  app.close().then(closeFloor).then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
