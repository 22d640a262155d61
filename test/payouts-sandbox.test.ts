/**
 * Sandbox payouts complete by themselves after the configured delay
 * (operator-interface.md "Sandbox channel"): minor units ending in 13 fail
 * (funds back), 14 become EXCEPTION (funds stay frozen), anything else is paid
 * (frozen consumed, the fee to the platform). A PAID payout the bank returns is
 * credited back. Every final state writes a notification.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { completeDueSandboxPayouts } from '../src/modules/channels/sandbox/sandbox.bank.ts';
import { checkLedger } from '../src/modules/ledger/ledger.check.ts';
import type { Credentials } from '../src/modules/merchants/merchant.service.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { bearer, notifications, orderEvents } from './helpers/payins.ts';
import { balancesOf, createPayoutV3, entryKinds, expectedFee, fund, orderRow, payoutBody, platformOf, setFee } from './helpers/money.ts';

const BPS = 50n; // 0.5 %
const FIXED = 200n; // + 2.00
const FUNDS = 1_000_000n;

describe('sandbox payouts: automatic completion, magic amounts, returns', () => {
  let gw: TestGateway;
  let creds: Credentials;
  let token: string;
  before(async () => {
    gw = await startGateway({ PAGODA_SANDBOX_PAYOUT_DELAY: '1s' });
    creds = await gw.merchant(['MXN']);
    token = await gw.token(creds);
    await setFee(gw, creds.merchantId, 'payout', 'MX_SPEI', BPS, FIXED);
  });
  after(() => gw.close());

  const complete = (orderNo: string, outcome: string, tok = token) =>
    gw.call('POST', `/sandbox/v1/payouts/${orderNo}/complete`, { body: JSON.stringify({ outcome }), headers: bearer(tok) });

  async function create(amount: number) {
    const res = await createPayoutV3(gw, token, payoutBody({ amount }));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.data.status, 'PENDING', res.text);
    const minor = BigInt(Math.round(amount * 100));
    const fee = expectedFee(minor, BPS, FIXED);
    return { orderNo: res.json.data.orderNo as string, minor, fee, total: minor + fee };
  }

  test('13 → FAILED (funds back), 14 → EXCEPTION (funds frozen), others → PAID (frozen consumed, fee to the platform); then a return', async () => {
    await fund(gw, creds.merchantId, FUNDS);
    const platform0 = await platformOf(gw.core.db);
    const failing = await create(100.13);
    const odd = await create(100.14);
    const paid = await create(250.55);
    const paid2 = await create(100);
    const all = [failing, odd, paid, paid2];
    const frozenAll = all.reduce((s, p) => s + p.total, 0n);
    assert.deepEqual(await balancesOf(gw.core.db, creds.merchantId), { payin: 0n, payout: FUNDS - frozenAll, frozen: frozenAll });

    // Not due yet: nothing happens, even just before the delay.
    assert.equal(await completeDueSandboxPayouts(gw.app.services.sandbox), 0);
    gw.clock.advance(999);
    assert.equal(await completeDueSandboxPayouts(gw.app.services.sandbox), 0);
    for (const p of all) assert.equal((await orderRow(gw.core.db, p.orderNo)).status, 'PENDING');

    gw.clock.advance(1);
    assert.equal(await completeDueSandboxPayouts(gw.app.services.sandbox), 4);
    // A second pass finds nothing left: nothing is settled twice.
    assert.equal(await completeDueSandboxPayouts(gw.app.services.sandbox), 0);

    const statuses = await Promise.all(all.map(async (p) => (await orderRow(gw.core.db, p.orderNo)).status));
    assert.deepEqual(statuses, ['FAILED', 'EXCEPTION', 'PAID', 'PAID']);
    const stillFrozen = odd.total;
    const spent = paid.total + paid2.total;
    assert.deepEqual(await balancesOf(gw.core.db, creds.merchantId), { payin: 0n, payout: FUNDS - stillFrozen - spent, frozen: stillFrozen });
    const platform1 = await platformOf(gw.core.db);
    assert.equal(platform1.fees - platform0.fees, paid.fee + paid2.fee);
    assert.equal(platform1.clearing - platform0.clearing, paid.minor + paid2.minor);
    assert.deepEqual(await entryKinds(gw.core.db, failing.orderNo), ['payout.freeze', 'payout.released']);
    assert.deepEqual(await entryKinds(gw.core.db, odd.orderNo), ['payout.freeze']);
    assert.deepEqual(await entryKinds(gw.core.db, paid.orderNo), ['payout.freeze', 'payout.paid']);
    const failedRow = await orderRow(gw.core.db, failing.orderNo);
    assert.ok(failedRow.message && failedRow.message.length > 0, 'a FAILED payout carries a message');
    const paidRow = await orderRow(gw.core.db, paid.orderNo);
    assert.deepEqual([paidRow.paid_amount, paidRow.fee], [paid.minor, paid.fee]);
    assert.deepEqual((await notifications(gw, failing.orderNo)).map((n) => n.status), ['FAILED']);
    assert.deepEqual((await notifications(gw, odd.orderNo)).map((n) => n.status), ['EXCEPTION']);
    assert.deepEqual((await notifications(gw, paid.orderNo)).map((n) => n.status), ['PAID']);
    assert.deepEqual((await notifications(gw, paid2.orderNo)).map((n) => n.status), ['PAID']);
    assert.deepEqual(await checkLedger(gw.core.db), []);

    // The bank returns a paid payout: amount and fee go back to the merchant's payout balance.
    gw.clock.advance(10_000);
    const ret = await complete(paid.orderNo, 'REFUNDED');
    assert.equal(ret.status, 200, ret.text);
    assert.equal(ret.json.data.status, 'REFUNDED');
    assert.ok(paid.fee > 0n);
    assert.equal(ret.json.data.tradeCharge, 0, 'the fee went back with the amount');
    assert.deepEqual(await balancesOf(gw.core.db, creds.merchantId), { payin: 0n, payout: FUNDS - stillFrozen - paid2.total, frozen: stillFrozen });
    const platform2 = await platformOf(gw.core.db);
    assert.equal(platform2.fees - platform0.fees, paid2.fee);
    assert.equal(platform2.clearing - platform0.clearing, paid2.minor);
    assert.deepEqual(await entryKinds(gw.core.db, paid.orderNo), ['payout.freeze', 'payout.paid', 'payout.returned']);
    assert.deepEqual((await notifications(gw, paid.orderNo)).map((n) => n.status), ['PAID', 'REFUNDED']);
    assert.deepEqual((await orderEvents(gw, paid.orderNo)).map((e) => e.to_status), ['CREATED', 'PENDING', 'PAID', 'REFUNDED']);
    // A second return of the same payout moves nothing.
    const again = await complete(paid.orderNo, 'REFUNDED');
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(await entryKinds(gw.core.db, paid.orderNo), ['payout.freeze', 'payout.paid', 'payout.returned']);
    assert.deepEqual(await balancesOf(gw.core.db, creds.merchantId), { payin: 0n, payout: FUNDS - stillFrozen - paid2.total, frozen: stillFrozen });

    // The EXCEPTION is settled by the bank's FAILED: its funds come back once.
    const settle = await complete(odd.orderNo, 'FAILED');
    assert.equal(settle.status, 200, settle.text);
    assert.equal(settle.json.data.status, 'FAILED');
    assert.equal(settle.json.data.tradeCharge, 0, 'a released payout charged no fee');
    assert.deepEqual(await balancesOf(gw.core.db, creds.merchantId), { payin: 0n, payout: FUNDS - paid2.total, frozen: 0n });
    assert.deepEqual((await notifications(gw, odd.orderNo)).map((n) => n.status), ['EXCEPTION', 'FAILED']);
    assert.deepEqual(await checkLedger(gw.core.db), []);
  });

  test('a completion cut short after the bank took the payout (a crash, an error) is done again once its claim ends: no payout stays PENDING with its funds frozen', async () => {
    await fund(gw, creds.merchantId, FUNDS);
    const p = await create(321.5);
    gw.clock.advance(1_001);
    const bank = gw.app.services.sandbox;
    // The first attempt stops between the bank's claim and its report reaching the gateway.
    const cut = { ...bank, report: () => Promise.reject(new Error('the process stopped here')) };
    await assert.rejects(completeDueSandboxPayouts(cut), /the process stopped here/);
    assert.equal((await orderRow(gw.core.db, p.orderNo)).status, 'PENDING');
    assert.equal(await completeDueSandboxPayouts(bank), 0, 'claimed: no second report beside the first');
    gw.clock.advance(30_001);
    assert.equal(await completeDueSandboxPayouts(bank), 1);
    assert.equal((await orderRow(gw.core.db, p.orderNo)).status, 'PAID');
    const record = await gw.core.db.selectFrom('sandbox_bank').select(['status', 'due_at']).where('order_no', '=', p.orderNo).executeTakeFirstOrThrow();
    assert.deepEqual([record.status, record.due_at], ['PAID', null]);
    const { frozen } = await balancesOf(gw.core.db, creds.merchantId);
    assert.equal(frozen, 0n, 'nothing left frozen');
  });

  test('refused transitions move nothing: REFUNDED of a PENDING payout, PAID after FAILED, FAILED after PAID', async () => {
    await fund(gw, creds.merchantId, 100_000n);
    const pending = await create(40);
    const start = await balancesOf(gw.core.db, creds.merchantId);
    const early = await complete(pending.orderNo, 'REFUNDED');
    assert.equal(early.status, 422, early.text);
    assert.equal(early.json.error, 'outcome: the sandbox bank never paid this order');
    assert.equal((await orderRow(gw.core.db, pending.orderNo)).status, 'PENDING');
    assert.deepEqual(await balancesOf(gw.core.db, creds.merchantId), start);

    const failed = await create(41);
    assert.equal((await complete(failed.orderNo, 'FAILED')).json.data.status, 'FAILED');
    const afterFail = await balancesOf(gw.core.db, creds.merchantId);
    const paidAfterFail = await complete(failed.orderNo, 'PAID');
    assert.equal(paidAfterFail.status, 422, paidAfterFail.text);
    assert.equal(paidAfterFail.json.error, 'outcome: the sandbox bank already reported FAILED for this order');
    assert.equal((await orderRow(gw.core.db, failed.orderNo)).status, 'FAILED');
    assert.deepEqual(await balancesOf(gw.core.db, creds.merchantId), afterFail);

    const paid = await create(42);
    assert.equal((await complete(paid.orderNo, 'PAID')).json.data.status, 'PAID');
    const afterPaid = await balancesOf(gw.core.db, creds.merchantId);
    for (const outcome of ['FAILED', 'EXCEPTION']) assert.equal((await complete(paid.orderNo, outcome)).status, 422);
    assert.equal((await orderRow(gw.core.db, paid.orderNo)).status, 'PAID');
    assert.deepEqual(await balancesOf(gw.core.db, creds.merchantId), afterPaid);
    assert.deepEqual(await entryKinds(gw.core.db, paid.orderNo), ['payout.freeze', 'payout.paid']);
    assert.deepEqual(await checkLedger(gw.core.db), []);
  });

  test('sandbox complete: unknown outcome → 400, another merchant → 404, nothing moves', async () => {
    await fund(gw, creds.merchantId, 10_000n);
    const p = await create(20);
    const start = await balancesOf(gw.core.db, creds.merchantId);
    assert.equal((await complete(p.orderNo, 'MAYBE')).status, 400);
    const other = await gw.merchant(['MXN']);
    assert.equal((await complete(p.orderNo, 'FAILED', await gw.token(other))).status, 404);
    assert.equal((await orderRow(gw.core.db, p.orderNo)).status, 'PENDING');
    assert.deepEqual(await balancesOf(gw.core.db, creds.merchantId), start);
  });
});
