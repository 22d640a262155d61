import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { bearer, createV3, notifications, orderEvents, payinBody } from './helpers/payins.ts';
import { createApp, type Credentials } from '../src/modules/merchants/merchant.service.ts';
import { listOrderEvents } from '../src/modules/orders/order.service.ts';
import { resolveOrder } from '../src/modules/operator/resolve.service.ts';

describe('sandbox completion and channel callbacks of pay-ins', () => {
  let gw: TestGateway;
  let creds: Credentials;
  let token: string;
  before(async () => {
    gw = await startGateway();
    creds = await gw.merchant(['MXN']);
    token = await gw.token(creds);
  });
  after(() => gw.close());

  const create = async (over: Record<string, unknown> = {}) => {
    const res = await createV3(gw, token, payinBody(over));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.data.status, 'PENDING');
    return res.json.data as Record<string, any>;
  };
  const complete = (orderNo: string, body: Record<string, unknown>, tok = token) =>
    gw.call('POST', `/sandbox/v1/payins/${orderNo}/complete`, { body: JSON.stringify(body), headers: bearer(tok) });
  const query = async (orderNo: string) => (await gw.call('GET', `/api/v3/payment/query?orderNo=${orderNo}`, { headers: bearer(token) })).json.data;
  /** The sandbox bank's callback: HMAC-SHA256 (hex) of the exact body with the sandbox channel key. */
  const report = (order: Record<string, any>, outcome: string, over: Record<string, unknown> = {}) =>
    JSON.stringify({ orderNo: order.orderNo, channelRef: `sbx_${order.orderNo}`, outcome, paidAmountMinor: null, message: null, eventId: `evt_${randomBytes(6).toString('hex')}`, ...over });
  const hmac = (key: Buffer, raw: string) => createHmac('sha256', key).update(raw, 'utf8').digest('hex');
  const callback = (raw: string, signature?: string) =>
    gw.call('POST', '/channels/sandbox/callback', { body: raw, headers: signature === undefined ? {} : { 'x-sandbox-signature': signature } });

  test('PAID: paidAmount = amount, one pending notification, history CREATED → PENDING → PAID with actors', async () => {
    const order = await create({ amount: 1250.5 });
    gw.clock.advance(1_000);
    const res = await complete(order.orderNo, { outcome: 'PAID' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.data.status, 'PAID');
    assert.equal(res.json.data.paidAmount, 1250.5);
    assert.equal(res.json.data.message, undefined);
    assert.equal(res.json.data.updateTime, gw.clock.now());
    assert.deepEqual(await query(order.orderNo), res.json.data);
    const notes = await notifications(gw, order.orderNo);
    assert.equal(notes.length, 1);
    assert.equal(notes[0]!.state, 'pending');
    assert.equal(notes[0]!.status, 'PAID');
    assert.equal(notes[0]!.url, 'https://merchant.example/notify');
    assert.equal(JSON.parse(notes[0]!.payload).signed.status, 'PAID');
    const events = await orderEvents(gw, order.orderNo);
    assert.deepEqual(
      events.map((e) => [e.from_status, e.to_status, e.cause, e.actor]),
      [
        [null, 'CREATED', 'create', `merchant:${creds.appId}`],
        ['CREATED', 'PENDING', 'channel', 'channel:sandbox'],
        ['PENDING', 'PAID', 'channel', 'channel:sandbox'],
      ],
    );
  });

  test('PAID with paidAmount 1000 on a 1250.5 order: PAID with paidAmount 1000', async () => {
    const order = await create({ amount: 1250.5 });
    const res = await complete(order.orderNo, { outcome: 'PAID', paidAmount: 1000 });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.data.status, 'PAID');
    assert.equal(res.json.data.amount, 1250.5);
    assert.equal(res.json.data.paidAmount, 1000);
    const row = await gw.core.db.selectFrom('orders').select(['paid_amount', 'amount']).where('order_no', '=', order.orderNo).executeTakeFirstOrThrow();
    assert.equal(row.paid_amount, 100000n);
    assert.equal(row.amount, 125050n);
  });

  test('FAILED: FAILED with a message, one notification', async () => {
    const order = await create();
    const res = await complete(order.orderNo, { outcome: 'FAILED' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.data.status, 'FAILED');
    assert.equal(typeof res.json.data.message, 'string');
    assert.ok(res.json.data.message.length > 0);
    assert.equal(res.json.data.paidAmount, 0);
    const notes = await notifications(gw, order.orderNo);
    assert.deepEqual(notes.map((n) => n.status), ['FAILED']);
  });

  test('a repeated PAID is a no-op: no new history row, no new notification', async () => {
    const order = await create();
    const first = await complete(order.orderNo, { outcome: 'PAID' });
    gw.clock.advance(1_000);
    const again = await complete(order.orderNo, { outcome: 'PAID' });
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.json.data, first.json.data);
    assert.equal((await orderEvents(gw, order.orderNo)).length, 3);
    assert.equal((await notifications(gw, order.orderNo)).length, 1);
  });

  test('PAID then FAILED: the sandbox bank will not say it (422); a channel that does is refused and logged; the order stays PAID, no notification', async () => {
    const order = await create();
    const paid = await complete(order.orderNo, { outcome: 'PAID' });
    gw.clock.advance(1_000);
    const failed = await complete(order.orderNo, { outcome: 'FAILED' });
    assert.equal(failed.status, 422, failed.text);
    assert.equal(failed.json.error, 'outcome: the sandbox bank already reported PAID for this order');
    const raw = report(order, 'FAILED');
    const reported = await callback(raw, hmac(gw.app.services.sandbox.key, raw));
    assert.equal(reported.status, 200, 'a refused report is acknowledged, so the provider stops resending it');
    assert.equal(reported.json.data.result, 'refused');
    assert.deepEqual(await query(order.orderNo), paid.json.data);
    assert.deepEqual((await orderEvents(gw, order.orderNo)).map((e) => e.to_status), ['CREATED', 'PENDING', 'PAID']);
    assert.deepEqual((await notifications(gw, order.orderNo)).map((n) => n.status), ['PAID']);
    assert.ok(gw.logs.some((l) => l.includes('transition refused') && l.includes(order.orderNo)), 'the refusal is logged');
  });

  test("another merchant's token → 404; a payout-only app → 403; the order does not move", async () => {
    const order = await create();
    const other = await gw.merchant(['MXN']);
    const foreign = await complete(order.orderNo, { outcome: 'PAID' }, await gw.token(other));
    assert.equal(foreign.status, 404, foreign.text);
    assert.equal(foreign.json.code, 404);
    const payoutOnly = await createApp(gw.core.db, { box: gw.core.box, now: gw.clock.now(), actor: 'test' }, { merchantId: creds.merchantId, scopes: ['payout'] });
    const scoped = await complete(order.orderNo, { outcome: 'PAID' }, await gw.token(payoutOnly));
    assert.equal(scoped.status, 403, scoped.text);
    assert.equal(scoped.json.code, 403);
    assert.equal((await query(order.orderNo)).status, 'PENDING');
    assert.equal((await notifications(gw, order.orderNo)).length, 0);
  });

  test('sandbox complete: unknown outcome → 400; unknown order → 404; no token → 401', async () => {
    const order = await create();
    assert.equal((await complete(order.orderNo, { outcome: 'MAYBE' })).status, 400);
    assert.equal((await complete(order.orderNo, { outcome: 'PAID', paidAmount: '12.345' })).status, 400);
    assert.equal((await complete('PI00000000000000000000000000', { outcome: 'PAID' })).status, 404);
    const anon = await gw.call('POST', `/sandbox/v1/payins/${order.orderNo}/complete`, { body: '{"outcome":"PAID"}' });
    assert.equal(anon.status, 401);
    assert.equal((await query(order.orderNo)).status, 'PENDING');
  });

  test('/channels/sandbox/callback with a forged, missing or misapplied signature → 401; nothing changes', async () => {
    const order = await create();
    const raw = report(order, 'PAID');
    const key = gw.app.services.sandbox.key;
    const other = report(order, 'PAID', { paidAmountMinor: '1' });
    for (const signature of [undefined, '', hmac(randomBytes(32), raw), hmac(key, other), hmac(key, raw).toUpperCase().replace(/^./, 'g'), 'x'.repeat(64)]) {
      const res = await callback(raw, signature);
      assert.equal(res.status, 401, `${signature} ${res.text}`);
      assert.equal(res.json.code, 401);
    }
    assert.equal((await query(order.orderNo)).status, 'PENDING');
    assert.equal((await orderEvents(gw, order.orderNo)).length, 2);
    assert.equal((await notifications(gw, order.orderNo)).length, 0);
    // the same body with the right signature is applied: the checks above could fail
    const good = await callback(raw, hmac(key, raw));
    assert.equal(good.status, 200, good.text);
    assert.equal((await query(order.orderNo)).status, 'PAID');
  });

  test('a signed report that breaks the rules of any report is refused (400) and changes nothing', async () => {
    const order = await create();
    const key = gw.app.services.sandbox.key;
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['paid nothing', { paidAmountMinor: '0' }, /paidAmount: must be more than 0/],
      ['paid more than the gateway keeps exact', { paidAmountMinor: '1000000000000000' }, /paidAmount: must be more than 0 and at most 999999999999999/],
      ['another payment\'s reference', { channelRef: 'sbx_PIOTHER' }, /channelRef: sbx_PIOTHER is not the reference of order/],
      ['a message that is an object', { message: { a: 1 } }, /message: must be a string/],
      ['a message that is a number', { message: 12345 }, /message: must be a string/],
      ['a message of 257 characters', { message: 'm'.repeat(257) }, /message: at most 256 characters/],
      ['a message with a control character', { message: 'a\u001b[2Jb' }, /message: must be text without control characters/],
      ['an empty event id', { eventId: '' }, /eventId/],
      ['a reference that is a number', { channelRef: 7 }, /channelRef: must be a string/],
      ['a paid amount in an array', { paidAmountMinor: ['12345'] }, /paidAmountMinor: must be digits/],
      ['a message with a right-to-left override', { message: 'Declined \u202egnp.exe' }, /message: must be text without control characters/],
    ];
    for (const [name, over, detail] of cases) {
      const raw = report(order, 'PAID', over);
      const res = await callback(raw, hmac(key, raw));
      assert.equal(res.status, 400, `${name}: ${res.text}`);
      assert.match(res.json.error, detail, name);
    }
    assert.equal((await query(order.orderNo)).status, 'PENDING');
    assert.equal((await orderEvents(gw, order.orderNo)).length, 2);
    const used = await gw.core.db.selectFrom('channel_events').select('event_id').where('order_no', '=', order.orderNo).execute();
    assert.deepEqual(used, [], 'no refused report spends its event id');
  });

  test('changes made within one millisecond still have increasing updateTimes, so their notifications can be ordered', async () => {
    const order = await create();
    assert.equal((await complete(order.orderNo, { outcome: 'EXCEPTION' })).status, 200);
    await resolveOrder(gw.app.services.payouts, { orderNo: order.orderNo, to: 'FAILED', reason: 'bank says no', actor: 'test:operator' });
    const times = (await notifications(gw, order.orderNo)).map((n) => [n.status, (JSON.parse(n.payload) as { signed: { updateTime: number } }).signed.updateTime]);
    // The clock did not move: created, PENDING, EXCEPTION and FAILED all happened "now".
    assert.deepEqual(times, [['EXCEPTION', order.createTime + 1], ['FAILED', order.createTime + 2]]);
    assert.equal((await query(order.orderNo)).updateTime, order.createTime + 2);
  });

  test('5 concurrent identical PAID reports: one PAID transition, one notification', async () => {
    const order = await create();
    const raw = report(order, 'PAID', { paidAmountMinor: '125050' });
    const signature = hmac(gw.app.services.sandbox.key, raw);
    const answers = await Promise.all(Array.from({ length: 5 }, () => callback(raw, signature)));
    for (const res of answers) assert.equal(res.status, 200, res.text);
    assert.deepEqual(answers.map((r) => r.json.data.result).sort(), ['applied', 'noop', 'noop', 'noop', 'noop']);
    const paid = (await orderEvents(gw, order.orderNo)).filter((e) => e.to_status === 'PAID');
    assert.equal(paid.length, 1);
    assert.deepEqual((await notifications(gw, order.orderNo)).map((n) => n.status), ['PAID']);
  });

  test('5 concurrent sandbox completions: one PAID transition, one notification', async () => {
    const order = await create();
    const answers = await Promise.all(Array.from({ length: 5 }, () => complete(order.orderNo, { outcome: 'PAID' })));
    for (const res of answers) assert.equal(res.status, 200, res.text);
    assert.equal((await orderEvents(gw, order.orderNo)).filter((e) => e.to_status === 'PAID').length, 1);
    assert.equal((await notifications(gw, order.orderNo)).length, 1);
  });

  // The history as the operator sees it (`pagoda order show`): ordered by
  // created_at then id; ids are random within a millisecond, so events of the
  // same millisecond come out in random order.
  test('listOrderEvents lists an order\'s history in the order it happened', async () => {
    for (let i = 0; i < 6; i++) {
      const order = await create();
      await complete(order.orderNo, { outcome: 'PAID' });
      const events = await listOrderEvents(gw.core.db, order.orderNo);
      assert.deepEqual(events.map((e) => e.to_status), ['CREATED', 'PENDING', 'PAID'], order.orderNo);
    }
  });
});
