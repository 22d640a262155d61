import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { updateApp, type Credentials } from '../src/modules/merchants/merchant.service.ts';
import { SignJWT } from 'jose';
import { signingKeyContext, TOKEN_TTL_SECONDS } from '../src/platform/auth/tokens.ts';

const tokenBody = (appId: string, appSecret: string) => JSON.stringify({ grant_type: 'client_credentials', app_id: appId, app_secret: appSecret });

describe('failed authentications per address: past the limit, 429 with Retry-After', () => {
  let gw: TestGateway;
  let creds: Credentials;
  before(async () => {
    gw = await startGateway({ PAGODA_AUTH_FAILURE_LIMIT: '3' });
    creds = await gw.merchant(['MXN']);
  });
  after(() => gw.close());

  const token = (secret: string) => gw.call('POST', '/api/v3/oauth/token', { body: tokenBody(creds.appId, secret) });

  test('successes never count; the fourth failure in a minute blocks the address for the rest of it, whatever it sends', async () => {
    for (let i = 0; i < 10; i++) assert.equal((await token(creds.appSecret)).status, 200);
    const wrong = 'f'.repeat(32);
    assert.equal((await token(wrong)).status, 401);
    assert.equal((await gw.call('GET', '/api/v3/merchant/balance', { headers: { authorization: 'Bearer nope' } })).status, 401);
    gw.clock.advance(20_000);
    assert.equal((await gw.call('GET', `/api/v2/merchant/balance?appId=${creds.appId}&sign=${'0'.repeat(64)}`)).status, 401);

    const blocked = await token(creds.appSecret);
    assert.equal(blocked.status, 429, blocked.text);
    assert.equal(blocked.json.code, 429);
    assert.match(blocked.json.error, /too many failed authentications/);
    assert.equal(blocked.headers['retry-after'], '40', 'the window began at the first failure, 20 s ago');
    assert.equal((await gw.call('GET', '/api/v3/merchant/balance', { headers: { authorization: 'Bearer nope' } })).status, 429);
    assert.equal((await gw.call('POST', '/sandbox/v1/payins/PI1/complete', { body: '{"outcome":"PAID"}', headers: { authorization: 'Bearer nope' } })).status, 429);
    // Spelling the path with escapes reaches the same routes, so the block too.
    const escaped = await gw.call('POST', '/%61pi/v3/oauth/token', { body: tokenBody(creds.appId, creds.appSecret) });
    assert.equal(escaped.status, 429, escaped.text);
    assert.equal((await gw.call('POST', '/%73andbox/v1/payins/PI1/complete', { body: '{"outcome":"PAID"}', headers: { authorization: 'Bearer nope' } })).status, 429);
    // Not the API: health checks and cashier pages stay reachable.
    assert.equal((await gw.call('GET', '/healthz')).status, 200);

    // Another address is not affected.
    const other = new Agent({ localAddress: '127.0.0.2', connect: { rejectUnauthorized: false } });
    try {
      const res = await request(`${gw.url}/api/v3/oauth/token`, { method: 'POST', body: tokenBody(creds.appId, creds.appSecret), headers: { 'content-type': 'application/json' }, dispatcher: other });
      assert.equal(res.statusCode, 200, await res.body.text());
    } finally {
      await other.close();
    }

    gw.clock.advance(40_000);
    assert.equal((await token(creds.appSecret)).status, 200, 'a new minute');
  });

  test('a token we issued that has expired or was revoked is refused (401) but is no guess: it never blocks the address', async () => {
    gw.clock.advance(60_000);
    const other = await gw.merchant(['MXN']);
    const revoked = await gw.token(other);
    await updateApp(gw.core.db, { box: gw.core.box, now: gw.clock.now(), actor: 'test' }, other.appId, { active: false });
    gw.clock.advance(gw.config.appCacheTtlMs + 1);
    const expired = await gw.token(creds);
    const balance = (token: string) => gw.call('GET', '/api/v3/merchant/balance', { headers: { authorization: `Bearer ${token}` } });
    for (let i = 0; i < 5; i++) {
      const res = await balance(revoked);
      assert.equal(res.status, 401, res.text);
      assert.match(res.json.error, /revoked/);
    }
    // Its signing key retires meanwhile: a token it signed is still ours, expired, not a guess.
    await gw.core.tokens.rotate();
    gw.clock.advance(TOKEN_TTL_SECONDS * 1000 + 61_000);
    for (let i = 0; i < 5; i++) {
      const res = await balance(expired);
      assert.equal(res.status, 401, res.text);
      assert.match(res.json.error, /token expired/);
    }
    assert.equal((await token(creds.appSecret)).status, 200, 'a new token is still to be had');
    for (let i = 0; i < 3; i++) assert.equal((await balance('nope')).status, 401);
    assert.equal((await token(creds.appSecret)).status, 429, 'guesses still count');
  });

  test('a live token an earlier version issued (no sid, no tep) is refused as stale, not as a guess: upgrading locks no merchant out', async () => {
    gw.clock.advance(60_000);
    const key = await gw.core.db.selectFrom('signing_keys').selectAll().where('retired_at', 'is', null).orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    const raw = Buffer.from(gw.core.box.open(key.key_enc, signingKeyContext(key.kid)), 'base64');
    const now = Math.floor(gw.clock.now() / 1000);
    const earlier = await new SignJWT({ mid: creds.merchantId, aid: creds.appId, type: 'merchant', jti: 'earlier' })
      .setProtectedHeader({ alg: 'HS256', kid: key.kid }).setIssuer(gw.config.tokenIssuer).setIssuedAt(now - 60).setExpirationTime(now - 60 + TOKEN_TTL_SECONDS).sign(raw);
    for (let i = 0; i < 5; i++) {
      const res = await gw.call('GET', '/api/v3/merchant/balance', { headers: { authorization: `Bearer ${earlier}` } });
      assert.equal(res.status, 401, res.text);
      assert.equal(res.json.error, 'token issued by an earlier version of the gateway; request a new one');
    }
    assert.equal((await token(creds.appSecret)).status, 200, 'a new token is to be had');
  });
});
