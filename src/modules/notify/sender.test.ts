import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { classifySendError, createSender, utf8Prefix, type SendResult, type Sender } from './sender.ts';

// Every receiver listens on 127.0.0.1; nothing else is ever dialled.

interface Seen {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface Receiver {
  base: string;
  port: number;
  seen: Seen[];
  connections: () => number;
  close: () => Promise<void>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

async function listen(server: http.Server | net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function receiver(handler: Handler, tls?: { key: string; cert: string }): Promise<Receiver> {
  const seen: Seen[] = [];
  let connections = 0;
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  };
  const server = tls ? https.createServer(tls, onRequest) : http.createServer(onRequest);
  server.on(tls ? 'secureConnection' : 'connection', () => connections++);
  const port = await listen(server);
  return {
    base: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    seen,
    connections: () => connections,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const post = (url: string) => ({ url, body: '{"orderNo":"P1"}', headers: { 'webhook-id': 'ntf_1' } });

function expectError(r: SendResult, errorClass: string): Extract<SendResult, { kind: 'error' }> {
  assert.equal(r.kind, 'error', `expected an error, got ${JSON.stringify(r)}`);
  assert.ok(r.kind === 'error');
  assert.equal(r.errorClass, errorClass, r.message);
  return r;
}

function expectResponse(r: SendResult): Extract<SendResult, { kind: 'response' }> {
  assert.equal(r.kind, 'response', `expected a response, got ${JSON.stringify(r)}`);
  assert.ok(r.kind === 'response');
  return r;
}

describe('sender over real HTTP on 127.0.0.1', () => {
  let sender: Sender;
  const receivers: Receiver[] = [];
  const open = async (handler: Handler, tls?: { key: string; cert: string }) => {
    const r = await receiver(handler, tls);
    receivers.push(r);
    return r;
  };

  before(() => {
    sender = createSender({ allowHosts: ['127.0.0.1'], timeoutMs: 300 });
  });
  after(async () => {
    await sender.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  it('returns 200 SUCCESS, having POSTed the body and headers', async () => {
    const r = await open((_req, res) => res.end('SUCCESS'));
    const result = expectResponse(await sender.send(post(`${r.base}/notify?x=1`)));
    assert.equal(result.status, 200);
    assert.equal(result.body, 'SUCCESS');
    assert.ok(Number.isInteger(result.durationMs) && result.durationMs >= 0);
    const [got] = r.seen;
    assert.equal(got?.method, 'POST');
    assert.equal(got?.path, '/notify?x=1');
    assert.equal(got?.body, '{"orderNo":"P1"}');
    assert.equal(got?.headers['webhook-id'], 'ntf_1');
    assert.equal(got?.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(got?.headers['user-agent'], 'Pagoda-Notify/1');
  });

  it('keeps the caller’s content-type over the default', async () => {
    const r = await open((_req, res) => res.end('OK'));
    await sender.send({ url: r.base, body: 'x', headers: { 'Content-Type': 'text/plain' } });
    assert.equal(r.seen[0]?.headers['content-type'], 'text/plain');
  });

  it('returns a 500 as a response', async () => {
    const r = await open((_req, res) => {
      res.statusCode = 500;
      res.end('boom');
    });
    const result = expectResponse(await sender.send(post(r.base)));
    assert.deepEqual([result.status, result.body], [500, 'boom']);
  });

  it('times out on a receiver that never answers', async () => {
    const r = await open(() => undefined);
    const result = expectError(await sender.send(post(r.base)), 'timeout');
    assert.equal(result.message, 'timeout after 300 ms');
    assert.ok(result.durationMs >= 250 && result.durationMs < 2000, `took ${result.durationMs} ms`);
  });

  it('times out on a body that trickles forever (the overall limit, not the idle one)', async () => {
    const r = await open((_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write('S'), 50);
      res.on('close', () => clearInterval(timer));
    });
    const result = expectError(await sender.send(post(r.base)), 'timeout');
    assert.ok(result.durationMs < 2000, `took ${result.durationMs} ms`);
  });

  it('does not follow a redirect', async () => {
    const target = await open((_req, res) => res.end('SUCCESS'));
    const r = await open((_req, res) => {
      res.writeHead(302, { location: `${target.base}/elsewhere` });
      res.end();
    });
    const result = expectResponse(await sender.send(post(r.base)));
    assert.equal(result.status, 302);
    assert.equal(target.seen.length, 0);
    assert.equal(target.connections(), 0);
  });

  it('reads 4 KiB of a 1 MB body and returns promptly', async () => {
    const r = await open((_req, res) => res.end(Buffer.alloc(1024 * 1024, 'a')));
    const started = Date.now();
    const result = expectResponse(await sender.send(post(r.base)));
    assert.equal(result.status, 200);
    assert.equal(Buffer.byteLength(result.body), 4096);
    assert.equal(result.truncated, true);
    assert.ok(Date.now() - started < 1000);
  });

  it('a body of exactly 4 KiB is read whole, not truncated', async () => {
    const r = await open((_req, res) => res.end(`OK${' '.repeat(4094)}`));
    const result = expectResponse(await sender.send(post(r.base)));
    assert.equal(result.body.length, 4096);
    assert.equal(result.truncated, false);
  });

  it('cuts the body on a character boundary', async () => {
    const r = await open((_req, res) => res.end(`${'a'.repeat(4095)}€tail`));
    const result = expectResponse(await sender.send(post(r.base)));
    assert.equal(result.body, 'a'.repeat(4095));
    assert.equal(result.truncated, true);
  });

  it('reports a closed port as connection refused', async () => {
    const probe = net.createServer();
    const port = await listen(probe);
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const result = expectError(await sender.send(post(`http://127.0.0.1:${port}/`)), 'connect');
    assert.equal(result.message, 'connection refused');
  });

  it('reports a malformed HTTP answer as a protocol error', async () => {
    const server = net.createServer((socket) => socket.resume().end('HTTP/1.1 abc\r\n\r\n'));
    const port = await listen(server);
    try {
      expectError(await sender.send(post(`http://127.0.0.1:${port}/`)), 'protocol');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('an answer the sender cannot use (an unsolicited 100 Continue) is a protocol error, not blamed on a closed connection', async () => {
    const server = net.createServer((socket) => socket.resume().end('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK'));
    const port = await listen(server);
    try {
      const result = expectError(await sender.send(post(`http://127.0.0.1:${port}/`)), 'protocol');
      assert.match(result.message, /^invalid HTTP response: the sender could not use the answer/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('reuses one keep-alive socket for two sends', async () => {
    const r = await open((_req, res) => res.end('SUCCESS'));
    expectResponse(await sender.send(post(r.base)));
    // undici marks the socket free one event-loop turn after the body ends; a
    // send issued in the same turn would open a second socket.
    await new Promise((resolve) => setImmediate(resolve));
    expectResponse(await sender.send(post(r.base)));
    assert.equal(r.seen.length, 2);
    assert.equal(r.connections(), 1);
  });

  it('opens at most maxConnectionsPerOrigin sockets to one origin', async () => {
    const limited = createSender({ allowHosts: ['127.0.0.1'], timeoutMs: 2000, maxConnectionsPerOrigin: 2 });
    try {
      const r = await open((_req, res) => setTimeout(() => res.end('OK'), 50));
      const results = await Promise.all(Array.from({ length: 6 }, () => limited.send(post(r.base))));
      assert.deepEqual(
        results.map((x) => x.kind === 'response' && x.status),
        Array(6).fill(200),
      );
      assert.equal(r.connections(), 2);
    } finally {
      await limited.close();
    }
  });

  it('fails TLS against a self-signed certificate', async () => {
    const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    const r = await open((_req, res) => res.end('SUCCESS'), { key: pems.private, cert: pems.cert });
    const result = expectError(await sender.send(post(r.base)), 'tls');
    assert.match(result.message, /^tls: .*self[- ]signed/i);
    assert.equal(r.seen.length, 0);
  });

  it('returns an invalid URL as a value', async () => {
    expectError(await sender.send(post('not a url')), 'other');
  });

  it('refuses to send after close()', async () => {
    const closed = createSender({ allowHosts: ['127.0.0.1'], timeoutMs: 300 });
    await closed.close();
    await closed.close();
    const result = expectError(await closed.send(post('http://127.0.0.1:9/')), 'other');
    assert.equal(result.message, 'the sender is closed');
  });
});

describe('sender SSRF guard', () => {
  it('never reaches loopback without an allow-list, by address or by name', async () => {
    const r = await receiver((_req, res) => res.end('SUCCESS'));
    const guarded = createSender({ allowHosts: [], timeoutMs: 1000 });
    try {
      const port = r.port;
      const cases: [url: string, message: RegExp][] = [
        [`http://127.0.0.1:${port}/`, /^address 127\.0\.0\.1 is loopback$/],
        [`http://2130706433:${port}/`, /^address 127\.0\.0\.1 is loopback$/],
        [`http://[::ffff:127.0.0.1]:${port}/`, /^address ::ffff:7f00:1 \(127\.0\.0\.1\) is loopback$/],
        [`http://[::1]:${port}/`, /^address ::1 is loopback$/],
        [`http://localhost:${port}/`, /^address 127\.0\.0\.1 is loopback \(resolved from localhost\)$/],
        [`https://localhost:${port}/`, /^address 127\.0\.0\.1 is loopback \(resolved from localhost\)$/],
      ];
      for (const [url, message] of cases) {
        const result = expectError(await guarded.send(post(url)), 'ssrf');
        assert.match(result.message, message, url);
      }
      assert.equal(r.seen.length, 0);
      assert.equal(r.connections(), 0);
    } finally {
      await guarded.close();
      await r.close();
    }
  });

  it('reaches localhost when the name is allow-listed', async () => {
    const r = await receiver((_req, res) => res.end('SUCCESS'));
    const byName = createSender({ allowHosts: ['localhost'], timeoutMs: 1000 });
    try {
      const result = expectResponse(await byName.send(post(`http://localhost:${r.port}/`)));
      assert.equal(result.status, 200);
      // The name, not the address, is allowed.
      expectError(await byName.send(post(`http://127.0.0.1:${r.port}/`)), 'ssrf');
      assert.equal(r.seen.length, 1);
    } finally {
      await byName.close();
      await r.close();
    }
  });
});

describe('classifySendError', () => {
  const ctx = { timedOut: false, timeoutMs: 10000, hostname: 'merchant.example' };
  const err = (code: string, message = code, extra: object = {}) => Object.assign(new Error(message), { code }, extra);
  const rows: [name: string, error: unknown, timedOut: boolean, errorClass: string, message: string | RegExp][] = [
    ['ESSRF', err('ESSRF', 'address 10.0.0.1 is private'), false, 'ssrf', 'address 10.0.0.1 is private'],
    ['our signal fired', new DOMException('The operation was aborted due to timeout', 'TimeoutError'), true, 'timeout', 'timeout after 10000 ms'],
    ['headers timeout', err('UND_ERR_HEADERS_TIMEOUT'), false, 'timeout', 'timeout after 10000 ms'],
    ['connect timeout', err('UND_ERR_CONNECT_TIMEOUT'), false, 'timeout', 'timeout after 10000 ms'],
    ['not found', err('ENOTFOUND', 'getaddrinfo ENOTFOUND merchant.example'), false, 'dns', 'dns lookup of merchant.example not found'],
    ['temporary dns failure', err('EAI_AGAIN'), false, 'dns', 'dns lookup of merchant.example failed (EAI_AGAIN)'],
    ['expired cert', err('CERT_HAS_EXPIRED', 'certificate has expired'), false, 'tls', 'tls: certificate has expired'],
    ['wrong name', err('ERR_TLS_CERT_ALTNAME_INVALID', 'Hostname/IP does not match'), false, 'tls', /^tls: Hostname/],
    ['plain HTTP on 443', err('EPROTO', 'SSL routines:ssl3_get_record:wrong version number'), false, 'tls', /wrong version number/],
    ['refused', err('ECONNREFUSED'), false, 'connect', 'connection refused'],
    ['out of descriptors here', Object.assign(new Error('fetch failed'), { cause: err('EMFILE', 'connect EMFILE 127.0.0.1:443') }), false, 'local', 'the gateway ran out of file descriptors (EMFILE); not counted as an attempt'],
    ['out of memory here', err('ENOBUFS'), false, 'local', 'the gateway ran out of socket buffers (ENOBUFS); not counted as an attempt'],
    ['wrapped in a cause', Object.assign(new Error('fetch failed'), { cause: err('ECONNRESET') }), false, 'connect', 'connection reset by the receiver'],
    ['closed early', err('UND_ERR_SOCKET', 'other side closed'), false, 'connect', 'connection closed by the receiver before a complete response'],
    ['parser', err('HPE_INVALID_CONSTANT', 'Expected HTTP/'), false, 'protocol', 'invalid HTTP response: Expected HTTP/'],
    ['anything else', new TypeError('boom'), false, 'other', 'TypeError: boom'],
    ['not even an Error', 'weird', false, 'other', ': weird'],
  ];
  for (const [name, error, timedOut, errorClass, message] of rows) {
    it(`${name} → ${errorClass}`, () => {
      const got = classifySendError(error, { ...ctx, timedOut });
      assert.equal(got.errorClass, errorClass);
      if (typeof message === 'string') assert.equal(got.message, message);
      else assert.match(got.message, message);
    });
  }
});

describe('utf8Prefix', () => {
  const rows: [name: string, input: Buffer, max: number, expected: string][] = [
    ['short input', Buffer.from('héllo'), 10, 'héllo'],
    ['exact fit', Buffer.from('ab€'), 5, 'ab€'],
    ['would split a 3-byte char', Buffer.from('ab€'), 4, 'ab'],
    ['would split a 4-byte char', Buffer.from('a😀b'), 4, 'a'],
    ['invalid bytes never exceed max', Buffer.from([0xff, 0xff, 0xff, 0xff]), 4, '\uFFFD'],
    ['a NUL reads as U+FFFD (no PostgreSQL text holds one)', Buffer.from('SUCCESS\0'), 4096, 'SUCCESS\uFFFD'],
    ['UTF-16 text keeps no NUL', Buffer.from('OK', 'utf16le'), 4096, 'O\uFFFDK\uFFFD'],
    ['a NUL turned U+FFFD still fits max', Buffer.from('ab\0'), 3, 'ab'],
  ];
  for (const [name, input, max, expected] of rows) {
    it(name, () => {
      const got = utf8Prefix(input, max);
      assert.equal(got, expected);
      assert.ok(Buffer.byteLength(got) <= max);
    });
  }
});
