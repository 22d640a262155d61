import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SignJWT, decodeProtectedHeader } from 'jose';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { createTokenService, signingKeyContext } from '../src/platform/auth/tokens.ts';
import type { Credentials } from '../src/modules/merchants/merchant.service.ts';
import { createApp, rotateApp, setMerchantActive, updateApp } from '../src/modules/merchants/merchant.service.ts';

/** The v2 rule written independently of the gateway's own module. */
function referenceSign(params: Record<string, unknown>, secret: string): string {
  const render = (obj: Record<string, unknown>): string =>
    Object.keys(obj)
      .filter((k) => k !== 'sign' && obj[k] !== null && obj[k] !== undefined && obj[k] !== '')
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .map((k) => `${k}=${typeof obj[k] === 'object' ? render(obj[k] as Record<string, unknown>) : String(obj[k])}`)
      .join('&');
  return createHash('sha256').update(`${render(params)}&key=${secret}`, 'utf8').digest('hex');
}

const tokenBody = (appId: string, appSecret: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ grant_type: 'client_credentials', app_id: appId, app_secret: appSecret, ...extra });

describe('v3 token and bearer guard', () => {
  let gw: TestGateway;
  let creds: Credentials;
  before(async () => {
    gw = await startGateway();
    creds = await gw.merchant(['IDR', 'MXN']);
  });
  after(() => gw.close());

  test('issues an HS256 JWT with kid and the documented claims', async () => {
    const res = await gw.call('POST', '/api/v3/oauth/token', { body: tokenBody(creds.appId, creds.appSecret) });
    assert.equal(res.status, 200);
    assert.equal(res.json.code, 0);
    assert.equal(res.json.data.token_type, 'Bearer');
    assert.equal(res.json.data.expires_in, 1800);
    const token = res.json.data.token as string;
    const header = decodeProtectedHeader(token);
    assert.equal(header.alg, 'HS256');
    assert.match(String(header.kid), /^k_/);
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    assert.equal(claims.mid, creds.merchantId);
    assert.equal(claims.aid, creds.appId);
    assert.equal(claims.type, 'merchant');
    assert.equal(claims.iss, gw.config.tokenIssuer);
    assert.equal(claims.exp - claims.iat, 1800);
    assert.ok(claims.jti);
  });

  test('the token opens the balance; the answer is the zero balance of the default currency', async () => {
    const token = await gw.token(creds);
    const res = await gw.call('GET', '/api/v3/merchant/balance', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { code: 0, msg: 'success', data: { currency: 'IDR', payinValue: 0, payoutValue: 0, disableValue: 0 } });
    const mxn = await gw.call('POST', '/api/v3/merchant/balance', { body: '{"currency":"mxn"}', headers: { authorization: `Bearer ${token}` } });
    assert.equal(mxn.json.data.currency, 'MXN');
    const bare = await gw.call('POST', '/api/v3/merchant/balance', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(bare.json.data.currency, 'IDR');
  });

  test('balance refuses an unknown or disabled currency', async () => {
    const token = await gw.token(creds);
    const auth = { authorization: `Bearer ${token}` };
    const unknown = await gw.call('GET', '/api/v3/merchant/balance?currency=XYZ', { headers: auth });
    assert.equal(unknown.status, 400);
    assert.match(unknown.json.error, /currency/);
    const disabled = await gw.call('GET', '/api/v3/merchant/balance?currency=BRL', { headers: auth });
    assert.equal(disabled.status, 422);
    const wrongType = await gw.call('POST', '/api/v3/merchant/balance', { body: '{"currency":5}', headers: auth });
    assert.equal(wrongType.status, 400);
    for (const body of ['"MXN"', '["MXN"]', 'null', '5']) {
      const notObject = await gw.call('POST', '/api/v3/merchant/balance', { body, headers: auth });
      assert.equal(notObject.status, 400, `${body}: ${notObject.text}`);
      assert.match(notObject.json.error, /^body: must be a JSON object$/);
    }
  });

  const refusals: Array<[string, () => string, number, RegExp]> = [
    ['unknown grant_type', () => JSON.stringify({ grant_type: 'password', app_id: 'x', app_secret: 'y' }), 400, /grant_type/],
    ['missing app_secret', () => JSON.stringify({ grant_type: 'client_credentials', app_id: 'x' }), 400, /app_secret/],
    ['app_id of the wrong type', () => JSON.stringify({ grant_type: 'client_credentials', app_id: 5, app_secret: 'y' }), 400, /app_id/],
    ['body is an array', () => '[]', 400, /object/],
  ];
  for (const [name, body, status, detail] of refusals) {
    test(`token request refused: ${name}`, async () => {
      const res = await gw.call('POST', '/api/v3/oauth/token', { body: body() });
      assert.equal(res.status, status);
      assert.equal(res.json.code, status);
      assert.match(res.json.error, detail);
      assert.equal(res.json.data, undefined);
    });
  }

  test('extra fields in a token request are ignored (RFC 6749 §3.2)', async () => {
    const res = await gw.call('POST', '/api/v3/oauth/token', { body: tokenBody(creds.appId, creds.appSecret, { scope: 'all', foo: 1 }) });
    assert.equal(res.status, 200);
  });

  test('wrong secret and unknown app id answer 401 with the same message', async () => {
    const wrongSecret = await gw.call('POST', '/api/v3/oauth/token', { body: tokenBody(creds.appId, 'f'.repeat(32)) });
    const unknownApp = await gw.call('POST', '/api/v3/oauth/token', { body: tokenBody('e'.repeat(32), creds.appSecret) });
    assert.equal(wrongSecret.status, 401);
    assert.equal(unknownApp.status, 401);
    assert.equal(wrongSecret.json.error, unknownApp.json.error);
    assert.equal(wrongSecret.json.msg, unknownApp.json.msg);
  });

  test('expired token (past 60 s skew) is refused; within the skew it works', async () => {
    const token = await gw.token(creds);
    const auth = { authorization: `Bearer ${token}` };
    gw.clock.advance(1800_000 + 30_000);
    assert.equal((await gw.call('GET', '/api/v3/merchant/balance', { headers: auth })).status, 200);
    gw.clock.advance(40_000);
    const res = await gw.call('GET', '/api/v3/merchant/balance', { headers: auth });
    assert.equal(res.status, 401);
    assert.match(res.json.error, /expired/);
  });

  test('forged tokens are refused: other key, alg none, alg switched, tampered claims, garbage', async () => {
    const token = await gw.token(creds);
    const [h, p] = token.split('.') as [string, string, string];
    const kid = decodeProtectedHeader(token).kid!;
    const now = Math.floor(gw.clock.now() / 1000);
    const claims = { mid: creds.merchantId, aid: creds.appId, type: 'merchant', iss: gw.config.tokenIssuer, jti: 'x' };
    const otherKey = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid }).setIssuedAt(now).setExpirationTime(now + 600).sign(randomBytes(32));
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const payload = b64({ ...claims, iat: now, exp: now + 600 });
    const algNone = `${b64({ alg: 'none', kid })}.${payload}.`;
    const switched = `${b64({ alg: 'HS512', kid })}.${p}.${token.split('.')[2]}`;
    const rs256 = `${b64({ alg: 'RS256', kid })}.${p}.${token.split('.')[2]}`;
    const tampered = `${h}.${b64({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), mid: 'mch_other' })}.${token.split('.')[2]}`;
    // The MAC in another base64url spelling that decodes to the same bytes: padded, or an unused low bit set.
    const mac = token.split('.')[2]!;
    const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const lastBitFlipped = mac.slice(0, -1) + ALPHABET[ALPHABET.indexOf(mac.at(-1)!) ^ 1];
    assert.deepEqual(Buffer.from(lastBitFlipped, 'base64url'), Buffer.from(mac, 'base64url'));
    const respelled = [`${h}.${p}.${mac}=`, `${h}.${p}.${lastBitFlipped}`];
    for (const bad of [otherKey, algNone, switched, rs256, tampered, 'garbage', `${h}.${p}`, ...respelled]) {
      const res = await gw.call('GET', '/api/v3/merchant/balance', { headers: { authorization: `Bearer ${bad}` } });
      assert.equal(res.status, 401, bad);
      assert.equal(res.json.code, 401);
    }
    for (const header of ['', 'Basic abc', `Bearer`, `Token ${token}`]) {
      const res = await gw.call('GET', '/api/v3/merchant/balance', { headers: header ? { authorization: header } : {} });
      assert.equal(res.status, 401, header);
    }
    for (const pair of [[`Bearer ${token}`, 'Bearer garbage'], [`Bearer ${token}`, `Bearer ${token}`]]) {
      const res = await gw.call('GET', '/api/v3/merchant/balance', { headers: { authorization: pair } });
      assert.equal(res.status, 401, res.text);
      assert.equal(res.json.error, 'the Authorization header appears more than once');
    }
  });

  test('a token of a disabled app stops working within the app cache TTL (1 s)', async () => {
    const other = await gw.merchant(['IDR']);
    const token = await gw.token(other);
    await updateApp(gw.core.db, { box: gw.core.box, now: gw.clock.now(), actor: 'test' }, other.appId, { active: false });
    gw.clock.advance(gw.config.appCacheTtlMs);
    const res = await gw.call('GET', '/api/v3/merchant/balance', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 401);
    const again = await gw.call('POST', '/api/v3/oauth/token', { body: tokenBody(other.appId, other.appSecret) });
    assert.equal(again.status, 401);
  });

  test('enabling a disabled app again does not revive the tokens issued before it was disabled', async () => {
    const balance = (token: string) => gw.call('GET', '/api/v3/merchant/balance', { headers: { authorization: `Bearer ${token}` } });
    const deps = () => ({ box: gw.core.box, now: gw.clock.now(), actor: 'test' });
    const m = await gw.merchant(['IDR']);
    const before = await gw.token(m);
    // Other changes leave live tokens alone.
    await updateApp(gw.core.db, deps(), m.appId, { scopes: ['payin', 'payout'], ackMode: 'any-2xx' });
    gw.clock.advance(gw.config.appCacheTtlMs + 1);
    assert.equal((await balance(before)).status, 200);

    await updateApp(gw.core.db, deps(), m.appId, { active: false });
    await updateApp(gw.core.db, deps(), m.appId, { active: true });
    gw.clock.advance(gw.config.appCacheTtlMs + 1);
    const revived = await balance(before);
    assert.equal(revived.status, 401, revived.text);
    assert.equal(revived.json.error, 'token issued before its app or merchant was disabled');
    const after = await gw.token(m);
    assert.equal((await balance(after)).status, 200, 'a token issued after the app is enabled again works');

    await updateApp(gw.core.db, deps(), m.appId, { active: false });
    await updateApp(gw.core.db, deps(), m.appId, { active: true });
    gw.clock.advance(gw.config.appCacheTtlMs + 1);
    assert.equal((await balance(after)).status, 401, 'each disable ends the tokens issued before it');
    assert.equal((await balance(await gw.token(m))).status, 200);
  });

  test('a disabled merchant: valid credentials get 403 "merchant is disabled" (token, Bearer, v2 sign); wrong ones still 401', async () => {
    const other = await gw.merchant(['IDR']);
    const token = await gw.token(other);
    const deps = { box: gw.core.box, now: gw.clock.now(), actor: 'test' };
    await setMerchantActive(gw.core.db, deps, other.merchantId, false, 'test: suspended');
    gw.clock.advance(gw.config.appCacheTtlMs);
    const v2Query = (secret: string) => `appId=${other.appId}&sign=${referenceSign({ appId: other.appId }, secret)}`;
    const refusals = {
      bearer: await gw.call('GET', '/api/v3/merchant/balance', { headers: { authorization: `Bearer ${token}` } }),
      token: await gw.call('POST', '/api/v3/oauth/token', { body: tokenBody(other.appId, other.appSecret) }),
      v2: await gw.call('GET', `/api/v2/merchant/balance?${v2Query(other.appSecret)}`),
    };
    for (const [name, res] of Object.entries(refusals)) {
      assert.equal(res.status, 403, `${name}: ${res.text}`);
      assert.equal(res.json.error, 'merchant is disabled');
    }
    assert.equal((await gw.call('POST', '/api/v3/oauth/token', { body: tokenBody(other.appId, 'f'.repeat(32)) })).status, 401);
    assert.equal((await gw.call('GET', `/api/v2/merchant/balance?${v2Query('f'.repeat(32))}`)).status, 401);
    const audit = await gw.core.db.selectFrom('audit_log').selectAll().where('subject', '=', other.merchantId).where('action', '=', 'merchant.disable').execute();
    assert.equal(audit.length, 1);
    assert.match(String(audit[0]!.detail), /suspended/);

    await setMerchantActive(gw.core.db, { ...deps, now: gw.clock.now() }, other.merchantId, true, 'test: reinstated');
    gw.clock.advance(gw.config.appCacheTtlMs);
    // Enabling the merchant again does not revive the tokens issued before it was disabled.
    const revived = await gw.call('GET', '/api/v3/merchant/balance', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(revived.status, 401, revived.text);
    assert.equal(revived.json.error, 'token issued before its app or merchant was disabled');
    assert.equal((await gw.call('GET', '/api/v3/merchant/balance', { headers: { authorization: `Bearer ${await gw.token(other)}` } })).status, 200);
    assert.equal((await gw.call('GET', `/api/v2/merchant/balance?${v2Query(other.appSecret)}`)).status, 200);
  });

  test("a rotation by another process (pagoda keys rotate) is seen within a second; its retired key signs nothing new and verifies no token made after it", async () => {
    const before = await gw.token(creds);
    const oldKid = decodeProtectedHeader(before).kid!;
    const cli = createTokenService({ db: gw.core.db, box: gw.core.box, clock: gw.clock, issuer: gw.config.tokenIssuer });
    const newKid = await cli.rotate();
    gw.clock.advance(1_001);
    assert.equal(decodeProtectedHeader(await gw.token(creds)).kid, newKid);
    const row = await gw.core.db.selectFrom('signing_keys').selectAll().where('kid', '=', oldKid).executeTakeFirstOrThrow();
    const oldKey = Buffer.from(gw.core.box.open(row.key_enc, signingKeyContext(oldKid)), 'base64');
    const balance = (token: string) => gw.call('GET', '/api/v3/merchant/balance', { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await balance(before)).status, 200, 'a token made before the rotation stays valid');
    const app = await gw.core.db.selectFrom('app_secrets').select('id').where('app_id', '=', creds.appId).executeTakeFirstOrThrow();
    const claims = { mid: creds.merchantId, aid: creds.appId, sid: app.id, tep: 0, type: 'merchant', jti: 'forged' };
    const now = Math.floor(gw.clock.now() / 1000);
    const sign = (body: Record<string, unknown>, iat: number, exp: number) =>
      new SignJWT(body).setProtectedHeader({ alg: 'HS256', kid: oldKid }).setIssuer(gw.config.tokenIssuer).setIssuedAt(iat).setExpirationTime(exp).sign(oldKey);
    gw.clock.advance(6_000);
    // Made with the retired key six seconds after its retirement: no process of the gateway made it.
    const late = await balance(await sign(claims, now + 6, now + 600));
    assert.equal(late.status, 401, late.text);
    assert.equal(late.json.error, 'token signed with a retired key');
    // Dated before the retirement, but living ten years, or without the claims every token carries.
    const longLived = await balance(await sign(claims, now - 2, now + 10 * 365 * 86_400));
    assert.equal(longLived.json.error, 'token lives longer than the gateway issues them');
    const { sid: _sid, tep: _tep, ...unbound } = claims;
    assert.equal((await balance(await sign(unbound, now - 2, now + 600))).json.error, 'token issued by an earlier version of the gateway; request a new one');
  });

  test('a token of another issuer (a process with another PAGODA_PUBLIC_URL on the same database) is refused, whatever key signed it', async () => {
    const app = await gw.core.db.selectFrom('app_secrets').select('id').where('app_id', '=', creds.appId).executeTakeFirstOrThrow();
    const elsewhere = createTokenService({ db: gw.core.db, box: gw.core.box, clock: gw.clock, issuer: 'https://other.example' });
    const { token } = await elsewhere.issue(creds.merchantId, creds.appId, { secretId: app.id, epoch: 0 });
    const res = await gw.call('GET', '/api/v3/merchant/balance', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 401, res.text);
    assert.equal(res.json.error, 'token from another issuer');
  });

  test('a token is refused from exactly its expiry plus the 60 s skew, not a second later', async () => {
    const { token, expiresIn } = await gw.core.tokens.issue(creds.merchantId, creds.appId, {
      secretId: (await gw.core.db.selectFrom('app_secrets').select('id').where('app_id', '=', creds.appId).executeTakeFirstOrThrow()).id,
      epoch: 0,
    });
    const exp = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp;
    assert.equal(exp, Math.floor(gw.clock.now() / 1000) + expiresIn);
    gw.clock.set((exp + 60) * 1000 - 1);
    assert.equal((await gw.call('GET', '/api/v3/merchant/balance', { headers: { authorization: `Bearer ${token}` } })).status, 200, 'a millisecond before');
    const fresh = createTokenService({ db: gw.core.db, box: gw.core.box, clock: gw.clock, issuer: gw.config.tokenIssuer });
    gw.clock.set((exp + 60) * 1000);
    await assert.rejects(fresh.verify(token), (err: { detail?: string }) => err.detail === 'token expired', 'at the second itself, by a process that never saw it');
    assert.equal((await gw.call('GET', '/api/v3/merchant/balance', { headers: { authorization: `Bearer ${token}` } })).status, 401, 'and by the one that did');
  });

  test('signing key rotation keeps live tokens valid and signs new ones with the new kid', async () => {
    const before = await gw.token(creds);
    const kid = await gw.core.tokens.rotate();
    const after = await gw.token(creds);
    assert.equal(decodeProtectedHeader(after).kid, kid);
    assert.notEqual(decodeProtectedHeader(before).kid, kid);
    for (const token of [before, after]) {
      const res = await gw.call('GET', '/api/v3/merchant/balance', { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200);
    }
  });

  test('IP allow-list: outside → 403 for token and API; inside → works', async () => {
    const m = await gw.merchant(['IDR']);
    const deps = { box: gw.core.box, now: gw.clock.now(), actor: 'test' };
    const token = await gw.token(m);
    await updateApp(gw.core.db, deps, m.appId, { ipAllow: ['10.1.2.0/24'] });
    gw.clock.advance(gw.config.appCacheTtlMs);
    const api = await gw.call('GET', '/api/v3/merchant/balance', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(api.status, 403);
    assert.match(api.json.error, /allow-list/);
    const tok = await gw.call('POST', '/api/v3/oauth/token', { body: tokenBody(m.appId, m.appSecret) });
    assert.equal(tok.status, 403);
    await updateApp(gw.core.db, deps, m.appId, { ipAllow: ['10.1.2.0/24', '127.0.0.0/8'] });
    gw.clock.advance(gw.config.appCacheTtlMs);
    assert.equal((await gw.call('GET', '/api/v3/merchant/balance', { headers: { authorization: `Bearer ${token}` } })).status, 200);
  });

  test('secret rotation: the old secret works during the grace period, not after', async () => {
    const m = await gw.merchant(['IDR']);
    const rotated = await rotateApp(gw.core.db, { box: gw.core.box, now: gw.clock.now(), actor: 'test' }, m.appId, 3_600_000);
    assert.notEqual(rotated.appSecret, m.appSecret);
    const oldOk = await gw.call('POST', '/api/v3/oauth/token', { body: tokenBody(m.appId, m.appSecret) });
    assert.equal(oldOk.status, 200);
    gw.clock.advance(3_600_001);
    const oldNo = await gw.call('POST', '/api/v3/oauth/token', { body: tokenBody(m.appId, m.appSecret) });
    assert.equal(oldNo.status, 401);
    const newOk = await gw.call('POST', '/api/v3/oauth/token', { body: tokenBody(m.appId, rotated.appSecret) });
    assert.equal(newOk.status, 200);
  });

  test('tokens end with the secret they were issued for: at once after a rotation with no grace, not before the grace ends otherwise', async () => {
    const balance = (token: string) => gw.call('GET', '/api/v3/merchant/balance', { headers: { authorization: `Bearer ${token}` } });
    const deps = () => ({ box: gw.core.box, now: gw.clock.now(), actor: 'test' });
    const m = await gw.merchant(['IDR']);
    const first = await gw.token(m);
    const graced = await rotateApp(gw.core.db, deps(), m.appId, 600_000);
    gw.clock.advance(gw.config.appCacheTtlMs + 1);
    const second = await gw.token({ appId: m.appId, appSecret: graced.appSecret });
    assert.equal((await balance(first)).status, 200, 'the old secret is still in its grace period');
    gw.clock.advance(600_000);
    const ended = await balance(first);
    assert.equal(ended.status, 401, ended.text);
    assert.equal(ended.json.error, 'token of an app secret that is no longer valid');
    assert.equal((await balance(second)).status, 200);

    await rotateApp(gw.core.db, deps(), m.appId, 0);
    gw.clock.advance(gw.config.appCacheTtlMs + 1);
    assert.equal((await balance(second)).status, 401, 'rotated with no grace: its tokens end at once');
  });

  test('the app secret is stored encrypted and never logged', async () => {
    const rows = await gw.core.db.selectFrom('app_secrets').select('secret_enc').execute();
    assert.ok(rows.length > 0);
    for (const row of rows) assert.ok(!row.secret_enc.includes(creds.appSecret));
    const token = await gw.token(creds);
    const all = gw.logs.join('');
    assert.ok(all.length > 0, 'the server logged something');
    assert.ok(!all.includes(creds.appSecret), 'secret in logs');
    assert.ok(!all.includes(token), 'token in logs');
  });
});

describe('v2 signed requests', () => {
  let gw: TestGateway;
  let creds: Credentials;
  before(async () => {
    gw = await startGateway();
    creds = await gw.merchant(['THB', 'IDR']);
  });
  after(() => gw.close());

  const query = (params: Record<string, string>) => '?' + new URLSearchParams(params).toString();

  test('a correctly signed balance query answers signed data', async () => {
    const params = { appId: creds.appId, currency: 'THB' };
    const res = await gw.call('GET', '/api/v2/merchant/balance' + query({ ...params, sign: referenceSign(params, creds.appSecret) }));
    assert.equal(res.status, 200);
    const { sign, ...data } = res.json.data;
    assert.deepEqual(data, { currency: 'THB', payinValue: 0, payoutValue: 0, disableValue: 0 });
    assert.equal(sign, referenceSign(data, creds.appSecret));
  });

  test('wrong, missing or stale signs, unknown appId and duplicated parameters answer 401', async () => {
    const params = { appId: creds.appId, currency: 'THB' };
    const good = referenceSign(params, creds.appSecret);
    const cases = [
      query({ ...params, sign: good.replace(/.$/, (c) => (c === '0' ? '1' : '0')) }),
      query(params),
      query({ ...params, currency: 'IDR', sign: good }),
      query({ appId: 'f'.repeat(32), currency: 'THB', sign: referenceSign({ appId: 'f'.repeat(32), currency: 'THB' }, creds.appSecret) }),
      query({ currency: 'THB', sign: good }),
      query({ ...params, sign: good }) + `&sign=${good}`,
    ];
    for (const q of cases) {
      const res = await gw.call('GET', '/api/v2/merchant/balance' + q);
      assert.equal(res.status, 401, q);
      assert.equal(res.json.code, 401);
    }
    // A repeated parameter is refused before any sign is checked (a proxy in between might read one value, the gateway another).
    for (const sign of [good, referenceSign({ appId: creds.appId, currency: '["THB","IDR"]' }, creds.appSecret)]) {
      const res = await gw.call('GET', `/api/v2/merchant/balance?appId=${creds.appId}&currency=THB&currency=IDR&sign=${sign}`);
      assert.equal(res.status, 401, res.text);
      assert.equal(res.json.error, 'a query parameter appears twice');
    }
  });

  test('imported Starpago credentials verify the provider documentation example', async () => {
    const appId = 'af37752d8bfc9c23ce9a39e6cf44d135';
    const appSecret = 'daa153d25c25c3736b474a91aeaa7fa7';
    await createApp(gw.core.db, { box: gw.core.box, now: gw.clock.now(), actor: 'test' }, { merchantId: creds.merchantId, scopes: ['payin'], appId, appSecret });
    const params = { appId, currency: 'THB' };
    const res = await gw.call('GET', '/api/v2/merchant/balance' + query({ ...params, sign: referenceSign(params, appSecret) }));
    assert.equal(res.status, 200);
  });

  test('uppercase hex sign is accepted', async () => {
    const params = { appId: creds.appId };
    const res = await gw.call('GET', '/api/v2/merchant/balance' + query({ ...params, sign: referenceSign(params, creds.appSecret).toUpperCase() }));
    assert.equal(res.status, 200);
    assert.equal(res.json.data.currency, 'THB');
  });
});
