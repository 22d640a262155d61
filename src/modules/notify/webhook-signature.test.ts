import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { standardWebhooksSecret, verifyWebhook, webhookHeaders, webhookKey, webhookSignature } from './webhook-signature.ts';

const SECRET = 'daa153d25c25c3736b474a91aeaa7fa7';
const ID = 'ntf_01HZX3K9Q7M2C8V4B6N1T5R0WY';
const TS = 1700000000;
const BODY = '{"orderNo":"P1","orderStatus":"PAID","sign":"x"}';

describe('webhook-signature: frozen vectors', () => {
  // Computed once with Python's hmac module (an independent implementation) and frozen.
  it('derives the key from the app secret', () => {
    assert.equal(webhookKey(SECRET).toString('hex'), '82d1dfb249c16f41b6c8524ee90f43ee95e4716e1ff9ff6b0b1b8af52b24da3f');
    assert.equal(standardWebhooksSecret(SECRET), 'whsec_gtHfsknBb0G2yFJO6Q9D7pXkcW4f+f9rCxuK9Ssk2j8=');
  });

  it('signs the frozen vector', () => {
    assert.deepEqual(webhookHeaders(ID, TS, BODY, [SECRET]), {
      'webhook-id': ID,
      'webhook-timestamp': '1700000000',
      'webhook-signature': 'v1,AkWJP8k2k1JhZG13LwbdfPvVDPWQhJPa5DeNLF8894Y=',
    });
  });

  it('signs UTF-8 secrets and bodies as UTF-8 bytes', () => {
    const secret = 'sécret-ü';
    assert.equal(webhookKey(secret).toString('hex'), 'e8b2c450973f771c0a23a37677348a0b1cef1598ec3470329bf365045fc8d2c6');
    const h = webhookHeaders('ntf_X', 1714000000, '{"attach":"ชำระเงิน"}', [secret]);
    assert.equal(h['webhook-signature'], 'v1,swaOzOe2KPO7dt3UaniYya245sEkw3fBZM1M7utgYrY=');
  });

  it('reproduces the published Standard Webhooks test vector', () => {
    const key = Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64');
    const sig = webhookSignature(key, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    assert.equal(sig, 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('matches an independent recomputation', () => {
    for (const [secret, id, ts, body] of [
      [SECRET, ID, TS, BODY],
      ['another-secret', 'ntf_2', 1, ''],
      ['k', 'n', 4102444800, '{"a":"😀\\n"}'],
    ] as const) {
      const key = createHmac('sha256', secret).update('pagoda-webhook-signature').digest();
      const expected = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
      assert.equal(webhookHeaders(id, ts, body, [secret])['webhook-signature'], `v1,${expected}`);
    }
  });

  it('refuses ids and timestamps that would make the signed content ambiguous', () => {
    assert.throws(() => webhookHeaders('ntf.1', TS, BODY, [SECRET]), TypeError);
    assert.throws(() => webhookHeaders('', TS, BODY, [SECRET]), TypeError);
    assert.throws(() => webhookHeaders('ntf 1', TS, BODY, [SECRET]), TypeError);
    assert.throws(() => webhookHeaders(ID, 1.5, BODY, [SECRET]), TypeError);
    assert.throws(() => webhookHeaders(ID, Date.now() / 1000, BODY, [SECRET]), TypeError);
  });
});

describe('webhook-signature: verifyWebhook', () => {
  const headers = webhookHeaders(ID, TS, BODY, [SECRET]);
  const at = { nowSec: TS + 10 };

  it('accepts what it signs, with headers in any case and the body as bytes', () => {
    assert.deepEqual(verifyWebhook(headers, BODY, SECRET, at), { ok: true });
    const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
    assert.deepEqual(verifyWebhook(upper, Buffer.from(BODY), SECRET, at), { ok: true });
  });

  it('accepts when any one of several signatures matches (key rotation)', () => {
    const sigs = `v1,bm9wZQ== v1a,abc ${headers['webhook-signature']}`;
    assert.deepEqual(verifyWebhook({ ...headers, 'webhook-signature': sigs }, BODY, SECRET, at), { ok: true });
  });

  const refusals: [name: string, h: Record<string, string>, body: string, secret: string, nowSec: number, reason: RegExp][] = [
    ['another secret', headers, BODY, 'other', TS, /no v1 signature matches/],
    ['a changed body', headers, `${BODY} `, SECRET, TS, /no v1 signature matches/],
    ['a changed id', { ...headers, 'webhook-id': 'ntf_2' }, BODY, SECRET, TS, /no v1 signature matches/],
    ['a replayed timestamp', { ...headers, 'webhook-timestamp': String(TS + 1) }, BODY, SECRET, TS, /no v1 signature matches/],
    ['an old timestamp', headers, BODY, SECRET, TS + 301, /301 s old \(tolerance 300 s\)/],
    ['a future timestamp', headers, BODY, SECRET, TS - 301, /301 s in the future/],
    ['a bad timestamp', { ...headers, 'webhook-timestamp': '17e8' }, BODY, SECRET, TS, /invalid webhook-timestamp/],
    ['a missing header', { 'webhook-id': ID, 'webhook-timestamp': String(TS) }, BODY, SECRET, TS, /missing/],
    ['a v1a signature only', { ...headers, 'webhook-signature': headers['webhook-signature'].replace('v1,', 'v1a,') }, BODY, SECRET, TS, /no v1/],
  ];
  for (const [name, h, body, secret, nowSec, reason] of refusals) {
    it(`refuses ${name}`, () => {
      const v = verifyWebhook(h, body, secret, { nowSec });
      assert.equal(v.ok, false);
      assert.ok(!v.ok);
      assert.match(v.reason, reason);
    });
  }

  it('honours a custom tolerance', () => {
    assert.equal(verifyWebhook(headers, BODY, SECRET, { nowSec: TS + 1000, toleranceSec: 1000 }).ok, true);
    assert.equal(verifyWebhook(headers, BODY, SECRET, { nowSec: TS + 2, toleranceSec: 1 }).ok, false);
  });
});
