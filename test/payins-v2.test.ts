import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { countOrders, newRef, referenceCanonical, referenceSign } from './helpers/payins.ts';
import { createApp, rotateApp, type Credentials } from '../src/modules/merchants/merchant.service.ts';

// merchant-api.md §2 test vector
const VECTOR_SECRET = 'daa153d25c25c3736b474a91aeaa7fa7';
const VECTOR_APP = 'af37752d8bfc9c23ce9a39e6cf44d135';
const VECTOR_BODY = {
  appId: VECTOR_APP,
  merOrderNo: '4085_12200315',
  notifyUrl: 'https://19fb-15-164-4-252.ngrok-free.app/Payin/Callback/StarPagoPayTHB/4085',
  currency: 'THB',
  amount: '100',
  payMethod: 'PROMPTPAY',
  extra: { accountName: 'NGUYEN TIEN HUY', accountNo: '123456123456', bankCode: 'TMB', email: 'StarPago@gmail.com', mobile: '0123445677' },
  return_url: '/',
  attach: 'StarPago',
};
const VECTOR_STRING =
  'amount=100&appId=af37752d8bfc9c23ce9a39e6cf44d135&attach=StarPago&currency=THB&extra=accountName=NGUYEN TIEN HUY&accountNo=123456123456&bankCode=TMB&email=StarPago@gmail.com&mobile=0123445677&merOrderNo=4085_12200315&notifyUrl=https://19fb-15-164-4-252.ngrok-free.app/Payin/Callback/StarPagoPayTHB/4085&payMethod=PROMPTPAY&return_url=/';
const VECTOR_SIGN = 'e751a90689e87ffdbc3025d9e37825f11ed76742e9d1316c0cfbac6313c580aa';

const V2_FIELDS = ['orderNo', 'merOrderNo', 'orderStatus', 'amount', 'realAmount', 'tradeCharge', 'currency', 'payMethod', 'attach', 'params', 'createTime', 'updateTime', 'sign'];

