import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { gzipSync } from 'node:zlib';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { readResponse } from './helpers/tls-client.ts';
import type { Credentials } from '../src/modules/merchants/merchant.service.ts';

const TOKEN = '/api/v3/oauth/token';

describe('every answer is the envelope; bad input changes nothing', () => {
  let gw: TestGateway;
  let creds: Credentials;
  const goodBody = () => JSON.stringify({ grant_type: 'client_credentials', app_id: creds.appId, app_secret: creds.appSecret });
  const countSigningKeys = async () => (await gw.core.db.selectFrom('signing_keys').selectAll().execute()).length;

  before(async () => {
    gw = await startGateway();
    creds = await gw.merchant();
  });
  after(() => gw.close());

  test('unknown paths answer a 404 envelope with a request id', async () => {
    for (const path of ['/api/v3/nothing', '/api/v2/payment/order/nope', '/nope']) {
      const res = await gw.call('GET', path);
      assert.equal(res.status, 404);
      assert.equal(res.json.code, 404);
      assert.equal(typeof res.json.msg, 'string');
      assert.match(res.json.error, /no route/);
      assert.ok(res.headers['x-request-id']);
      assert.match(String(res.headers['content-type']), /application\/json; charset=utf-8/);
    }
  });

  test('a path that exists for another method answers 405 with Allow, in the envelope', async () => {
    const cases: Array<['GET' | 'POST', string, string]> = [
      ['GET', '/api/v3/oauth/token', 'POST'],
      ['POST', '/api/v2/merchant/balance?currency=MXN', 'GET, HEAD'],
      ['GET', '/api/v2/payment/order/create', 'POST'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await gw.call(method, path, method === 'POST' ? { body: '{}' } : {});
      assert.equal(res.status, 405, `${method} ${path}: ${res.text}`);
      assert.equal(res.json.code, 405);
      assert.equal(res.headers.allow, allow);
      assert.match(res.json.error, new RegExp(`^${method} is not allowed on ${path.split('?')[0]}; use`));
    }
  });

  const accepted: Array<[string, Record<string, string>]> = [
    ['bare application/json', { 'content-type': 'application/json' }],
    ['application/json; charset=utf-8', { 'content-type': 'application/json; charset=utf-8' }],
    ['application/json;charset=UTF-8', { 'content-type': 'application/json;charset=UTF-8' }],
    ['a stray Charset header', { 'content-type': 'application/json', charset: 'utf-8' }],
  ];
  for (const [name, headers] of accepted) {
    test(`accepts ${name}`, async () => {
      const res = await gw.call('POST', TOKEN, { body: goodBody(), headers });
      assert.equal(res.status, 200, res.text);
    });
  }

  const refused: Array<[string, () => { body: string | Buffer; headers?: Record<string, string> }, number, RegExp]> = [
    ['invalid JSON', () => ({ body: '{"grant_type": "client_credentials",' }), 400, /not valid JSON/],
    ['trailing garbage', () => ({ body: goodBody() + 'x' }), 400, /not valid JSON/],
    ['invalid UTF-8', () => ({ body: Buffer.concat([Buffer.from('{"grant_type":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]) }), 400, /UTF-8/],
    ['empty body', () => ({ body: '' }), 400, /empty/],
    ['duplicate keys', () => ({ body: '{"app_id":"a","app_id":"b"}' }), 400, /duplicate/],
    ['a NUL character in a string', () => ({ body: '{"grant_type":"client_credentials","app_id":"a\\u0000","app_secret":"b"}' }), 400, /NUL character/],
    ['text/plain', () => ({ body: goodBody(), headers: { 'content-type': 'text/plain' } }), 415, /application\/json/],
    ['form encoded', () => ({ body: 'grant_type=client_credentials', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, /application\/json/],
    ['json in latin1', () => ({ body: goodBody(), headers: { 'content-type': 'application/json; charset=iso-8859-1' } }), 415, /charset/],
    ['a gzip-compressed body', () => ({ body: gzipSync(goodBody()), headers: { 'content-encoding': 'gzip' } }), 415, /Content-Encoding gzip is not supported/],
    ['a body with an unknown coding', () => ({ body: goodBody(), headers: { 'content-encoding': 'br, gzip' } }), 415, /Content-Encoding br, gzip/],
    ['a body over 64 KiB', () => ({ body: JSON.stringify({ grant_type: 'client_credentials', pad: 'x'.repeat(64 * 1024) }) }), 413, /64 KiB/],
    ['a body of 30 000 numbers (under 64 KiB)', () => ({ body: JSON.stringify({ grant_type: 'client_credentials', pad: Array(30_000).fill(0) }) }), 400, /more than 1000 members and elements/],
  ];
  for (const [name, make, status, detail] of refused) {
    test(`refuses ${name} with ${status}`, async () => {
      const keysBefore = await countSigningKeys();
      const { body, headers } = make();
      const res = await gw.call('POST', TOKEN, { body, headers });
      assert.equal(res.status, status, res.text);
      assert.equal(res.json.code, status);
      assert.match(res.json.error, detail);
      assert.equal(res.json.data, undefined);
      assert.equal(await countSigningKeys(), keysBefore);
    });
  }

  test('amount as a string and unknown fields are tolerated where the contract says so', async () => {
    const res = await gw.call('POST', TOKEN, {
      body: JSON.stringify({ grant_type: 'client_credentials', app_id: creds.appId, app_secret: creds.appSecret, amount: '100.00' }),
    });
    assert.equal(res.status, 200);
  });

  test('a crash answers a 500 envelope without details; the details are in the log under the request id', async () => {
    const crashing = await startGateway(
      {},
      {
        listen: false,
        routes: (app) =>
          app.get('/api/v3/crash', async () => {
            throw new TypeError('secret internal detail');
          }),
      },
    );
    try {
      const res = await crashing.app.inject({ method: 'GET', url: '/api/v3/crash', headers: { 'x-request-id': 'crash-1' } });
      assert.equal(res.statusCode, 500);
      const body = res.json();
      assert.equal(body.code, 500);
      assert.ok(!res.body.includes('secret internal detail'));
      assert.match(body.error, /crash-1/);
      const logged = crashing.logs.join('');
      assert.match(logged, /secret internal detail/);
      assert.match(logged, /crash-1/);
    } finally {
      await crashing.close();
    }
  });

  test('API answers, successes and errors alike, are not to be cached or sniffed; a token answer also says Pragma: no-cache', async () => {
    const token = await gw.call('POST', TOKEN, { body: goodBody() });
    assert.equal(token.status, 200, token.text);
    assert.deepEqual([token.headers['cache-control'], token.headers.pragma, token.headers['x-content-type-options']], ['no-store', 'no-cache', 'nosniff']);
    const escaped = await gw.call('POST', '/%61pi/v3/oauth/token', { body: goodBody() });
    assert.equal(escaped.status, 200, 'the router decodes the path');
    assert.deepEqual([escaped.headers['cache-control'], escaped.headers['x-content-type-options']], ['no-store', 'nosniff'], 'so the headers follow the route, not the spelling');
    for (const res of [await gw.call('GET', '/api/v3/merchant/balance'), await gw.call('GET', '/api/v3/nothing')]) {
      assert.deepEqual([res.headers['cache-control'], res.headers['x-content-type-options']], ['no-store', 'nosniff'], res.text);
    }
  });

  test('health and metrics answers are not cached either', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) assert.equal((await gw.call('GET', path)).headers['cache-control'], 'no-store', path);
  });

  test('X-Request-Id is echoed when sane and replaced otherwise', async () => {
    const sane = await gw.call('GET', '/healthz', { headers: { 'x-request-id': 'merchant-req.42' } });
    assert.equal(sane.headers['x-request-id'], 'merchant-req.42');
    const insane = await gw.call('GET', '/healthz', { headers: { 'x-request-id': 'a b<script>' } });
    assert.notEqual(insane.headers['x-request-id'], 'a b<script>');
    assert.match(String(insane.headers['x-request-id']), /^req_/);
  });

  /** Sends `head` verbatim on a fresh TLS connection and reads the one answer. */
  const raw = async (head: string) => {
    const socket = tls.connect({ host: '127.0.0.1', port: Number(new URL(gw.url).port), rejectUnauthorized: false });
    try {
      await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      socket.write(head);
      const res = await readResponse(socket, 5000);
      return { ...res, json: JSON.parse(res.body) as Record<string, any> };
    } finally {
      socket.destroy();
    }
  };

  const refusedBeforeRouting: Array<[string, () => string, number, RegExp]> = [
    ['a path that is not valid percent-encoding', () => 'GET /api/%ZZ HTTP/1.1\r\nhost: x\r\n\r\n', 400, /not a valid url/],
    ['a truncated percent-escape in a route parameter', () => 'GET /api/v3/merchant/balance/%E0%A4%A HTTP/1.1\r\nhost: x\r\n\r\n', 400, /not a valid url/],
    ['headers over the size limit', () => `GET /api/v3/merchant/balance HTTP/1.1\r\nhost: x\r\nx-pad: ${'a'.repeat(20_000)}\r\n\r\n`, 431, /headers exceed/],
    ['a malformed header line', () => 'GET /api/v3/merchant/balance HTTP/1.1\r\nhost: x\r\nno colon here\r\n\r\n', 400, /malformed HTTP request/],
    ['a repeated Content-Length', () => 'POST /api/v3/oauth/token HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}', 400, /malformed HTTP request/],
  ];
  test('a query string whose escapes are not UTF-8 is a 400, before any signature is checked', async () => {
    for (const query of ['appId=x&x=%FF&sign=y', 'currency=%E0%A4%A', 'currency=%ZZ']) {
      const res = await gw.call('GET', `/api/v2/merchant/balance?${query}`);
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json.error, 'query string: not valid UTF-8 percent-encoding');
      assert.ok(res.headers['x-request-id']);
    }
    const fine = await gw.call('GET', '/api/v3/merchant/balance?currency=%4D%58%4E');
    assert.equal(fine.status, 401, 'valid escapes go on to authentication');
  });

  test('a %00 anywhere in the URL is a 400, before authentication or any lookup', async () => {
    const token = await gw.token(creds);
    const paths = ['/api/v3/payment/query?merOrderNo=a%00b', '/api/v3/payment/query?orderNo=a%00', '/api/v2/merchant/balance?appId=a%00&sign=00', '/cashier/a%00', '/sandbox/v1/payins/a%00/complete'];
    for (const path of paths) {
      const post = path.startsWith('/sandbox/');
      const res = await gw.call(post ? 'POST' : 'GET', path, { headers: { authorization: `Bearer ${token}` }, body: post ? '{"outcome":"PAID"}' : undefined });
      assert.equal(res.status, 400, `${path}: ${res.text}`);
      assert.equal(res.json.error, 'the NUL character (%00) is not allowed in a URL');
    }
    const fine = await gw.call('GET', '/api/v3/payment/query?merOrderNo=a%2500b', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(fine.status, 404, 'an escaped percent sign is not a NUL');
  });

  for (const [name, head, status, detail] of refusedBeforeRouting) {
    test(`${name} answers ${status} in the envelope with a request id`, async () => {
      const res = await raw(head());
      assert.equal(res.status, status, res.headers + res.body);
      assert.equal(res.json.code, status);
      assert.equal(typeof res.json.msg, 'string');
      assert.match(res.json.error, detail);
      assert.match(res.headers, /^content-type: application\/json; charset=utf-8$/im);
      assert.match(res.headers, /^x-request-id: \S+$/im);
    });
  }

  test('a chunked body is read; one with another transfer coding is refused (415), not parsed as plain', async () => {
    const chunk = (body: string) => `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    const head = (coding: string) => `POST ${TOKEN} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: ${coding}\r\n\r\n`;
    const plain = await raw(head('chunked') + chunk(goodBody()));
    assert.equal(plain.status, 200, plain.body);
    for (const coding of ['gzip, chunked', 'identity, chunked']) {
      const res = await raw(head(coding) + chunk(goodBody()));
      assert.equal(res.status, 415, res.body);
      assert.equal(res.json.error, `Transfer-Encoding ${coding} is not supported; send the body chunked or with a Content-Length`);
    }
  });

  test('a chunked body the parser refuses answers 400 under the request id the caller sent', async () => {
    const res = await raw(`POST ${TOKEN} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-request-id: bad-chunk-1\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`);
    assert.equal(res.status, 400, res.headers + res.body);
    assert.equal(res.json.error, 'malformed HTTP request');
    assert.match(res.headers, /^x-request-id: bad-chunk-1$/im);
  });

  test('after an answered request, a malformed one on the same connection gets its own id, not the earlier one\'s', async () => {
    const res = await raw(`GET /healthz HTTP/1.1\r\nhost: x\r\nx-request-id: earlier-1\r\n\r\n`);
    assert.equal(res.status, 200);
    const socket = tls.connect({ host: '127.0.0.1', port: Number(new URL(gw.url).port), rejectUnauthorized: false });
    try {
      await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      socket.write(`GET /healthz HTTP/1.1\r\nhost: x\r\nx-request-id: earlier-2\r\n\r\n`);
      assert.match((await readResponse(socket, 5000)).headers, /^x-request-id: earlier-2$/im);
      socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\nno colon here\r\n\r\n');
      const refused = await readResponse(socket, 5000);
      assert.equal(refused.status, 400);
      assert.doesNotMatch(refused.headers, /earlier-2/);
    } finally {
      socket.destroy();
    }
  });

  test('a bad chunk in a request pipelined behind another is never answered as that other request', async () => {
    const token = await gw.token(creds);
    const socket = tls.connect({ host: '127.0.0.1', port: Number(new URL(gw.url).port), rejectUnauthorized: false });
    try {
      await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      const chunks: Buffer[] = [];
      socket.on('data', (d: Buffer) => chunks.push(d));
      const closed = new Promise((resolve) => socket.once('close', resolve));
      // The first is slow enough (it asks the database) to be under way when the second's body is refused.
      socket.write(
        `GET /api/v3/merchant/balance HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\nx-request-id: pipe-1\r\n\r\n` +
          `POST ${TOKEN} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-request-id: pipe-2\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      );
      await closed;
      const answered = Buffer.concat(chunks).toString('latin1');
      // Either the balance's own answer came first, or the connection closed: never a 400 under pipe-1.
      for (const head of answered.split('\r\n\r\n').filter((h) => h.startsWith('HTTP/1.1 '))) {
        if (/x-request-id: pipe-1/i.test(head)) assert.match(head, /^HTTP\/1\.1 200 /, head);
      }
      assert.ok(gw.logs.join('').includes('"reqId":"pipe-2","code":"BAD_REQUEST","parserCode":"HPE_INVALID_CHUNK_SIZE"'), 'the refusal is logged under the request it was');
    } finally {
      socket.destroy();
    }
  });

  test('a body the client breaks off is logged as refused, not as the database being unreachable', async () => {
    const socket = tls.connect({ host: '127.0.0.1', port: Number(new URL(gw.url).port), rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    socket.write(`POST ${TOKEN} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\nx-request-id: cut-off-1\r\n\r\n{"grant_type":`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.destroy();
    const line = async () => gw.logs.join('').split('\n').find((l) => l.includes('"cut-off-1"') && /"msg":"request (refused|failed)"/.test(l));
    const deadline = Date.now() + 5000;
    while (!(await line()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const logged = await line();
    assert.ok(logged, 'the broken-off request is logged');
    assert.doesNotMatch(logged, /NOT_READY|database/);
    assert.match(logged, /"code":"BAD_REQUEST".*the connection closed before the whole body arrived/);
  });
});
