/**
 * v3 payout create and query: idempotency on merOrderNo (a retry never moves
 * money twice) and refusals of bad input, each of which creates nothing and
 * freezes nothing (merchant-api.md §3, §6).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_SETTINGS, saveMethodSettings } from '../src/modules/channels/method-settings.ts';
import { checkLedger } from '../src/modules/ledger/ledger.check.ts';
import { createApp, type Credentials } from '../src/modules/merchants/merchant.service.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { bearer, countOrders, newRef, orderEvents } from './helpers/payins.ts';
import { BAD_CLABE, balancesOf, createPayoutV3, entryKinds, fund, payoutBody } from './helpers/money.ts';

describe('v3 payouts: idempotency and refusals', () => {
  let gw: TestGateway;
  let creds: Credentials;
  let token: string;
  before(async () => {
    gw = await startGateway();
    creds = await gw.merchant(['MXN', 'IDR', 'INR']);
    token = await gw.token(creds);
    await fund(gw, creds.merchantId, 1_000_000n);
    await fund(gw, creds.merchantId, 1_000_000n, 'payout', 'INR');
    await fund(gw, creds.merchantId, 100_000_000n, 'payout', 'IDR');
  });
  after(() => gw.close());

  const balances = (currency = 'MXN') => balancesOf(gw.core.db, creds.merchantId, currency);
  const query = (params: string, tok = token) => gw.call('GET', `/api/v3/payout/query?${params}`, { headers: bearer(tok) });

  test('the same request twice, then 5 times at once: one order, funds frozen once', async () => {
    const start = await balances();
    const body = payoutBody({ amount: 123.45, attach: 'retry me' });
    const first = await createPayoutV3(gw, token, body);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.json.data.status, 'PENDING');
    assert.equal(first.json.data.amount, 123.45);
    assert.equal(first.json.data.params, undefined, 'a payout has no cashier params');
    const again = await createPayoutV3(gw, token, body);
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.data.orderNo, first.json.data.orderNo);
    assert.deepEqual(again.json.data, first.json.data);
    // Empty or null members are absent ones, at the top level and in extra alike (as in the signature rule).
    const padded = { ...body, attach: 'retry me', notifyUrl: body.notifyUrl, returnUrl: '', extra: { ...(body.extra as Record<string, string>), bankCode: '', note: null } };
    const paddedRetry = await createPayoutV3(gw, token, padded);
    assert.equal(paddedRetry.status, 200, paddedRetry.text);
    assert.deepEqual(paddedRetry.json.data, first.json.data);
    const burst = await Promise.all(Array.from({ length: 5 }, () => createPayoutV3(gw, token, body)));
    for (const r of burst) {
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.data.orderNo, first.json.data.orderNo);
    }
    const rows = await gw.core.db.selectFrom('orders').select('order_no').where('merchant_id', '=', creds.merchantId).where('mer_order_no', '=', body.merOrderNo as string).execute();
    assert.equal(rows.length, 1);
    assert.deepEqual(await balances(), { payin: 0n, payout: start.payout - 12_345n, frozen: start.frozen + 12_345n });
    assert.deepEqual(await entryKinds(gw.core.db, first.json.data.orderNo), ['payout.freeze']);
    assert.deepEqual((await orderEvents(gw, first.json.data.orderNo)).map((e) => e.to_status), ['CREATED', 'PENDING']);
    // The query by either number answers the same order.
    for (const params of [`orderNo=${first.json.data.orderNo}`, `merOrderNo=${body.merOrderNo}`]) {
      const q = await query(params);
      assert.equal(q.status, 200, q.text);
      assert.deepEqual(q.json.data, first.json.data);
    }
  });

  test('same merOrderNo with another amount (or beneficiary) → 409, nothing moves', async () => {
    const body = payoutBody({ amount: 50 });
    const first = await createPayoutV3(gw, token, body);
    assert.equal(first.status, 200, first.text);
    const mid = await balances();
    for (const [changed, which] of [[{ amount: 51 }, 'amount'], [{ extra: { accountName: 'OTRA PERSONA', accountNo: (body.extra as { accountNo: string }).accountNo } }, 'extra']] as const) {
      const res = await createPayoutV3(gw, token, { ...body, ...changed });
      assert.equal(res.status, 409, res.text);
      assert.equal(res.json.code, 409);
      assert.equal(res.json.error, `merOrderNo ${body.merOrderNo as string} was already used with other parameters: ${which} differs`);
      assert.equal(res.json.data, undefined);
    }
    assert.deepEqual(await balances(), mid);
    assert.deepEqual(await entryKinds(gw.core.db, first.json.data.orderNo), ['payout.freeze']);
  });

  test('the same beneficiary written otherwise (a bank code\'s case or alias, a phone number\'s spacing) is the same request; another bank is 409', async () => {
    const idr = (extra: Record<string, string>, merOrderNo: string) => payoutBody({ merOrderNo, currency: 'IDR', amount: 50_000, payMethod: 'ID_DF', extra: { accountName: 'BUDI SANTOSO', ...extra } });
    const bank = newRef('po-bank');
    const first = await createPayoutV3(gw, token, idr({ accountNo: '1234567890', bankCode: 'BNI' }, bank));
    assert.equal(first.status, 200, first.text);
    const frozen = (await balances('IDR')).frozen;
    for (const bankCode of ['bni', '009', ' BNI ']) {
      const again = await createPayoutV3(gw, token, idr({ accountNo: '1234567890', bankCode }, bank));
      assert.equal(again.status, 200, `${bankCode}: ${again.text}`);
      assert.equal(again.json.data.orderNo, first.json.data.orderNo);
    }
    const other = await createPayoutV3(gw, token, idr({ accountNo: '1234567890', bankCode: 'BCA' }, bank));
    assert.equal(other.status, 409, other.text);
    assert.equal(other.json.error, `merOrderNo ${bank} was already used with other parameters: extra differs`);
    const wallet = newRef('po-wallet');
    const byPhone = await createPayoutV3(gw, token, idr({ accountNo: '0812-3456-7890', bankCode: 'DANA' }, wallet));
    assert.equal(byPhone.status, 200, byPhone.text);
    const spaced = await createPayoutV3(gw, token, idr({ accountNo: '0812 3456 7890', bankCode: 'dana' }, wallet));
    assert.equal(spaced.json.data?.orderNo, byPhone.json.data.orderNo, spaced.text);
    const method = await createPayoutV3(gw, token, payoutBody({ merOrderNo: bank }));
    assert.equal(method.status, 409, method.text);
    assert.equal((await balances('IDR')).frozen, frozen + 50_000_00n, 'the second payout alone froze more');
  });

  // merchant-api.md §3: "same parameters → 200 with the existing order". A rule the
  // operator changed after the payout was created must not turn a retry into a refusal.
  test('a retry after the operator disabled the method or lowered its maximum answers the existing order; other parameters are still 409', async () => {
    const m = await gw.merchant(['MXN']);
    const t = await gw.token(m);
    await fund(gw, m.merchantId, 100_000n);
    const body = payoutBody({ amount: 300 });
    const first = await createPayoutV3(gw, t, body);
    assert.equal(first.status, 200, first.text);
    const mid = await balancesOf(gw.core.db, m.merchantId);
    for (const changed of [{ ...DEFAULT_SETTINGS, maxAmount: 10_000n }, { ...DEFAULT_SETTINGS, enabled: false }]) {
      await saveMethodSettings(gw.core.db, gw.clock.now(), m.merchantId, 'payout', 'MX_SPEI', changed);
      gw.clock.advance(gw.core.config.appCacheTtlMs + 1); // past the cached copy of the settings
      const retry = await createPayoutV3(gw, t, body);
      assert.equal(retry.status, 200, retry.text);
      assert.deepEqual(retry.json.data, first.json.data);
      const other = await createPayoutV3(gw, t, { ...body, amount: 301 });
      assert.equal(other.status, 409, other.text);
      const fresh = await createPayoutV3(gw, t, payoutBody({ amount: 300 }));
      assert.equal(fresh.status, 422, fresh.text);
    }
    assert.equal(await countOrders(gw, m.merchantId), 1);
    assert.deepEqual(await balancesOf(gw.core.db, m.merchantId), mid);
  });

  const refusals: Array<[string, number, () => Record<string, unknown> | string, string?]> = [
    ['missing payMethod', 400, () => payoutBody({ payMethod: undefined }), /payMethod/.source],
    ['missing beneficiary (no extra)', 400, () => payoutBody({ extra: undefined }), /extra\.account/.source],
    ['missing accountName', 400, () => payoutBody({ extra: { accountNo: '002010077777777771' } }), /accountName/.source],
    ['MX_SPEI with an invalid CLABE check digit', 400, () => payoutBody({ extra: { accountName: 'JUAN PEREZ', accountNo: BAD_CLABE } }), /CLABE/.source],
    ['MX_SPEI with a bankCode that contradicts the CLABE', 400, () => payoutBody({ extra: { accountName: 'JUAN PEREZ', accountNo: '002010077777777771', bankCode: '012' } }), /bankCode/.source],
    ['ID_QRIS as a payout', 422, () => payoutBody({ currency: 'IDR', amount: 50000, payMethod: 'ID_QRIS', extra: { accountName: 'BUDI', accountNo: '1234567890', bankCode: 'BCA' } })],
    ['IN_IMPS without bankCode', 400, () => payoutBody({ currency: 'INR', payMethod: 'IN_IMPS', extra: { accountName: 'RAVI KUMAR', accountNo: '123456789012' } }), /bankCode/.source],
    ['IN_IMPS with a bankCode that is not an IFSC', 400, () => payoutBody({ currency: 'INR', payMethod: 'IN_IMPS', extra: { accountName: 'RAVI KUMAR', accountNo: '123456789012', bankCode: 'HDFC123' } }), /IFSC/.source],
    ['IN_IMPS with an IFSC whose 5th character is not 0', 400, () => payoutBody({ currency: 'INR', payMethod: 'IN_IMPS', extra: { accountName: 'RAVI KUMAR', accountNo: '123456789012', bankCode: 'HDFC1001234' } }), /IFSC/.source],
    ['a payout method of another currency', 422, () => payoutBody({ currency: 'INR', payMethod: 'MX_SPEI' })],
    ['an unknown method', 400, () => payoutBody({ payMethod: 'NOPE_PAY' })],
    ['a currency the merchant is not enabled for', 422, () => payoutBody({ currency: 'BRL', payMethod: 'BR_PIX', extra: { accountName: 'JOAO', accountNo: 'joao@example.com' } })],
    ['amount 0', 400, () => payoutBody({ amount: 0 })],
    ['a negative amount', 400, () => payoutBody({ amount: -30 })],
    ['three decimals', 400, () => payoutBody({ amount: 30.001 })],
    ['amount as text that is not a number', 400, () => payoutBody({ amount: '30,00' })],
    ['no notifyUrl', 400, () => payoutBody({ notifyUrl: undefined })],
    ['more than the payout balance', 422, () => payoutBody({ amount: 10_000_000 }), /insufficient balance/.source],
    ['invalid JSON', 400, () => '{"merOrderNo": "x", "amount": '],
  ];
  for (const [name, status, make, pattern] of refusals) {
    test(`${name} → ${status}, nothing created, nothing frozen`, async () => {
      const before = await Promise.all([countOrders(gw), balances(), balances('INR'), balances('IDR')]);
      const res = await createPayoutV3(gw, token, make());
      assert.equal(res.status, status, res.text);
      assert.equal(res.json.code, status);
      assert.equal(res.json.data, undefined);
      if (pattern) assert.match(res.json.error, new RegExp(pattern));
      assert.deepEqual(await Promise.all([countOrders(gw), balances(), balances('INR'), balances('IDR')]), before);
    });
  }

  test('IN_IMPS with a valid IFSC is accepted (the refusals above are about the IFSC)', async () => {
    const res = await createPayoutV3(gw, token, payoutBody({ currency: 'INR', amount: 1000, payMethod: 'imps', extra: { accountName: 'RAVI KUMAR', accountNo: '123456789012', bankCode: 'hdfc0001234' } }));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.data.payMethod, 'IN_IMPS');
    assert.deepEqual(await balances('INR'), { payin: 0n, payout: 1_000_000n - 100_000n, frozen: 100_000n });
  });

  test('an app with scope payin only → 403 on payout create and query; nothing created', async () => {
    const payinOnly = await createApp(gw.core.db, { box: gw.core.box, now: gw.clock.now(), actor: 'test' }, { merchantId: creds.merchantId, scopes: ['payin'] });
    const tok = await gw.token(payinOnly);
    const before = await Promise.all([countOrders(gw), balances()]);
    const body = payoutBody();
    const res = await createPayoutV3(gw, tok, body);
    assert.equal(res.status, 403, res.text);
    assert.equal(res.json.code, 403);
    assert.deepEqual(await Promise.all([countOrders(gw), balances()]), before);
    const q = await query(`merOrderNo=${body.merOrderNo}`, tok);
    assert.equal(q.status, 403, q.text);
  });

  test('no token → 401; another merchant\'s payout → 404 on query', async () => {
    const anon = await gw.call('POST', '/api/v3/payout/create', { body: JSON.stringify(payoutBody()) });
    assert.equal(anon.status, 401, anon.text);
    const mine = await createPayoutV3(gw, token, payoutBody());
    assert.equal(mine.status, 200, mine.text);
    const other = await gw.merchant(['MXN']);
    const foreign = await query(`orderNo=${mine.json.data.orderNo}`, await gw.token(other));
    assert.equal(foreign.status, 404, foreign.text);
    const unknown = await query(`merOrderNo=${newRef('none')}`);
    assert.equal(unknown.status, 404, unknown.text);
  });

  test('after all of the above the ledger is consistent', async () => {
    assert.deepEqual(await checkLedger(gw.core.db), []);
  });
});
