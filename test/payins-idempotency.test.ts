import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { TEST_DB } from './helpers/db.ts';
import { countOrders, createV3, newRef, orderEvents, payinBody } from './helpers/payins.ts';
import { DEFAULT_SETTINGS, saveMethodSettings } from '../src/modules/channels/method-settings.ts';
import type { Credentials } from '../src/modules/merchants/merchant.service.ts';

describe(`v3 pay-in create: idempotency on merOrderNo (${TEST_DB})`, () => {
  let gw: TestGateway;
  let creds: Credentials;
  let token: string;
  before(async () => {
    gw = await startGateway();
    creds = await gw.merchant(['MXN', 'IDR']);
    token = await gw.token(creds);
  });
  after(() => gw.close());

  const rowsOf = (merOrderNo: string) => gw.core.db.selectFrom('orders').selectAll().where('mer_order_no', '=', merOrderNo).execute();

  test('the same request twice answers the same order; one row; the channel is asked once', async () => {
    const body = payinBody({ attach: 'a', returnUrl: 'https://shop.example/r', extra: { email: 'x@y.z' } });
    const first = await createV3(gw, token, body);
    gw.clock.advance(5_000);
    const second = await createV3(gw, token, body);
    assert.equal(first.status, 200, first.text);
    assert.equal(second.status, 200, second.text);
    assert.deepEqual(second.json.data, first.json.data);
    const rows = await rowsOf(body.merOrderNo as string);
    assert.equal(rows.length, 1);
    assert.deepEqual((await orderEvents(gw, rows[0]!.order_no)).map((e) => e.to_status), ['CREATED', 'PENDING']);
  });

  test('the same amount written differently (1250.5 vs "1250.50") is the same request', async () => {
    const body = payinBody({ amount: 1250.5 });
    const first = await createV3(gw, token, body);
    const second = await createV3(gw, token, { ...body, amount: '1250.50', payMethod: 'mx_spei' });
    assert.equal(second.status, 200, second.text);
    assert.equal(second.json.data.orderNo, first.json.data.orderNo);
    assert.equal((await rowsOf(body.merOrderNo as string)).length, 1);
  });

  const changes: Array<[string, Record<string, unknown>, string]> = [
    ['another amount', { amount: 1250.51 }, ': amount differs'],
    ['another notifyUrl', { notifyUrl: 'https://merchant.example/other' }, ': notifyUrl differs'],
    ['another attach', { attach: 'other' }, ': attach differs'],
    ['another amount and attach', { amount: 1, attach: 'other' }, ': amount, attach differ'],
    ['another returnUrl', { returnUrl: 'https://shop.example/back' }, ': returnUrl differs'],
    // The same minor units in another currency: another request.
    ['another currency', { currency: 'IDR', payMethod: undefined }, ': currency differs'],
    ['another extra', { extra: { email: 'other@shop.example' } }, ': extra differs'],
    // Not named: the consumer may have picked a method on the cashier page since.
    ['another payMethod', { payMethod: undefined }, ''],
  ];
  for (const [name, change, which] of changes) {
    test(`the same merOrderNo with ${name} → 409; the original is unchanged`, async () => {
      const body = payinBody({ attach: 'orig' });
      const first = await createV3(gw, token, body);
      assert.equal(first.status, 200, first.text);
      const [before] = await rowsOf(body.merOrderNo as string);
      gw.clock.advance(1_000);
      const res = await createV3(gw, token, payinBody({ ...body, ...change }));
      assert.equal(res.status, 409, res.text);
      assert.equal(res.json.code, 409);
      assert.equal(res.json.error, `merOrderNo ${body.merOrderNo as string} was already used with other parameters${which}`);
      assert.equal(res.json.data, undefined);
      const after = await rowsOf(body.merOrderNo as string);
      assert.equal(after.length, 1);
      assert.deepEqual(after[0], before);
    });
  }

  test('extra with the same members in another order is the same request, with or without a method', async () => {
    for (const payMethod of [undefined, 'MX_SPEI']) {
      const body = payinBody({ payMethod, extra: { email: 'x@y.z', name: 'Ana' } });
      const first = await createV3(gw, token, body);
      assert.equal(first.status, 200, first.text);
      const second = await createV3(gw, token, { ...body, extra: { name: 'Ana', email: 'x@y.z' } });
      assert.equal(second.status, 200, second.text);
      assert.equal(second.json.data.orderNo, first.json.data.orderNo);
    }
  });

  test('the same merOrderNo at another merchant is another order', async () => {
    const other = await gw.merchant(['MXN']);
    const body = payinBody();
    const mine = await createV3(gw, token, body);
    const theirs = await createV3(gw, await gw.token(other), body);
    assert.equal(mine.status, 200);
    assert.equal(theirs.status, 200);
    assert.notEqual(mine.json.data.orderNo, theirs.json.data.orderNo);
    assert.equal((await rowsOf(body.merOrderNo as string)).length, 2);
  });

  test('20 concurrent identical creates over HTTPS: all 200 with one orderNo, one row, one CREATED and one PENDING event', async () => {
    const body = payinBody();
    const before = await countOrders(gw, creds.merchantId);
    const answers = await Promise.all(Array.from({ length: 20 }, () => createV3(gw, token, body)));
    for (const res of answers) assert.equal(res.status, 200, res.text);
    const orderNos = new Set(answers.map((r) => r.json.data.orderNo));
    assert.equal(orderNos.size, 1, [...orderNos].join(' '));
    for (const res of answers) assert.ok(['CREATED', 'PENDING'].includes(res.json.data.status), res.json.data.status);
    assert.equal(await countOrders(gw, creds.merchantId), before + 1);
    const rows = await rowsOf(body.merOrderNo as string);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.status, 'PENDING');
    assert.deepEqual((await orderEvents(gw, rows[0]!.order_no)).map((e) => e.to_status), ['CREATED', 'PENDING']);
  });

  test('20 concurrent creates of one merOrderNo with different amounts: one 200, the rest 409, one row with the winner\'s amount', async () => {
    const merOrderNo = newRef('race');
    const before = await countOrders(gw, creds.merchantId);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => createV3(gw, token, payinBody({ merOrderNo, amount: 100 + i }))));
    const created = answers.filter((r) => r.status === 200);
    for (const res of answers) assert.ok(res.status === 200 || res.status === 409, `${res.status} ${res.text}`);
    assert.equal(created.length, 1, answers.map((r) => r.status).join(','));
    assert.equal(await countOrders(gw, creds.merchantId), before + 1);
    const [row] = await rowsOf(merOrderNo);
    assert.equal(row!.order_no, created[0]!.json.data.orderNo);
    assert.equal(Number(row!.amount), created[0]!.json.data.amount * 100);
  });

  // merchant-api.md §3: "same parameters → 200 with the existing order". A limit or a
  // switch the operator changed after the order was created must not turn a
  // merchant's retry (after a timeout) into a refusal.
  test('a retry of an existing order after its method was disabled still answers the existing order', async () => {
    const m = await gw.merchant(['MXN']);
    const t = await gw.token(m);
    const body = payinBody();
    const first = await createV3(gw, t, body);
    assert.equal(first.status, 200, first.text);
    await saveMethodSettings(gw.core.db, gw.clock.now(), m.merchantId, 'payin', 'MX_SPEI', { ...DEFAULT_SETTINGS, enabled: false });
    const retry = await createV3(gw, t, body);
    assert.equal(retry.status, 200, retry.text);
    assert.equal(retry.json.data.orderNo, first.json.data.orderNo);
  });
});
