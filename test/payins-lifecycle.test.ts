import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { bearer, countOrders, createV3, notifications, orderEvents, payinBody } from './helpers/payins.ts';
import { methodsFor } from '../src/modules/channels/catalogue.ts';
import { changeMethodSettings, DEFAULT_SETTINGS, methodSettings, saveMethodSettings, type MethodSettings } from '../src/modules/channels/method-settings.ts';
import type { Credentials } from '../src/modules/merchants/merchant.service.ts';
import { cancelPayin, choosePayinMethod, expireDuePayins } from '../src/modules/payins/payin.service.ts';

const complete = (gw: TestGateway, token: string, orderNo: string, body: Record<string, unknown>) =>
  gw.call('POST', `/sandbox/v1/payins/${orderNo}/complete`, { body: JSON.stringify(body), headers: bearer(token) });
const query = async (gw: TestGateway, token: string, orderNo: string) =>
  (await gw.call('GET', `/api/v3/payment/query?orderNo=${orderNo}`, { headers: bearer(token) })).json.data;

describe('sandbox magic amounts at create', () => {
  let gw: TestGateway;
  let token: string;
  before(async () => {
    gw = await startGateway({ PAGODA_CHANNEL_TIMEOUT: '300ms' });
    token = await gw.token(await gw.merchant(['MXN']));
  });
  after(() => gw.close());

  test('minor units ending in 97: created FAILED with the refusal as message, one notification', async () => {
    const res = await createV3(gw, token, payinBody({ amount: '100.97' }));
    assert.equal(res.status, 200, res.text);
    const o = res.json.data;
    assert.equal(o.status, 'FAILED');
    assert.match(o.message, /refus/i);
    assert.equal(o.paidAmount, 0);
    assert.equal(o.tradeCharge, 0);
    assert.equal(o.params.clabe, undefined);
    assert.deepEqual((await orderEvents(gw, o.orderNo)).map((e) => [e.to_status, e.cause]), [['CREATED', 'create'], ['FAILED', 'channel']]);
    assert.deepEqual((await notifications(gw, o.orderNo)).map((n) => n.status), ['FAILED']);
    assert.deepEqual(await query(gw, token, o.orderNo), o);
  });

  test('minor units ending in 98 with a 300 ms channel timeout: FAILED "no answer" within 5 s', async () => {
    const started = performance.now();
    const res = await createV3(gw, token, payinBody({ amount: 250.98 }));
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 5_000, `answered after ${elapsed} ms`);
    assert.ok(elapsed >= 250, `answered after ${elapsed} ms: the deadline was not waited for`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.data.status, 'FAILED');
    assert.match(res.json.data.message, /not answer|no answer|did not answer|timed? ?out/i);
    assert.deepEqual((await notifications(gw, res.json.data.orderNo)).map((n) => n.status), ['FAILED']);
  });

  test('other endings (e.g. 96, 99) are created PENDING', async () => {
    for (const amount of ['100.96', '100.99', '97', '98']) {
      const res = await createV3(gw, token, payinBody({ amount }));
      assert.equal(res.json.data.status, 'PENDING', `${amount}: ${res.text}`);
    }
  });
});

