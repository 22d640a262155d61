/**
 * v2 payouts (signed with appId + sign, merchant-api.md §2): create and query,
 * every answer's `data.sign` checked by the independent reference
 * implementation of test/helpers/payins.ts; a refused signature creates and
 * freezes nothing; a retry never freezes twice.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { completeDueSandboxPayouts } from '../src/modules/channels/sandbox/sandbox.bank.ts';
import { checkLedger } from '../src/modules/ledger/ledger.check.ts';
import type { Credentials } from '../src/modules/merchants/merchant.service.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { countOrders, newRef, referenceSign } from './helpers/payins.ts';
import { BAD_CLABE, CLABE, balancesOf, entryKinds, fund } from './helpers/money.ts';

const V2_FIELDS = ['orderNo', 'merOrderNo', 'orderStatus', 'amount', 'realAmount', 'tradeCharge', 'currency', 'payMethod', 'attach', 'createTime', 'updateTime', 'sign'];

describe('v2 payouts: signed create and query', () => {
  let gw: TestGateway;
  let creds: Credentials;
  before(async () => {
    gw = await startGateway({ PAGODA_SANDBOX_PAYOUT_DELAY: '1s' });
    creds = await gw.merchant(['MXN']);
    await fund(gw, creds.merchantId, 100_000n);
  });
  after(() => gw.close());

  const v2Body = (over: Record<string, unknown> = {}) => ({
    appId: creds.appId,
    merOrderNo: newRef('v2po'),
    currency: 'MXN',
    amount: '30.00',
    payMethod: 'MX_SPEI',
    notifyUrl: 'https://merchant.example/v2/payout-notify',
    attach: 'v2 payout',
    extra: { accountName: 'JUAN PEREZ', accountNo: CLABE, bankCode: '' },
    ...over,
  });
  const signed = (body: Record<string, unknown>, secret = creds.appSecret): Record<string, any> => ({ ...body, sign: referenceSign(body, secret) });
  const create = (body: Record<string, unknown>) => gw.call('POST', '/api/v2/payout/order/create', { body: JSON.stringify(body) });
  const query = (params: Record<string, string>, sign = referenceSign(params, creds.appSecret)) =>
    gw.call('GET', `/api/v2/payout/order/query?${new URLSearchParams({ ...params, sign }).toString()}`);
  const assertSigned = (data: Record<string, unknown>) => {
    const { sign, ...rest } = data;
    assert.match(String(sign), /^[0-9a-f]{64}$/);
    assert.equal(sign, referenceSign(rest, creds.appSecret));
  };
  const balances = () => balancesOf(gw.core.db, creds.merchantId);

  test('a signed create answers orderStatus 1 with a valid sign; funds frozen; a signed retry answers the same order', async () => {
    const start = await balances();
    const body = signed(v2Body());
    const res = await create(body);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.code, 0);
    const data = res.json.data;
    assert.deepEqual(Object.keys(data).sort(), [...V2_FIELDS].sort());
    assert.equal(data.orderStatus, 1);
    assert.equal(data.amount, 30);
    assert.equal(data.realAmount, 0);
    assert.equal(data.payMethod, 'MX_SPEI');
    assertSigned(data);
    const row = await gw.core.db.selectFrom('orders').select(['generation', 'direction']).where('order_no', '=', data.orderNo).executeTakeFirstOrThrow();
    assert.deepEqual([row.generation, row.direction], ['v2', 'payout']);
    assert.deepEqual(await balances(), { payin: 0n, payout: start.payout - 3_000n, frozen: start.frozen + 3_000n });

    const again = await create(body);
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.data.orderNo, data.orderNo);
    assertSigned(again.json.data);
    assert.deepEqual(await balances(), { payin: 0n, payout: start.payout - 3_000n, frozen: start.frozen + 3_000n });
    assert.deepEqual(await entryKinds(gw.core.db, data.orderNo), ['payout.freeze']);

    // The same merOrderNo with another amount, properly signed: 409, nothing moves.
    const other = await create(signed({ ...v2Body({ merOrderNo: data.merOrderNo }), amount: '31.00' }));
    assert.equal(other.status, 409, other.text);
    assert.deepEqual(await balances(), { payin: 0n, payout: start.payout - 3_000n, frozen: start.frozen + 3_000n });
  });

  test('query by orderNo, merOrderNo, or both (one may be empty): the signed order; after completion orderStatus 2', async () => {
    const created = await create(signed(v2Body({ amount: '12.34' })));
    assert.equal(created.status, 200, created.text);
    const { orderNo, merOrderNo } = created.json.data as { orderNo: string; merOrderNo: string };
    for (const ref of [{ orderNo, merOrderNo }, { orderNo, merOrderNo: '' }, { orderNo: '', merOrderNo }, { merOrderNo }] as Array<Record<string, string>>) {
      const res = await query({ appId: creds.appId, ...ref });
      assert.equal(res.status, 200, `${JSON.stringify(ref)} ${res.text}`);
      assert.deepEqual(res.json.data, created.json.data);
      assertSigned(res.json.data);
    }
    gw.clock.advance(1_000);
    await completeDueSandboxPayouts(gw.app.services.sandbox);
    const done = await query({ appId: creds.appId, orderNo });
    assert.equal(done.status, 200, done.text);
    assert.equal(done.json.data.orderStatus, 2);
    assert.equal(done.json.data.realAmount, 12.34);
    assertSigned(done.json.data);
  });

  test('magic amounts through v2: .13 → orderStatus -1 (funds back), .14 → -4 (frozen)', async () => {
    const start = await balances();
    const fail = await create(signed(v2Body({ amount: '1.13' })));
    const odd = await create(signed(v2Body({ amount: '1.14' })));
    gw.clock.advance(1_000);
    await completeDueSandboxPayouts(gw.app.services.sandbox);
    const f = await query({ appId: creds.appId, orderNo: fail.json.data.orderNo });
    const o = await query({ appId: creds.appId, orderNo: odd.json.data.orderNo });
    assert.equal(f.json.data.orderStatus, -1, f.text);
    assert.equal(o.json.data.orderStatus, -4, o.text);
    assertSigned(f.json.data);
    assertSigned(o.json.data);
    assert.deepEqual(await balances(), { payin: 0n, payout: start.payout - 114n, frozen: start.frozen + 114n });
  });

  const refused: Array<[string, () => Record<string, unknown>]> = [
    ['no sign', () => v2Body()],
    ['a sign made with another secret', () => signed(v2Body(), 'f'.repeat(32))],
    ['the amount changed after signing', () => ({ ...signed(v2Body()), amount: '3000.00' })],
    ['the beneficiary changed after signing', () => {
      const b = signed(v2Body());
      return { ...b, extra: { ...b.extra, accountNo: '012180001234567897' } };
    }],
    ['an unknown appId', () => signed(v2Body({ appId: 'e'.repeat(32) }))],
  ];
  for (const [name, make] of refused) {
    test(`v2 payout create refused with 401, nothing created or frozen: ${name}`, async () => {
      const before = await Promise.all([countOrders(gw), balances()]);
      const res = await create(make());
      assert.equal(res.status, 401, res.text);
      assert.equal(res.json.code, 401);
      assert.deepEqual(await Promise.all([countOrders(gw), balances()]), before);
    });
  }

  test('a properly signed but invalid payout (bad CLABE, no payMethod, too much) is refused with 400/422, nothing frozen', async () => {
    const before = await Promise.all([countOrders(gw), balances()]);
    const bad = await create(signed(v2Body({ extra: { accountName: 'JUAN PEREZ', accountNo: BAD_CLABE } })));
    assert.equal(bad.status, 400, bad.text);
    const { payMethod: _m, ...noMethod } = v2Body();
    assert.equal((await create(signed(noMethod))).status, 400);
    const tooMuch = await create(signed(v2Body({ amount: '1000000.00' })));
    assert.equal(tooMuch.status, 422, tooMuch.text);
    assert.deepEqual(await Promise.all([countOrders(gw), balances()]), before);
  });

  test('v2 query with a wrong sign → 401; unknown → 404; v2 balance is signed and shows the frozen funds', async () => {
    const created = await create(signed(v2Body()));
    const good = { appId: creds.appId, orderNo: created.json.data.orderNo };
    const bad = await query(good, referenceSign({ ...good, orderNo: 'PO0' }, creds.appSecret));
    assert.equal(bad.status, 401, bad.text);
    assert.equal((await query({ appId: creds.appId, merOrderNo: newRef('none') })).status, 404);
    const params = { appId: creds.appId, currency: 'MXN' };
    const bal = await gw.call('GET', `/api/v2/merchant/balance?${new URLSearchParams({ ...params, sign: referenceSign(params, creds.appSecret) })}`);
    assert.equal(bal.status, 200, bal.text);
    assertSigned(bal.json.data);
    const b = await balances();
    assert.equal(bal.json.data.payoutValue * 100, Number(b.payout));
    assert.equal(bal.json.data.disableValue * 100, Number(b.frozen));
    assert.deepEqual(await checkLedger(gw.core.db), []);
  });
});
