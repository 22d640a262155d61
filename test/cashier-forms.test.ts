import assert from 'node:assert/strict';
import { after, before, describe, it, test } from 'node:test';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { bearer, createV3, notifications, orderEvents, payinBody, referenceSign } from './helpers/payins.ts';
import type { Credentials } from '../src/modules/merchants/merchant.service.ts';

// The cashier page's forms over HTTP (the browser test drives the same pages in Chromium).
describe('cashier forms: method picker and cancel', () => {
  let gw: TestGateway;
  let creds: Credentials;
  let token: string;
  before(async () => {
    gw = await startGateway();
    creds = await gw.merchant(['MXN', 'PKR', 'IDR']);
    token = await gw.token(creds);
  });
  after(() => gw.close());

  const page = (orderNo: string) => gw.call('GET', gw.cashierPath(orderNo));
  const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)![1]!;
  /** Where the page's form for `action` posts: the page's address with the action before its key. */
  const actionPath = (orderNo: string, action: string) => gw.cashierPath(orderNo).replace('?k=', `/${action}?k=`);
  const post = (orderNo: string, action: string, form: Record<string, string>, path = actionPath(orderNo, action)) =>
    gw.call('POST', path, { body: new URLSearchParams(form).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const create = async (over: Record<string, unknown>) => {
    const res = await createV3(gw, token, payinBody(over));
    assert.equal(res.status, 200, res.text);
    return res.json.data as { orderNo: string; status: string };
  };
  const statusOf = async (orderNo: string) =>
    (await gw.core.db.selectFrom('orders').select(['status', 'method', 'message']).where('order_no', '=', orderNo).executeTakeFirstOrThrow());

  test('the order number alone opens nothing: the page needs its link key; the forms need the token only the page gives', async () => {
    const mine = await create({ currency: 'MXN', amount: 100, payMethod: undefined });
    const next = await create({ currency: 'MXN', amount: 100, payMethod: undefined });
    const link = gw.cashierPath(mine.orderNo);
    const key = new URL(link, 'https://x').searchParams.get('k')!;
    assert.equal((await page(mine.orderNo)).status, 200);
    for (const path of [`/cashier/${mine.orderNo}`, `/cashier/${mine.orderNo}?k=`, `/cashier/${mine.orderNo}?k=${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`, `/cashier/${next.orderNo}?k=${key}`, `${link}&k=${key}`]) {
      const res = await gw.call('GET', path);
      assert.equal(res.status, 404, path);
      assert.doesNotMatch(res.text, /name="csrf"/, path);
    }
    // Without the page, no token: the forms refuse, and nothing changes.
    for (const action of ['cancel', 'method', 'sandbox']) assert.equal((await post(next.orderNo, action, { method: 'MX_SPEI', outcome: 'PAID' })).status, 403, action);
    assert.deepEqual({ ...(await statusOf(next.orderNo)) }, { status: 'CREATED', method: null, message: null });
    // Nor do the forms' addresses open anything without the key: 404 like an unknown order, and no link to the page.
    const unknownOrder = await post('PI00000000000000000000000000', 'cancel', {}, '/cashier/PI00000000000000000000000000/cancel');
    const csrf = csrfOf((await page(next.orderNo)).text);
    for (const action of ['cancel', 'method', 'sandbox']) {
      for (const path of [`/cashier/${next.orderNo}/${action}`, `/cashier/${next.orderNo}/${action}?k=${key}`]) {
        const res = await post(next.orderNo, action, { csrf, method: 'MX_SPEI', outcome: 'PAID' }, path);
        assert.equal(res.status, 404, path);
        assert.equal(res.text, unknownOrder.text, `${path} answers as an unknown order does`);
        assert.doesNotMatch(res.text, /\?k=/, path);
      }
    }
    assert.deepEqual({ ...(await statusOf(next.orderNo)) }, { status: 'CREATED', method: null, message: null });
  });

  test('asset names are the assets only: built-in property names are 404, never cacheable', async () => {
    for (const name of ['toString', '__proto__', 'constructor', 'valueOf', 'hasOwnProperty', 'nope.css']) {
      for (const headers of [{}, { 'if-none-match': '"x"' }] as Array<Record<string, string>>) {
        const res = await gw.call('GET', `/cashier/assets/${name}`, { headers });
        assert.equal(res.status, 404, `${name} ${JSON.stringify(headers)}: ${res.status}`);
        assert.equal(res.json.error, 'no such asset');
        assert.doesNotMatch(String(res.headers['cache-control']), /immutable/);
      }
    }
    assert.equal((await gw.call('GET', '/cashier/assets/cashier.css')).status, 200);
  });

  test('past its time, before the expiry job: the page shows the order expired, with the signed way back to the merchant', async () => {
    const order = await create({ currency: 'MXN', amount: 100, returnUrl: 'https://shop.example/back?cart=7' });
    gw.clock.advance(gw.config.orderTtlMs + 1);
    const html = (await page(order.orderNo)).text;
    assert.equal((await statusOf(order.orderNo)).status, 'EXPIRED');
    const back = /href="(https:\/\/shop\.example\/back[^"]+)"/.exec(html)?.[1]?.replaceAll('&amp;', '&');
    assert.ok(back, 'a link back to the merchant');
    const params = new URL(back).searchParams;
    assert.deepEqual([params.get('cart'), params.get('orderNo'), params.get('status')], ['7', order.orderNo, 'EXPIRED']);
    assert.doesNotMatch(html, /name="csrf"/, 'nothing left to submit');
  });

  test('a picker whose every method goes to the sandbox is marked as a test order before a method is picked', async () => {
    const order = await create({ currency: 'MXN', amount: 100, payMethod: undefined });
    const html = (await page(order.orderNo)).text;
    assert.match(html, /name="method" value="MX_SPEI"/);
    assert.match(html, /<span class="badge">/);
    assert.match(html, /<p class="test-note">/);
    assert.doesNotMatch(html, /name="outcome"/, 'no outcome until the order is on the sandbox channel');
  });

  test('two tabs: an outcome pressed after the order was settled in the other shows the outcome, not a refusal', async () => {
    const order = await create({ currency: 'MXN', amount: 100 });
    const csrf = csrfOf((await page(order.orderNo)).text);
    const first = await post(order.orderNo, 'sandbox', { csrf, outcome: 'PAID' });
    assert.equal(first.status, 303, first.text);
    const second = await post(order.orderNo, 'sandbox', { csrf, outcome: 'FAILED' });
    assert.equal(second.status, 303, second.text);
    assert.equal(second.headers.location, gw.cashierPath(order.orderNo));
    assert.equal((await statusOf(order.orderNo)).status, 'PAID');
  });

  test('a refused form answers in the page language, with the reason and a way back to the payment', async () => {
    const order = await create({ currency: 'MXN', amount: 100, payMethod: undefined });
    const refused = await gw.call('POST', actionPath(order.orderNo, 'method'), {
      body: new URLSearchParams({ csrf: csrfOf((await page(order.orderNo)).text), method: 'NOPE' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'es-MX' },
    });
    assert.equal(refused.status, 400);
    assert.match(refused.text, /<h1>No se pudo completar<\/h1>/);
    assert.match(refused.text, /Vuelve a la página de pago/);
    assert.match(refused.text, /<p class="hint">payMethod NOPE is not a known method<\/p>/);
    const back = /<a class="btn" href="([^"]+)">Volver al pago<\/a>/.exec(refused.text)?.[1]?.replaceAll('&amp;', '&');
    assert.equal(back, gw.cashierPath(order.orderNo));
  });

  test('a method needing extra the merchant did not send is not offered, and a forged pick is refused, changing nothing', async () => {
    // PK_WALLET, PKR's only pay-in method, needs extra.payType and extra.mobile: without them nothing could be picked.
    const unpayable = await createV3(gw, token, payinBody({ currency: 'PKR', amount: 500, payMethod: undefined }));
    assert.equal(unpayable.status, 422, unpayable.text);
    assert.match(unpayable.json.error, /no payment method is available/);
    // OVO checks a mobile number when one is sent: with a bad one, OVO is not offered, the other IDR methods are.
    const bare = await create({ currency: 'IDR', amount: 10000, payMethod: undefined, extra: { mobile: '12' } });
    const html = (await page(bare.orderNo)).text;
    assert.doesNotMatch(html, /name="method" value="ID_OVO"/);
    assert.match(html, /name="method" value="ID_QRIS"/);
    const forged = await post(bare.orderNo, 'method', { csrf: csrfOf(html), method: 'ID_OVO' });
    assert.equal(forged.status, 400, forged.text);
    assert.match(forged.text, /mobile/);
    assert.deepEqual({ ...(await statusOf(bare.orderNo)) }, { status: 'CREATED', method: null, message: null });

    const withExtra = await create({ currency: 'PKR', amount: 500, payMethod: undefined, extra: { payType: 'PK_WALLET_JAZZCASH', mobile: '03001234567' } });
    const offered = (await page(withExtra.orderNo)).text;
    assert.match(offered, /name="method" value="PK_WALLET"/);
    const picked = await post(withExtra.orderNo, 'method', { csrf: csrfOf(offered), method: 'PK_WALLET' });
    assert.equal(picked.status, 303, picked.text);
    assert.deepEqual({ ...(await statusOf(withExtra.orderNo)) }, { status: 'PENDING', method: 'PK_WALLET', message: null });
  });

  test('cancelling before a method: FAILED, and back to the merchant with the signed outcome', async () => {
    const order = await create({ payMethod: undefined, returnUrl: 'https://shop.example/back?cart=7', attach: 'a b' });
    const cancelled = await post(order.orderNo, 'cancel', { csrf: csrfOf((await page(order.orderNo)).text) });
    assert.equal(cancelled.status, 303, cancelled.text);
    const location = String(cancelled.headers.location);
    assert.ok(location.startsWith('https://shop.example/back?cart=7&orderNo='), location);
    const params = Object.fromEntries(new URL(location).searchParams);
    assert.equal(params.status, 'FAILED');
    assert.equal(params.attach, 'a b');
    const { sign, cart: _cart, ...signed } = params;
    assert.equal(sign, referenceSign(signed, creds.appSecret));
    assert.deepEqual({ ...(await statusOf(order.orderNo)) }, { status: 'FAILED', method: null, message: 'cancelled by the consumer' });
    const last = (await orderEvents(gw, order.orderNo)).at(-1)!;
    assert.deepEqual([last.to_status, last.cause, last.actor], ['FAILED', 'cashier', 'consumer']);
    assert.deepEqual((await notifications(gw, order.orderNo)).map((n) => n.status), ['FAILED']);
    const q = await gw.call('GET', `/api/v3/payment/query?orderNo=${order.orderNo}`, { headers: bearer(token) });
    assert.deepEqual([q.json.data.status, q.json.data.message], ['FAILED', 'cancelled by the consumer']);
    const shown = (await gw.call('GET', gw.cashierPath(order.orderNo), { headers: { 'accept-language': 'es' } })).text;
    assert.match(shown, /<h2>Cancelaste este pago<\/h2>/, 'the consumer reads that they cancelled, not that the payment failed');
  });

  test('cancelling with payment instructions shown: EXPIRED at once, so money arriving later is an EXCEPTION, not lost', async () => {
    const order = await create({});
    assert.equal(order.status, 'PENDING');
    const cancelled = await post(order.orderNo, 'cancel', { csrf: csrfOf((await page(order.orderNo)).text) });
    assert.equal(cancelled.status, 303, cancelled.text);
    assert.equal(cancelled.headers.location, gw.cashierPath(order.orderNo), 'no returnUrl: the result is shown here');
    assert.equal((await statusOf(order.orderNo)).status, 'EXPIRED');
    const shown = (await page(order.orderNo)).text;
    assert.doesNotMatch(shown, /\/cancel"/);
    assert.match(shown, /<h2>You cancelled this payment<\/h2><p>Please do not pay this order any more/);
    const late = await gw.call('POST', `/sandbox/v1/payins/${order.orderNo}/complete`, { body: '{"outcome":"PAID"}', headers: bearer(token) });
    assert.equal(late.status, 200, late.text);
    assert.equal((await statusOf(order.orderNo)).status, 'EXCEPTION');
    assert.deepEqual((await notifications(gw, order.orderNo)).map((n) => n.status), ['EXPIRED', 'EXCEPTION']);
  });

  test('a stale page paid after expiry is an EXCEPTION, as the sandbox API makes it, whether the expiry job has run or not', async () => {
    for (const jobRan of [false, true]) {
      token = await gw.token(creds);
      const order = await create({ currency: 'MXN', amount: 100 });
      const csrf = csrfOf((await page(order.orderNo)).text);
      gw.clock.advance(gw.config.orderTtlMs + 1);
      if (jobRan) assert.equal((await page(order.orderNo)).status, 200, 'opening the page expires it, as the job would');
      assert.equal((await statusOf(order.orderNo)).status, jobRan ? 'EXPIRED' : 'PENDING');
      const failed = await post(order.orderNo, 'sandbox', { csrf, outcome: 'FAILED' });
      assert.equal(failed.status, 303, failed.text);
      assert.equal((await statusOf(order.orderNo)).status, 'EXPIRED', `a failure after expiry changes nothing (job ran: ${jobRan})`);
      const paid = await post(order.orderNo, 'sandbox', { csrf, outcome: 'PAID' });
      assert.equal(paid.status, 303, paid.text);
      const after = await statusOf(order.orderNo);
      assert.equal(after.status, 'EXCEPTION', `job ran: ${jobRan}`);
      assert.match(String(after.message), /after the order expired/);
    }
    token = await gw.token(creds);
  });

  test('cancelling an order already paid (a stale page) changes nothing; without the form token it is refused', async () => {
    const order = await create({});
    const csrf = csrfOf((await page(order.orderNo)).text);
    assert.equal((await post(order.orderNo, 'cancel', { csrf: 'forged' })).status, 403);
    assert.equal((await post(order.orderNo, 'cancel', {})).status, 403);
    assert.equal((await statusOf(order.orderNo)).status, 'PENDING');
    await gw.call('POST', `/sandbox/v1/payins/${order.orderNo}/complete`, { body: '{"outcome":"PAID"}', headers: bearer(token) });
    const events = (await orderEvents(gw, order.orderNo)).length;
    const stale = await post(order.orderNo, 'cancel', { csrf });
    assert.equal(stale.status, 303, stale.text);
    assert.equal((await statusOf(order.orderNo)).status, 'PAID');
    assert.equal((await orderEvents(gw, order.orderNo)).length, events);
  });
});

describe('cashier pages and HSTS', () => {
  it('a public URL on a domain name gets Strict-Transport-Security on its pages (found and not found); localhost does not', async () => {
    for (const [publicUrl, expected] of [['https://pay.example.test:8443', 'max-age=31536000'], [undefined, undefined]] as const) {
      const gw = await startGateway(publicUrl ? { PAGODA_PUBLIC_URL: publicUrl } : {});
      try {
        const res = await createV3(gw, await gw.token(await gw.merchant(['MXN'])), payinBody({ currency: 'MXN', amount: 100 }));
        assert.equal(res.status, 200, res.text);
        const found = await gw.call('GET', gw.cashierPath(res.json.data.orderNo));
        const missing = await gw.call('GET', '/cashier/PI00000000000000000000000000?k=x');
        assert.deepEqual([found.status, missing.status], [200, 404]);
        for (const page of [found, missing]) assert.equal(page.headers['strict-transport-security'], expected, String(publicUrl));
        // Not on the API: its clients are not browsers.
        assert.equal((await gw.call('GET', '/healthz')).headers['strict-transport-security'], undefined);
      } finally {
        await gw.close();
      }
    }
  });
});