describe('pay-in expiry (PAGODA_ORDER_TTL=1m)', () => {
  let gw: TestGateway;
  let token: string;
  before(async () => {
    gw = await startGateway({ PAGODA_ORDER_TTL: '1m' });
    token = await gw.token(await gw.merchant(['MXN']));
  });
  after(() => gw.close());

  const expire = () => expireDuePayins(gw.app.services.payins);

  test('not before the TTL; after it EXPIRED with one notification; a late PAID report makes it EXCEPTION, never PAID', async () => {
    const res = await createV3(gw, token, payinBody());
    const o = res.json.data;
    assert.equal(o.params.expireTime, o.createTime + 60_000, 'a time, so a JSON number');
    gw.clock.advance(59_000);
    assert.equal(await expire(), 0);
    assert.equal((await query(gw, token, o.orderNo)).status, 'PENDING');
    gw.clock.advance(2_000);
    assert.equal(await expire(), 1);
    const expired = await query(gw, token, o.orderNo);
    assert.equal(expired.status, 'EXPIRED');
    assert.equal(expired.message, undefined);
    assert.equal(expired.tradeCharge, 0);
    assert.deepEqual((await notifications(gw, o.orderNo)).map((n) => [n.status, n.state]), [['EXPIRED', 'pending']]);
    const events = await orderEvents(gw, o.orderNo);
    assert.deepEqual(events.at(-1)!.cause, 'expiry');

    gw.clock.advance(1_000);
    const late = await complete(gw, token, o.orderNo, { outcome: 'PAID' });
    assert.equal(late.status, 200, late.text);
    const after = await query(gw, token, o.orderNo);
    assert.equal(after.status, 'EXCEPTION');
    assert.match(after.message, /expired/);
    assert.equal(after.paidAmount, o.amount);
    const statuses = (await orderEvents(gw, o.orderNo)).map((e) => e.to_status);
    assert.deepEqual(statuses, ['CREATED', 'PENDING', 'EXPIRED', 'EXCEPTION']);
    assert.deepEqual((await notifications(gw, o.orderNo)).map((n) => n.status), ['EXPIRED', 'EXCEPTION']);
  });

  // The expiry job runs every few seconds; between an order's expiry time and
  // its run, the order is already over for the consumer (the page says so).
  test('past its time but before the expiry job: a payment is an EXCEPTION, a method pick or a cancel expires it; nothing is paid', async () => {
    const paidLate = (await createV3(gw, token, payinBody())).json.data;
    const unpicked = (await createV3(gw, token, payinBody({ payMethod: undefined }))).json.data;
    const cancelled = (await createV3(gw, token, payinBody())).json.data;
    gw.clock.advance(60_001);
    const late = await complete(gw, token, paidLate.orderNo, { outcome: 'PAID' });
    assert.equal(late.status, 200, late.text);
    assert.deepEqual((await orderEvents(gw, paidLate.orderNo)).map((e) => [e.to_status, e.cause]), [
      ['CREATED', 'create'],
      ['PENDING', 'channel'],
      ['EXPIRED', 'expiry'],
      ['EXCEPTION', 'channel'],
    ]);
    assert.match((await query(gw, token, paidLate.orderNo)).message, /after the order expired/);
    const picked = await choosePayinMethod(gw.app.services.payins, unpicked.orderNo, 'spei');
    assert.deepEqual([picked.status, picked.method, picked.params], ['EXPIRED', null, null], 'no channel was asked');
    const gone = await cancelPayin(gw.app.services.payins, cancelled.orderNo);
    assert.deepEqual([gone.status, gone.message], ['EXPIRED', null]);
    assert.equal(await expire(), 0, 'nothing left for the job');
  });

  // Providers resend a callback until it is acknowledged. The resent late-payment
  // report must not resolve the EXCEPTION (an operator decides, merchant-api.md §4):
  // a repeated event is a no-op.
  test('after a late PAID report, no report of the channel settles the EXCEPTION (resent PAID, then FAILED, then PAID anew)', async () => {
    const o = (await createV3(gw, token, payinBody())).json.data;
    gw.clock.advance(61_000);
    assert.equal(await expire(), 1);
    const signed = (outcome: string, eventId: string) => {
      const raw = JSON.stringify({ orderNo: o.orderNo, channelRef: `sbx_${o.orderNo}`, outcome, paidAmountMinor: outcome === 'PAID' ? '125050' : null, message: null, eventId });
      return { raw, signature: createHmac('sha256', gw.app.services.sandbox.key).update(raw, 'utf8').digest('hex') };
    };
    const send = ({ raw, signature }: { raw: string; signature: string }) => gw.call('POST', '/channels/sandbox/callback', { body: raw, headers: { 'x-sandbox-signature': signature } });
    const late = signed('PAID', `evt_late_${o.orderNo}`);
    gw.clock.advance(1_000);
    assert.equal((await send(late)).status, 200);
    const exception = await query(gw, token, o.orderNo);
    assert.equal(exception.status, 'EXCEPTION');
    gw.clock.advance(30_000);
    for (const report of [late, signed('FAILED', `evt_fail_${o.orderNo}`), signed('EXCEPTION', `evt_exc_${o.orderNo}`), signed('PAID', `evt_again_${o.orderNo}`)]) {
      const res = await send(report);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(await query(gw, token, o.orderNo), exception, `${report.raw} moved the order`);
    }
    // Through the sandbox API the bank will not contradict itself either: 422, nothing changes.
    const contradicted = await complete(gw, token, o.orderNo, { outcome: 'FAILED' });
    assert.equal(contradicted.status, 422, contradicted.text);
    assert.equal(contradicted.json.error, 'outcome: FAILED does not apply to this order in its current state (see its status)');
    assert.deepEqual(await query(gw, token, o.orderNo), exception);
    const bankSays = await gw.core.db.selectFrom('sandbox_bank').select('status').where('order_no', '=', o.orderNo).executeTakeFirst();
    assert.equal(bankSays, undefined, 'a refused outcome is not recorded by the bank');
    assert.deepEqual((await orderEvents(gw, o.orderNo)).map((e) => e.to_status), ['CREATED', 'PENDING', 'EXPIRED', 'EXCEPTION']);
    assert.deepEqual((await notifications(gw, o.orderNo)).map((n) => n.status).sort(), ['EXCEPTION', 'EXPIRED']);
  });

  test('a late payment completed again through the sandbox, even five times at once, answers 200 and changes nothing', async () => {
    const o = (await createV3(gw, token, payinBody())).json.data;
    gw.clock.advance(61_000);
    const first = await complete(gw, token, o.orderNo, { outcome: 'PAID' });
    assert.equal(first.status, 200, first.text);
    const exception = await query(gw, token, o.orderNo);
    assert.equal(exception.status, 'EXCEPTION');
    const again = await Promise.all(Array.from({ length: 5 }, () => complete(gw, token, o.orderNo, { outcome: 'PAID' })));
    assert.deepEqual(again.map((r) => r.status), [200, 200, 200, 200, 200], again.map((r) => r.text).join('\n'));
    assert.deepEqual(await query(gw, token, o.orderNo), exception);
    assert.deepEqual((await orderEvents(gw, o.orderNo)).map((e) => e.to_status), ['CREATED', 'PENDING', 'EXPIRED', 'EXCEPTION']);
    // Another amount is not a repeat: refused (the operator decides), and the amount is in the log for the operator.
    const logsBefore = gw.logs.length;
    const more = await complete(gw, token, o.orderNo, { outcome: 'PAID', paidAmount: 555 });
    assert.equal(more.status, 422, more.text);
    assert.deepEqual(await query(gw, token, o.orderNo), exception);
    assert.match(gw.logs.slice(logsBefore).join(''), new RegExp(`"orderNo":"${o.orderNo}".*"paidAmount":"555".*late payment awaits an operator`));
  });

  test('a paid order is not expired', async () => {
    const o = (await createV3(gw, token, payinBody())).json.data;
    await complete(gw, token, o.orderNo, { outcome: 'PAID' });
    gw.clock.advance(61_000);
    assert.equal(await expire(), 0);
    assert.equal((await query(gw, token, o.orderNo)).status, 'PAID');
  });

  test('two expiry runs at once: one EXPIRED history row, one notification', async () => {
    const o = (await createV3(gw, token, payinBody())).json.data;
    gw.clock.advance(61_000);
    const counts = await Promise.all([expire(), expire(), expire()]);
    assert.equal(counts.reduce((a, b) => a + b, 0), 1, counts.join(','));
    assert.equal((await orderEvents(gw, o.orderNo)).filter((e) => e.to_status === 'EXPIRED').length, 1);
    assert.equal((await notifications(gw, o.orderNo)).length, 1);
  });

  test('a batch takes the longest expired first, whether still CREATED (no method) or PENDING', async () => {
    const made: Array<{ orderNo: string; status: string }> = [];
    for (const payMethod of [undefined, 'MX_SPEI', undefined, 'MX_SPEI']) {
      made.push((await createV3(gw, token, payinBody({ payMethod }))).json.data);
      gw.clock.advance(1_000);
    }
    assert.deepEqual(made.map((o) => o.status), ['CREATED', 'PENDING', 'CREATED', 'PENDING']);
    gw.clock.advance(60_000);
    assert.equal(await expireDuePayins(gw.app.services.payins, 3), 3);
    const statuses = async () => Promise.all(made.map(async (o) => (await query(gw, token, o.orderNo)).status));
    assert.deepEqual(await statuses(), ['EXPIRED', 'EXPIRED', 'EXPIRED', 'PENDING']);
    assert.equal(await expireDuePayins(gw.app.services.payins, 3), 1);
    assert.deepEqual(await statuses(), ['EXPIRED', 'EXPIRED', 'EXPIRED', 'EXPIRED']);
  });
});