describe('v2 pay-in create and query (signed)', () => {
  let gw: TestGateway;
  let creds: Credentials;
  before(async () => {
    gw = await startGateway();
    creds = await gw.merchant(['MXN', 'THB']);
  });
  after(() => gw.close());

  const signed = (body: Record<string, unknown>, secret = creds.appSecret, keepEmptyNested = false): Record<string, any> => ({
    ...body,
    sign: referenceSign(body, secret, keepEmptyNested),
  });
  const createV2 = (body: Record<string, unknown> | string) =>
    gw.call('POST', '/api/v2/payment/order/create', { body: typeof body === 'string' ? body : JSON.stringify(body) });
  const v2Body = (over: Record<string, unknown> = {}) => ({
    appId: creds.appId,
    merOrderNo: newRef('v2'),
    currency: 'MXN',
    amount: '1250.50',
    payMethod: 'MX_SPEI',
    notifyUrl: 'https://merchant.example/v2/notify',
    attach: 'v2 attach',
    extra: { email: 'buyer@example.com', mobile: '5512345678' },
    ...over,
  });
  /** The answer's `data.sign` is the rule applied to every other member of `data`, nested params included. */
  const assertSignedData = (data: Record<string, unknown>, secret = creds.appSecret) => {
    const { sign, ...rest } = data;
    assert.equal(sign, referenceSign(rest, secret));
    const { params: _params, ...withoutParams } = rest;
    assert.notEqual(sign, referenceSign(withoutParams, secret), 'params are part of the signature');
  };

  test('the reference sign implementation reproduces the spec test vector', () => {
    assert.equal(referenceCanonical(VECTOR_BODY), VECTOR_STRING);
    assert.equal(referenceSign(VECTOR_BODY, VECTOR_SECRET), VECTOR_SIGN);
  });

  test('a signed create (nested extra) answers orderStatus 1, realAmount, and a valid sign over all data incl. params', async () => {
    const body = signed(v2Body());
    const res = await createV2(body);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.code, 0);
    const data = res.json.data;
    assert.deepEqual(Object.keys(data).sort(), [...V2_FIELDS].sort());
    assert.equal(data.orderStatus, 1);
    assert.equal(data.realAmount, 0);
    assert.equal(data.amount, 1250.5);
    assert.equal(data.tradeCharge, 0);
    assert.equal(data.payMethod, 'MX_SPEI');
    assert.equal(data.attach, 'v2 attach');
    assert.equal(data.status, undefined);
    assert.equal(data.paidAmount, undefined);
    assert.match(data.params.clabe, /^\d{18}$/);
    assertSignedData(data);
    const row = await gw.core.db.selectFrom('orders').select('generation').where('order_no', '=', data.orderNo).executeTakeFirstOrThrow();
    assert.equal(row.generation, 'v2');
  });

  test('the spec test vector body, from an imported app, passes the sign check', async () => {
    await createApp(gw.core.db, { box: gw.core.box, now: gw.clock.now(), actor: 'test' }, { merchantId: creds.merchantId, scopes: ['payin'], appId: VECTOR_APP, appSecret: VECTOR_SECRET });
    const res = await createV2({ ...VECTOR_BODY, sign: VECTOR_SIGN });
    assert.notEqual(res.status, 401, res.text);
    // `return_url: "/"` is not an absolute URL (merchant-api.md §3): the only refusal allowed is about it.
    if (res.status !== 200) {
      assert.equal(res.status, 400, res.text);
      assert.match(res.json.error, /returnUrl|return_url/);
    }
    // The same shape with an absolute return_url is created and answered signed with the imported secret.
    const body = { ...VECTOR_BODY, merOrderNo: newRef('4085'), return_url: 'https://shop.example/back' };
    const ok = await createV2({ ...body, sign: referenceSign(body, VECTOR_SECRET) });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.data.orderStatus, 1);
    assert.equal(ok.json.data.amount, 100);
    assert.equal(ok.json.data.payMethod, 'PROMPTPAY');
    assert.equal(typeof ok.json.data.params.qrCode, 'string');
    assertSignedData(ok.json.data, VECTOR_SECRET);
  });

  const refused: Array<[string, () => Record<string, unknown> | string]> = [
    ['a sign with one hex digit changed', () => {
      const b = signed(v2Body());
      return { ...b, sign: b.sign.replace(/^./, (c: string) => (c === '0' ? '1' : '0')) };
    }],
    ['no sign', () => v2Body()],
    ['a sign made with another secret', () => signed(v2Body(), 'f'.repeat(32))],
    ['the amount changed after signing', () => ({ ...signed(v2Body()), amount: '1250.51' })],
    ['a nested extra member changed after signing', () => {
      const b = signed(v2Body());
      return { ...b, extra: { ...b.extra, email: 'attacker@example.com' } };
    }],
    ['an unknown field added after signing', () => ({ ...signed(v2Body()), foo: 'bar' })],
    ['an unknown appId', () => signed(v2Body({ appId: 'e'.repeat(32) }))],
  ];
  for (const [name, make] of refused) {
    test(`v2 create refused with 401, nothing created: ${name}`, async () => {
      const before = await countOrders(gw);
      const res = await createV2(make());
      assert.equal(res.status, 401, res.text);
      assert.equal(res.json.code, 401);
      assert.equal(res.json.data, undefined);
      assert.equal(await countOrders(gw), before);
    });
  }

  test('a number beyond a double (amount 1e999, or in an unknown field) is a 400 before any sign check, nothing created', async () => {
    for (const text of [
      JSON.stringify({ ...v2Body(), sign: 'a'.repeat(64) }).replace(/"amount":"[^"]*"/, '"amount":1e999'),
      JSON.stringify({ ...v2Body(), x: 0, sign: 'a'.repeat(64) }).replace('"x":0', '"x":-1e999'),
    ]) {
      const before = await countOrders(gw);
      const res = await createV2(text);
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json.code, 400);
      assert.match(res.json.error, /^number -?1e999 is out of range at offset \d+$/);
      assert.equal(await countOrders(gw), before);
    }
  });

  test('a JSON number amount is signed in its shortest form (1250.50 on the wire signs as amount=1250.5)', async () => {
    const body = v2Body({ amount: 1250.5 });
    const text = JSON.stringify({ ...body, sign: referenceSign(body, creds.appSecret) }).replace('"amount":1250.5', '"amount":1250.50');
    assert.ok(text.includes('"amount":1250.50'));
    const res = await createV2(text);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.data.amount, 1250.5);
  });

  test('a body that is not a JSON object (an array, null, a string) is a 400 before any sign check, nothing created', async () => {
    for (const body of ['[]', 'null', '"appId"', '7', `[${JSON.stringify(signed(v2Body()))}]`]) {
      const before = await countOrders(gw);
      const res = await createV2(body);
      assert.equal(res.status, 400, `${body}: ${res.text}`);
      assert.equal(res.json.error, 'body: must be a JSON object');
      assert.equal(await countOrders(gw), before);
    }
  });

  test('unknown top-level fields are signed and then ignored', async () => {
    const res = await createV2(signed(v2Body({ foo: 'bar', lang: 'en' })));
    assert.equal(res.status, 200, res.text);
  });

  test('a sign computed with empty nested members kept (extra.email = "") is accepted, as is the dropped form', async () => {
    const keep = v2Body({ extra: { email: '', mobile: '5512345678' } });
    const kept = referenceSign(keep, creds.appSecret, true);
    const dropped = referenceSign(keep, creds.appSecret, false);
    assert.notEqual(kept, dropped);
    const a = await createV2({ ...keep, sign: kept });
    assert.equal(a.status, 200, a.text);
    const drop = v2Body({ extra: { email: '', mobile: '5512345678' } });
    const b = await createV2({ ...drop, sign: referenceSign(drop, creds.appSecret, false) });
    assert.equal(b.status, 200, b.text);
    // The gateway signs its own answer with empty members dropped (there are none in params).
    assertSignedData(a.json.data);
  });

  test('GET /api/v2/payment/order/query by both numbers, or by one with the other empty, answers the signed order', async () => {
    const created = await createV2(signed(v2Body()));
    assert.equal(created.status, 200, created.text);
    const { orderNo, merOrderNo } = created.json.data as { orderNo: string; merOrderNo: string };
    const refs: Array<Record<string, string>> = [{ orderNo, merOrderNo }, { orderNo, merOrderNo: '' }, { orderNo: '', merOrderNo }, { merOrderNo }];
    for (const ref of refs) {
      const params: Record<string, string> = { appId: creds.appId, ...ref };
      const qs = new URLSearchParams({ ...params, sign: referenceSign(params, creds.appSecret) }).toString();
      const res = await gw.call('GET', `/api/v2/payment/order/query?${qs}`);
      assert.equal(res.status, 200, `${qs} ${res.text}`);
      assert.deepEqual(res.json.data, created.json.data);
      assertSignedData(res.json.data);
    }
  });

  test("during a rotation's grace an answer is signed with the secret that signed the request, which the merchant holds", async () => {
    const m = await gw.merchant(['MXN']);
    const rotated = await rotateApp(gw.core.db, { box: gw.core.box, now: gw.clock.now(), actor: 'test' }, m.appId, 3_600_000);
    gw.clock.advance(gw.config.appCacheTtlMs + 1);
    const body = v2Body({ appId: m.appId });
    const created = await createV2(signed(body, m.appSecret));
    assert.equal(created.status, 200, created.text);
    assertSignedData(created.json.data, m.appSecret);
    const again = await createV2(signed(body, rotated.appSecret));
    assert.equal(again.status, 200, again.text);
    assertSignedData(again.json.data, rotated.appSecret);
    for (const secret of [m.appSecret, rotated.appSecret]) {
      const params = { appId: m.appId, orderNo: created.json.data.orderNo as string };
      const query = await gw.call('GET', `/api/v2/payment/order/query?${new URLSearchParams({ ...params, sign: referenceSign(params, secret) }).toString()}`);
      assert.equal(query.status, 200, query.text);
      assertSignedData(query.json.data, secret);
      const balanceParams = { appId: m.appId, currency: 'MXN' };
      const balance = await gw.call('GET', `/api/v2/merchant/balance?${new URLSearchParams({ ...balanceParams, sign: referenceSign(balanceParams, secret) }).toString()}`);
      assert.equal(balance.status, 200, balance.text);
      const { sign, ...rest } = balance.json.data as Record<string, unknown>;
      assert.equal(sign, referenceSign(rest, secret));
    }
  });

  test("logs show request URLs without a v2 query's sign or a cashier link's key (each is a credential)", async () => {
    const created = await createV2(signed(v2Body()));
    const orderNo = created.json.data.orderNo as string;
    const params = { appId: creds.appId, orderNo };
    const sign = referenceSign(params, creds.appSecret);
    const logsBefore = gw.logs.length;
    assert.equal((await gw.call('GET', `/api/v2/payment/order/query?${new URLSearchParams({ ...params, sign }).toString()}`)).status, 200);
    const link = created.json.data.params.url as string;
    assert.equal((await gw.call('GET', new URL(link).pathname + new URL(link).search)).status, 200);
    const written = gw.logs.slice(logsBefore).join('');
    assert.match(written, new RegExp(`/api/v2/payment/order/query\\?appId=${creds.appId}&orderNo=${orderNo}&sign=\\[redacted\\]`), 'the request is logged');
    assert.match(written, new RegExp(`/cashier/${orderNo}\\?k=\\[redacted\\]`));
    assert.ok(!written.includes(sign), 'sign in logs');
    assert.ok(!written.includes(new URL(link).searchParams.get('k')!), 'cashier key in logs');
  });

  test('v2 query: wrong sign → 401; neither number → 400; unknown → 404', async () => {
    const created = await createV2(signed(v2Body()));
    const q = (params: Record<string, string>, sign = referenceSign(params, creds.appSecret)) =>
      gw.call('GET', `/api/v2/payment/order/query?${new URLSearchParams({ ...params, sign }).toString()}`);
    const good = { appId: creds.appId, orderNo: created.json.data.orderNo, merOrderNo: '' };
    const bad = await q(good, referenceSign({ ...good, orderNo: 'PI0' }, creds.appSecret));
    assert.equal(bad.status, 401, bad.text);
    const neither = await q({ appId: creds.appId, orderNo: '', merOrderNo: '' });
    assert.equal(neither.status, 400, neither.text);
    assert.equal(neither.json.code, 400);
    const unknown = await q({ appId: creds.appId, orderNo: '', merOrderNo: newRef('none') });
    assert.equal(unknown.status, 404, unknown.text);
  });

  test("v2 query of another merchant's order is 404", async () => {
    const created = await createV2(signed(v2Body()));
    const other = await gw.merchant(['MXN']);
    const params = { appId: other.appId, orderNo: created.json.data.orderNo };
    const res = await gw.call('GET', `/api/v2/payment/order/query?${new URLSearchParams({ ...params, sign: referenceSign(params, other.appSecret) })}`);
    assert.equal(res.status, 404, res.text);
  });
});
