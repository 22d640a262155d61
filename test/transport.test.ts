/**
 * Transport (merchant-api.md section 1): TLS versions, plain HTTP, the generated
 * certificate, proxy mode, health/readiness and request ids, against a real
 * gateway on a loopback port with real TLS.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { sql } from 'kysely';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { updateApp } from '../src/modules/merchants/merchant.service.ts';
import { handshake, httpsGet, plainHttpGet } from './helpers/tls-client.ts';

const T = { timeout: 30_000 };
const OK_ENVELOPE = { code: 0, msg: 'success', data: { status: 'ok' } };
/** What OpenSSL/Node say when the peers share no protocol version. */
const PROTOCOL_REFUSAL = /protocol|version/i;

const portOf = (gw: TestGateway): number => Number(new URL(gw.url).port);

describe('TLS with the default configuration', () => {
  let gw: TestGateway;
  let port: number;
  let cert: string;
  before(async () => {
    gw = await startGateway();
    port = portOf(gw);
    cert = fs.readFileSync(path.join(gw.dataDir, 'tls', 'cert.pem'), 'utf8');
  });
  after(() => gw?.close());

  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    it(`a ${version} client gets /healthz 200 with the envelope`, T, async () => {
      const res = await httpsGet(port, '/healthz', { minVersion: version, maxVersion: version, ca: cert, servername: 'localhost' });
      assert.equal(res.protocol, version);
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, OK_ENVELOPE);
      assert.match(String(res.headers['content-type']), /^application\/json; charset=utf-8$/i);
    });
  }

  for (const version of ['TLSv1', 'TLSv1.1'] as const) {
    it(`a ${version} client is refused at the handshake`, T, async () => {
      const result = await handshake(port, { minVersion: version, maxVersion: version, ciphers: 'DEFAULT@SECLEVEL=0', rejectUnauthorized: false });
      assert.equal(result.ok, false, `handshake with ${version} completed: ${JSON.stringify(result)}`);
      if (!result.ok) assert.match(`${result.code} ${result.message}`, PROTOCOL_REFUSAL);
    });
  }

  it('the TLS 1.0 probe is a real one: the same client completes a handshake against a server that allows TLS 1.0', T, async () => {
    // Guards the test above: if this client could not speak TLS 1.0 at all, the refusal would prove nothing.
    const tls = await import('node:tls');
    const server = tls.createServer({ key: fs.readFileSync(path.join(gw.dataDir, 'tls', 'key.pem')), cert, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }, (s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const address = server.address() as { port: number };
      const result = await handshake(address.port, { minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0', rejectUnauthorized: false });
      assert.deepEqual(result.ok && result.protocol, 'TLSv1');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('plain HTTP to the HTTPS port gets no HTTP answer and reaches no route', T, async () => {
    const marker = `plain-probe-${crypto.randomBytes(4).toString('hex')}`;
    const result = await plainHttpGet(port, `/healthz?${marker}`);
    assert.equal(result.status, undefined, `plain HTTP got an HTTP answer: ${JSON.stringify(result)}`);
    assert.ok(result.error, 'the plain request should end with an error');
    assert.notEqual(result.error.code, 'TEST_TIMEOUT', 'the server should drop the connection, not leave it hanging');
    assert.ok(!gw.logs.some((line) => line.includes(marker)), 'the plain request reached the HTTP layer');
    // Control: the same request over TLS is logged, so the absence above means something.
    const control = `tls-probe-${crypto.randomBytes(4).toString('hex')}`;
    assert.equal((await gw.call('GET', `/healthz?${control}`)).status, 200);
    assert.ok(gw.logs.some((line) => line.includes(control)), 'requests are not logged with their URL; the check above proves nothing');
  });

  it('the generated certificate covers localhost, 127.0.0.1 and ::1, and a verifying client trusts it', T, async () => {
    const x509 = new crypto.X509Certificate(cert);
    const sans = (x509.subjectAltName ?? '').split(', ');
    for (const san of ['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1']) assert.ok(sans.includes(san), `missing ${san} in ${x509.subjectAltName}`);
    assert.ok(x509.checkHost('localhost'));
    assert.ok(x509.checkIP('127.0.0.1') && x509.checkIP('::1'));
    const verified = await handshake(port, { ca: cert, servername: 'localhost', rejectUnauthorized: true });
    assert.deepEqual(verified.ok && verified.authorized, true, JSON.stringify(verified));
    const res = await httpsGet(port, '/healthz', { ca: cert, servername: 'localhost' });
    assert.equal(res.status, 200);
    // …and without the CA a verifying client refuses it (it really is verified).
    const unverified = await handshake(port, { servername: 'localhost', rejectUnauthorized: true });
    assert.equal(unverified.ok, false);
  });

  it('/readyz answers 200 when the database answers', T, async () => {
    const res = await gw.call('GET', '/readyz');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { code: 0, msg: 'success', data: { status: 'ready' } });
  });

  it('/readyz answers 503 while the database lacks this version\'s schema (re-created empty, or not migrated)', T, async () => {
    const latest = await sql<{ name: string }>`select max(name) as name from pagoda_migrations`.execute(gw.core.db);
    const name = latest.rows[0]!.name;
    const row = await sql<{ name: string; timestamp: string }>`select name, timestamp from pagoda_migrations where name = ${name}`.execute(gw.core.db);
    await sql`delete from pagoda_migrations where name = ${name}`.execute(gw.core.db);
    try {
      const res = await gw.call('GET', '/readyz');
      assert.equal(res.status, 503);
      assert.match(res.json.error, new RegExp(`the database schema is not this version's \\(.+, needs ${name}\\)`));
    } finally {
      await sql`insert into pagoda_migrations (name, timestamp) values (${name}, ${row.rows[0]!.timestamp})`.execute(gw.core.db);
    }
    assert.equal((await gw.call('GET', '/readyz')).status, 200);
  });

  it('X-Request-Id: echoed when sane, replaced when not, present on 404s', T, async () => {
    const sane = await gw.call('GET', '/healthz', { headers: { 'x-request-id': 'abc-123' } });
    assert.equal(sane.headers['x-request-id'], 'abc-123');
    for (const insane of ['<script>', 'a'.repeat(300)]) {
      const res = await gw.call('GET', '/healthz', { headers: { 'x-request-id': insane } });
      const id = String(res.headers['x-request-id'] ?? '');
      assert.ok(id.length > 0 && id !== insane, `insane id ${insane.slice(0, 20)} was not replaced: ${id.slice(0, 40)}`);
      assert.match(id, /^[A-Za-z0-9._:-]{1,128}$/);
    }
    const missing = await gw.call('GET', '/api/v3/no-such-thing');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.code, 404);
    assert.match(String(missing.headers['x-request-id'] ?? ''), /^[A-Za-z0-9._:-]{1,128}$/);
    const echoed404 = await gw.call('GET', '/nowhere', { headers: { 'x-request-id': 'trace.42:x' } });
    assert.equal(echoed404.status, 404);
    assert.equal(echoed404.headers['x-request-id'], 'trace.42:x');
    const a = await gw.call('GET', '/healthz');
    const b = await gw.call('GET', '/healthz');
    assert.notEqual(a.headers['x-request-id'], b.headers['x-request-id'], 'generated ids must differ');
  });

  it('while draining: /readyz and other routes answer 503 envelopes, /healthz still 200', T, async () => {
    gw.setDraining(true);
    try {
      const ready = await gw.call('GET', '/readyz');
      assert.equal(ready.status, 503);
      assert.equal(ready.json.code, 503);
      assert.equal(typeof ready.json.msg, 'string');
      assert.equal(ready.json.data, undefined);
      const other = await gw.call('POST', '/api/v3/oauth/token', { body: '{}' });
      assert.equal(other.status, 503);
      assert.equal(other.json.code, 503);
      const health = await gw.call('GET', '/healthz');
      assert.equal(health.status, 200);
      assert.deepEqual(health.json, OK_ENVELOPE);
    } finally {
      gw.setDraining(false);
    }
    assert.equal((await gw.call('GET', '/readyz')).status, 200);
  });
});

describe('TLS configuration', () => {
  it('the host of PAGODA_PUBLIC_URL is in the generated certificate', T, async (t) => {
    const gw = await startGateway({ PAGODA_PUBLIC_URL: 'https://pay.example.test:8443' });
    t.after(() => gw.close());
    const cert = fs.readFileSync(path.join(gw.dataDir, 'tls', 'cert.pem'), 'utf8');
    const sans = (new crypto.X509Certificate(cert).subjectAltName ?? '').split(', ');
    for (const san of ['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1', 'DNS:pay.example.test']) {
      assert.ok(sans.includes(san), `missing ${san} in ${sans.join(', ')}`);
    }
    const verified = await handshake(portOf(gw), { ca: cert, servername: 'pay.example.test', rejectUnauthorized: true });
    assert.deepEqual(verified.ok && verified.authorized, true, JSON.stringify(verified));
  });

  it('PAGODA_TLS_MIN_VERSION=TLSv1.3 refuses a TLS 1.2-only client and serves TLS 1.3', T, async (t) => {
    const gw = await startGateway({ PAGODA_TLS_MIN_VERSION: 'TLSv1.3' });
    t.after(() => gw.close());
    const port = portOf(gw);
    const refused = await handshake(port, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', rejectUnauthorized: false });
    assert.equal(refused.ok, false, JSON.stringify(refused));
    if (!refused.ok) assert.match(`${refused.code} ${refused.message}`, PROTOCOL_REFUSAL);
    const res = await httpsGet(port, '/healthz', { minVersion: 'TLSv1.3', rejectUnauthorized: false });
    assert.equal(res.protocol, 'TLSv1.3');
    assert.equal(res.status, 200);
  });

  it('PAGODA_TLS_MIN_VERSION=TLSv1.1 accepts TLS 1.1 and still refuses TLS 1.0', T, async (t) => {
    const gw = await startGateway({ PAGODA_TLS_MIN_VERSION: 'TLSv1.1' });
    t.after(() => gw.close());
    const port = portOf(gw);
    const legacy = { ciphers: 'DEFAULT@SECLEVEL=0', rejectUnauthorized: false } as const;
    const v11 = await handshake(port, { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ...legacy });
    assert.deepEqual(v11.ok && v11.protocol, 'TLSv1.1', JSON.stringify(v11));
    const v10 = await handshake(port, { minVersion: 'TLSv1', maxVersion: 'TLSv1', ...legacy });
    assert.equal(v10.ok, false, JSON.stringify(v10));
  });
});

describe('behind a TLS-terminating proxy (PAGODA_BEHIND_PROXY=1)', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({ PAGODA_BEHIND_PROXY: '1' });
  });
  after(() => gw?.close());

  it('listens plain HTTP', T, () => {
    assert.match(gw.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  for (const [label, headers] of [
    ['no X-Forwarded-Proto', {}],
    ['X-Forwarded-Proto: http', { 'x-forwarded-proto': 'http' }],
    ['X-Forwarded-Proto: ftp', { 'x-forwarded-proto': 'ftp' }],
  ] as const) {
    it(`${label} → 403 envelope on API and cashier routes`, T, async () => {
      for (const [method, route] of [['GET', '/cashier/PI0'], ['POST', '/api/v3/oauth/token'], ['GET', '/api/v3/unknown']] as const) {
        const res = await gw.call(method, route, { headers, ...(method === 'POST' ? { body: '{}' } : {}) });
        assert.equal(res.status, 403, `${method} ${route}: ${res.text}`);
        assert.equal(res.json.code, 403);
        assert.equal(typeof res.json.msg, 'string');
        assert.equal(res.json.data, undefined);
      }
    });
  }

  it('X-Forwarded-Proto: https from a trusted proxy (loopback by default) reaches the API', T, async () => {
    const res = await gw.call('GET', '/api/v3/unknown', { headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(res.status, 404);
    // A scheme is case-insensitive.
    assert.equal((await gw.call('GET', '/api/v3/unknown', { headers: { 'x-forwarded-proto': 'HTTPS' } })).status, 404);
  });

  it("the load balancer's own health checks need no forwarded proto", T, async () => {
    assert.deepEqual((await gw.call('GET', '/healthz')).json, OK_ENVELOPE);
    assert.equal((await gw.call('GET', '/readyz')).status, 200);
  });

  it('the client address is the trusted X-Forwarded-For: the IP allow-list and the failed-authentication limit use it', T, async (t) => {
    const limited = await startGateway({ PAGODA_BEHIND_PROXY: '1', PAGODA_AUTH_FAILURE_LIMIT: '2' });
    t.after(() => limited.close());
    const m = await limited.merchant(['MXN']);
    await updateApp(limited.core.db, { box: limited.core.box, now: limited.clock.now(), actor: 'test' }, m.appId, { ipAllow: ['203.0.113.0/24'] });
    limited.clock.advance(limited.config.appCacheTtlMs);
    const token = (from: string, secret = m.appSecret) =>
      limited.call('POST', '/api/v3/oauth/token', {
        body: JSON.stringify({ grant_type: 'client_credentials', app_id: m.appId, app_secret: secret }),
        headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': from },
      });
    assert.equal((await token('203.0.113.9')).status, 200, 'inside the allow-list');
    const outside = await token('198.51.100.7');
    assert.equal(outside.status, 403, outside.text);
    assert.match(outside.json.error, /198\.51\.100\.7 is not in the app's IP allow-list/);
    for (let i = 0; i < 2; i++) assert.equal((await token('203.0.113.66', 'f'.repeat(32))).status, 401);
    assert.equal((await token('203.0.113.66')).status, 429, 'that client is throttled');
    assert.equal((await token('203.0.113.9')).status, 200, 'another client behind the same proxy is not');
  });

  it('X-Forwarded-Proto: https from an untrusted address → 403', T, async (t) => {
    const untrusted = await startGateway({ PAGODA_BEHIND_PROXY: '1', PAGODA_TRUSTED_PROXIES: '10.9.9.9' });
    t.after(() => untrusted.close());
    const res = await untrusted.call('GET', '/api/v3/unknown', { headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(res.status, 403, res.text);
    assert.equal(res.json.code, 403);
  });
});

describe('readiness when the database is gone', () => {
  it('/readyz answers 503 within ~2 s after the database is closed', T, async (t) => {
    const gw = await startGateway();
    // close() destroys the database again; Kysely's destroy is idempotent, and the test must not crash there.
    t.after(() => gw.close());
    assert.equal((await gw.call('GET', '/readyz')).status, 200);
    await gw.core.db.destroy();
    const started = Date.now();
    const res = await gw.call('GET', '/readyz');
    const elapsed = Date.now() - started;
    assert.equal(res.status, 503, res.text);
    assert.equal(res.json.code, 503);
    assert.equal(res.json.data, undefined);
    assert.ok(elapsed < 2_500, `readyz took ${elapsed} ms`);
    const health = await gw.call('GET', '/healthz');
    assert.equal(health.status, 200, 'liveness does not depend on the database');
  });
});

describe('a request trickling in', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({ PAGODA_REQUEST_TIMEOUT: '1s' });
  });
  after(() => gw?.close());

  it('is cut off with 408 once PAGODA_REQUEST_TIMEOUT has passed, however often a byte arrives', T, async () => {
    const socket = tls.connect({ port: portOf(gw), host: '127.0.0.1', rejectUnauthorized: false });
    await once(socket, 'secureConnect');
    const started = Date.now();
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    const closed = once(socket, 'close');
    socket.write('POST /api/v3/oauth/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{');
    // One byte every 200 ms: never idle, never done.
    const drip = setInterval(() => socket.writable && socket.write(' '), 200);
    try {
      await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error(`still open after 10 s; got: ${answer}`)), 10_000))]);
    } finally {
      clearInterval(drip);
      socket.destroy();
    }
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 900, `cut off after ${elapsed} ms, before its time`);
    assert.match(answer, /^HTTP\/1\.1 408 /);
  });

  it('a connection that never starts its TLS handshake is closed after PAGODA_REQUEST_TIMEOUT too (not Node\'s 120 s)', T, async () => {
    const socket = net.connect({ port: portOf(gw), host: '127.0.0.1' });
    await once(socket, 'connect');
    const started = Date.now();
    const closed = once(socket, 'close');
    try {
      await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('still open after 10 s')), 10_000))]);
    } finally {
      socket.destroy();
    }
    assert.ok(Date.now() - started >= 900, 'not before its time');
  });
});

describe('a request without Host', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway();
  });
  after(() => gw?.close());

  /** The raw answer to `request`, sent as it is over TLS. */
  async function raw(request: string): Promise<string> {
    const socket = tls.connect({ port: portOf(gw), host: '127.0.0.1', rejectUnauthorized: false });
    await once(socket, 'secureConnect');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    socket.end(request);
    await once(socket, 'close');
    return answer;
  }

  it('in HTTP/1.1 answers 400 in the envelope, with a request id; HTTP/1.0 needs none', T, async () => {
    const missing = await raw('GET /api/v3/merchant/balance HTTP/1.1\r\nConnection: close\r\n\r\n');
    assert.match(missing, /^HTTP\/1\.1 400 /);
    assert.match(missing, /\r\nx-request-id: \S+\r\n/i);
    assert.match(missing, /\{"code":400,"msg":"invalid request","error":"the Host header is required \(HTTP\/1\.1\)"\}/);
    const old = await raw('GET /healthz HTTP/1.0\r\n\r\n');
    assert.match(old, /^HTTP\/1\.1 200 /);
  });
});