describe('method settings: fees, limits, switch', () => {
  let gw: TestGateway;
  let creds: Credentials;
  let token: string;
  before(async () => {
    gw = await startGateway();
    creds = await gw.merchant(['MXN', 'IDR']);
    token = await gw.token(creds);
  });
  after(() => gw.close());

  const settings = (merchantId: string, method: string, s: Partial<typeof DEFAULT_SETTINGS>) =>
    saveMethodSettings(gw.core.db, gw.clock.now(), merchantId, 'payin', method, { ...DEFAULT_SETTINGS, ...s });

  test('two taps on the picker at once: one method, the channel asked once, the pick a change of the row like any other', async () => {
    const o = (await createV3(gw, token, payinBody({ payMethod: undefined }))).json.data;
    const before = (await gw.core.db.selectFrom('orders').selectAll().where('order_no', '=', o.orderNo).executeTakeFirstOrThrow());
    gw.clock.advance(1);
    const [a, b] = await Promise.all([choosePayinMethod(gw.app.services.payins, o.orderNo, 'spei'), choosePayinMethod(gw.app.services.payins, o.orderNo, 'MX_SPEI')]);
    assert.deepEqual([a.method, b.method], ['MX_SPEI', 'MX_SPEI']);
    assert.deepEqual((await orderEvents(gw, o.orderNo)).map((e) => e.to_status), ['CREATED', 'PENDING'], 'one payment started');
    const after = await gw.core.db.selectFrom('orders').selectAll().where('order_no', '=', o.orderNo).executeTakeFirstOrThrow();
    assert.equal(after.version, before.version + 2n, 'the pick and the start of the payment, each a new version');
    assert.ok(after.updated_at > before.updated_at);
  });

  test('changes of different fields made at once all hold: each reads the row locked, none writes over another', async () => {
    // The race is PostgreSQL's (a pool of connections); SQLite's one write connection runs the transactions one after another.
    const merchants = await Promise.all(Array.from({ length: 4 }, () => gw.merchant(['MXN'])));
    const changes: Array<(s: MethodSettings) => MethodSettings> = [
      (s) => ({ ...s, fee: { ...s.fee, bps: 250n } }),
      (s) => ({ ...s, fee: { ...s.fee, fixedMinor: 150n } }),
      (s) => ({ ...s, minAmount: 1_000n }),
      (s) => ({ ...s, maxAmount: 5_000_000n }),
      (s) => ({ ...s, enabled: false }),
    ];
    await Promise.all(
      merchants.flatMap((m) =>
        changes.map((change) => gw.core.db.transaction().execute((tx) => changeMethodSettings(tx, gw.clock.now(), { merchantId: m.merchantId, direction: 'payin', method: 'MX_SPEI' }, change))),
      ),
    );
    for (const m of merchants) {
      assert.deepEqual(await methodSettings(gw.core.db, m.merchantId, 'payin', 'MX_SPEI'), {
        channel: DEFAULT_SETTINGS.channel,
        enabled: false,
        fee: { bps: 250n, fixedMinor: 150n },
        minAmount: 1_000n,
        maxAmount: 5_000_000n,
      });
    }
  });

  test('250 bps + 1.00 MXN fixed: 1250.50 paid in full → tradeCharge 32.26; paid 1000 → 26', async () => {
    await settings(creds.merchantId, 'MX_SPEI', { fee: { bps: 250n, fixedMinor: 100n } });
    const full = (await createV3(gw, token, payinBody({ amount: '1250.50' }))).json.data;
    assert.equal(full.tradeCharge, 0, 'no fee before the outcome');
    const paid = await complete(gw, token, full.orderNo, { outcome: 'PAID' });
    assert.equal(paid.json.data.tradeCharge, 32.26);
    const row = await gw.core.db.selectFrom('orders').select('fee').where('order_no', '=', full.orderNo).executeTakeFirstOrThrow();
    assert.equal(row.fee, 3226n);
    const part = (await createV3(gw, token, payinBody({ amount: '1250.50' }))).json.data;
    const partPaid = await complete(gw, token, part.orderNo, { outcome: 'PAID', paidAmount: 1000 });
    assert.equal(partPaid.json.data.tradeCharge, 26);
    const failed = (await createV3(gw, token, payinBody({ amount: '1250.50' }))).json.data;
    assert.equal((await complete(gw, token, failed.orderNo, { outcome: 'FAILED' })).json.data.tradeCharge, 0);
  });

  test('min 100.00 / max 5000.00: outside → 422 and nothing created, the bounds themselves → 200', async () => {
    const m = await gw.merchant(['MXN']);
    const t = await gw.token(m);
    await settings(m.merchantId, 'MX_SPEI', { minAmount: 10_000n, maxAmount: 500_000n });
    for (const amount of ['99.99', '5000.01', '0.01', '100000']) {
      const res = await createV3(gw, t, payinBody({ amount }));
      assert.equal(res.status, 422, `${amount}: ${res.text}`);
      assert.equal(res.json.code, 422);
      assert.match(res.json.error, /amount/);
    }
    assert.equal(await countOrders(gw, m.merchantId), 0);
    for (const amount of ['100', '5000', '1250.50']) {
      const res = await createV3(gw, t, payinBody({ amount }));
      assert.equal(res.status, 200, `${amount}: ${res.text}`);
    }
    assert.equal(await countOrders(gw, m.merchantId), 3);
  });

  test('a change made while the settings are remembered reaches creates within PAGODA_APP_CACHE_TTL', async () => {
    const m = await gw.merchant(['MXN']);
    const t = await gw.token(m);
    assert.equal((await createV3(gw, t, payinBody())).status, 200);
    await settings(m.merchantId, 'MX_SPEI', { maxAmount: 100_000n });
    gw.clock.advance(gw.config.appCacheTtlMs);
    const res = await createV3(gw, t, payinBody({ amount: '1000.01' }));
    assert.equal(res.status, 422, res.text);
    assert.match(res.json.error, /amount/);
  });

  test('without payMethod: 422 and nothing created when no method could be picked for the currency and amount', async () => {
    const m = await gw.merchant(['MXN', 'JPY']);
    const t = await gw.token(m);
    const noMethod = (over: Record<string, unknown>) => createV3(gw, t, payinBody({ payMethod: undefined, ...over }));
    const refused = async (over: Record<string, unknown>, why: string) => {
      const res = await noMethod(over);
      assert.equal(res.status, 422, `${why}: ${res.text}`);
      assert.match(res.json.error, /^payMethod: no payment method is available to this merchant for /, why);
    };
    await refused({ currency: 'JPY', amount: 1000 }, 'JPY has no method in the catalogue');
    const mxn = methodsFor('MXN', 'payin').map((d) => d.code);
    assert.ok(mxn.length > 0);
    for (const code of mxn) await settings(m.merchantId, code, { enabled: false });
    await refused({}, 'every MXN method switched off');
    await settings(m.merchantId, mxn[0]!, { maxAmount: 100_000n });
    gw.clock.advance(gw.config.appCacheTtlMs + 1);
    await refused({ amount: '1000.01' }, 'the one method on caps the amount below');
    assert.equal(await countOrders(gw, m.merchantId), 0);
    const fine = await noMethod({ amount: '1000' });
    assert.equal(fine.status, 200, fine.text);
    assert.equal(fine.json.data.status, 'CREATED');
  });

  test('enabled: false → 422, nothing created; other methods unaffected', async () => {
    const m = await gw.merchant(['MXN', 'IDR']);
    const t = await gw.token(m);
    await settings(m.merchantId, 'MX_SPEI', { enabled: false });
    const res = await createV3(gw, t, payinBody());
    assert.equal(res.status, 422, res.text);
    assert.equal(res.json.error, 'payMethod: MX_SPEI is not enabled for this merchant');
    assert.equal(await countOrders(gw, m.merchantId), 0);
    const other = await createV3(gw, t, payinBody({ currency: 'IDR', payMethod: 'ID_VA', amount: 10000 }));
    assert.equal(other.status, 200, other.text);
  });
});
