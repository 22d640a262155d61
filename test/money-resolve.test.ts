/**
 * Payouts whose outcome is unknown (the channel did not answer in time) keep
 * their funds frozen until an operator resolves them; resolutions apply once,
 * ask the channel first, and refuse to contradict it without `force`.
 * Split from money-integrity.test.ts (same gateway setup).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { checkLedger } from '../src/modules/ledger/ledger.check.ts';
import type { AppError } from '../src/platform/errors.ts';
import { resolveOrder } from '../src/modules/operator/resolve.service.ts';
import { expireDuePayins } from '../src/modules/payins/payin.service.ts';
import { completeDueSandboxPayouts } from '../src/modules/channels/sandbox/sandbox.bank.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { notifications, orderEvents } from './helpers/payins.ts';
import { balancesOf, createPayoutV3, entryKinds, expectedFee, fund, orderRow, payoutBody, platformOf, postSandboxReport, sandboxReport, setFee, statusOf } from './helpers/money.ts';

const FUNDS = 100_000n;
// Payout fee of these tests: 1 % + 1.00.
const BPS = 100n;
const FIXED = 100n;

describe('payouts with an unknown outcome, resolved by an operator', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({ PAGODA_CHANNEL_TIMEOUT: '300ms', PAGODA_SANDBOX_PAYOUT_DELAY: '5s' });
  });
  after(() => gw.close());

  const ledgerClean = async () => assert.deepEqual(await checkLedger(gw.core.db), []);
  const resolve = (orderNo: string, to: 'PAID' | 'FAILED' | 'REFUNDED', force = false) =>
    resolveOrder(gw.app.services.payouts, { orderNo, to, reason: `test resolves to ${to}`, actor: 'test:operator', force });

  /** A funded merchant and one payout of `amount` (major units); returns its order and total (amount + fee) in minor units. */
  async function payout(amount: number, expectStatus: string) {
    const creds = await gw.merchant(['MXN']);
    const token = await gw.token(creds);
    await setFee(gw, creds.merchantId, 'payout', 'MX_SPEI', BPS, FIXED);
    await fund(gw, creds.merchantId, FUNDS);
    const started = Date.now();
    const res = await createPayoutV3(gw, token, payoutBody({ amount }));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.data.status, expectStatus, res.text);
    const minor = BigInt(Math.round(amount * 100));
    const fee = expectedFee(minor, BPS, FIXED);
    assert.equal(res.json.data.tradeCharge * 100, Number(fee));
    return { creds, token, orderNo: res.json.data.orderNo as string, minor, fee, total: minor + fee, elapsed: Date.now() - started, data: res.json.data };
  }

  /** A new merchant's PENDING MX_SPEI pay-in of `amount` (major units). */
  async function payin(amount: number) {
    const creds = await gw.merchant(['MXN']);
    const token = await gw.token(creds);
    const res = await gw.call('POST', '/api/v3/payment/create', {
      body: JSON.stringify({ merOrderNo: `pi-${Date.now()}`, currency: 'MXN', amount, payMethod: 'MX_SPEI', notifyUrl: 'https://merchant.example/n' }),
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 200, res.text);
    return { creds, token, orderNo: res.json.data.orderNo as string };
  }

  test('a channel that does not answer: EXCEPTION with a message, funds frozen, no bank record', async () => {
    const p = await payout(200.98, 'EXCEPTION');
    assert.ok(p.elapsed >= 250, `answered after ${p.elapsed} ms: the channel deadline was not waited for`);
    assert.equal(typeof p.data.message, 'string');
    assert.deepEqual(await balancesOf(gw.core.db, p.creds.merchantId), { payin: 0n, payout: FUNDS - p.total, frozen: p.total });
    assert.deepEqual(await entryKinds(gw.core.db, p.orderNo), ['payout.freeze']);
    assert.deepEqual((await notifications(gw, p.orderNo)).map((n) => n.status), ['EXCEPTION']);
    assert.equal((await gw.core.db.selectFrom('sandbox_bank').select('order_no').where('order_no', '=', p.orderNo).execute()).length, 0);
    // The recovery job does not touch an EXCEPTION; automatic sandbox completion neither.
    gw.clock.advance(60_000);
    await completeDueSandboxPayouts(gw.app.services.sandbox);
    assert.equal((await orderRow(gw.core.db, p.orderNo)).status, 'EXCEPTION');
    await ledgerClean();
  });

  test('two concurrent resolutions to FAILED: one applies, the other changes nothing; funds released exactly once', async () => {
    const p = await payout(200.98, 'EXCEPTION');
    const platform = await platformOf(gw.core.db);
    const outcomes = await Promise.allSettled([resolve(p.orderNo, 'FAILED'), resolve(p.orderNo, 'FAILED')]);
    const kinds = outcomes.map((o) => (o.status === 'fulfilled' ? o.value.result.kind : `rejected ${(o.reason as { status?: number }).status}`));
    assert.equal(kinds.filter((k) => k === 'applied').length, 1, kinds.join());
    for (const k of kinds.filter((k) => k !== 'applied')) assert.ok(k === 'noop' || /rejected (409|422)/.test(k), k);
    assert.equal((await orderRow(gw.core.db, p.orderNo)).status, 'FAILED');
    assert.deepEqual(await balancesOf(gw.core.db, p.creds.merchantId), { payin: 0n, payout: FUNDS, frozen: 0n });
    assert.deepEqual(await platformOf(gw.core.db), platform, 'a release moves no platform money');
    const query = await gw.call('GET', `/api/v3/payout/query?orderNo=${p.orderNo}`, { headers: { authorization: `Bearer ${p.token}` } });
    assert.deepEqual([query.json.data.status, query.json.data.tradeCharge], ['FAILED', 0], 'the fee was released with the amount: nothing was charged');
    assert.deepEqual(await entryKinds(gw.core.db, p.orderNo), ['payout.freeze', 'payout.released']);
    assert.deepEqual((await notifications(gw, p.orderNo)).map((n) => n.status), ['EXCEPTION', 'FAILED']);
    assert.deepEqual((await orderEvents(gw, p.orderNo)).map((e) => [e.to_status, e.actor]), [
      ['CREATED', `merchant:${p.creds.appId}`],
      ['EXCEPTION', 'channel:sandbox'],
      ['FAILED', 'test:operator'],
    ]);
    const audits = await gw.core.db.selectFrom('audit_log').selectAll().where('subject', '=', p.orderNo).execute();
    assert.equal(audits.length, 1, 'one audit entry for the one applied resolution');
    // A third resolution, later: still nothing.
    assert.equal((await resolve(p.orderNo, 'FAILED')).result.kind, 'noop');
    assert.deepEqual(await balancesOf(gw.core.db, p.creds.merchantId), { payin: 0n, payout: FUNDS, frozen: 0n });
    await ledgerClean();
  });

  test('the bank says FAILED (its callback was lost): resolving to PAID is refused with 409 without force, applied with it', async () => {
    const p = await payout(120.98, 'EXCEPTION');
    // The bank's own record of the order (what a query of the channel answers).
    await gw.core.db.insertInto('sandbox_bank').values({ order_no: p.orderNo, direction: 'payout', status: 'FAILED', amount: p.minor, paid_amount: null, event_id: null, due_at: null, updated_at: gw.clock.now() }).execute();
    assert.equal(await statusOf(() => resolve(p.orderNo, 'PAID')), 409);
    assert.equal((await orderRow(gw.core.db, p.orderNo)).status, 'EXCEPTION');
    assert.deepEqual(await balancesOf(gw.core.db, p.creds.merchantId), { payin: 0n, payout: FUNDS - p.total, frozen: p.total });
    assert.deepEqual(await entryKinds(gw.core.db, p.orderNo), ['payout.freeze']);

    const platform = await platformOf(gw.core.db);
    const forced = await resolve(p.orderNo, 'PAID', true);
    assert.equal(forced.result.kind, 'applied');
    assert.match(forced.channel, /FAILED/);
    const row = await orderRow(gw.core.db, p.orderNo);
    assert.deepEqual([row.status, row.paid_amount], ['PAID', p.minor]);
    assert.deepEqual(await balancesOf(gw.core.db, p.creds.merchantId), { payin: 0n, payout: FUNDS - p.total, frozen: 0n });
    const after = await platformOf(gw.core.db);
    assert.equal(after.fees - platform.fees, p.fee);
    assert.equal(after.clearing - platform.clearing, p.minor);
    assert.deepEqual(await entryKinds(gw.core.db, p.orderNo), ['payout.freeze', 'payout.paid']);
    assert.deepEqual((await notifications(gw, p.orderNo)).map((n) => n.status), ['EXCEPTION', 'PAID']);
    await ledgerClean();
  });

  test('the bank says PAID: releasing the funds (FAILED) is refused with 409; PAID, as the bank says, needs no force', async () => {
    const p = await payout(75.98, 'EXCEPTION');
    await gw.core.db.insertInto('sandbox_bank').values({ order_no: p.orderNo, direction: 'payout', status: 'PAID', amount: p.minor, paid_amount: p.minor, event_id: null, due_at: null, updated_at: gw.clock.now() }).execute();
    assert.equal(await statusOf(() => resolve(p.orderNo, 'FAILED')), 409);
    assert.deepEqual(await balancesOf(gw.core.db, p.creds.merchantId), { payin: 0n, payout: FUNDS - p.total, frozen: p.total });
    assert.equal((await resolve(p.orderNo, 'PAID')).result.kind, 'applied');
    assert.deepEqual(await balancesOf(gw.core.db, p.creds.merchantId), { payin: 0n, payout: FUNDS - p.total, frozen: 0n });
    // Once PAID, a resolution to FAILED is refused by the state machine (422): nothing is released.
    assert.equal(await statusOf(() => resolve(p.orderNo, 'FAILED')), 422);
    assert.deepEqual(await balancesOf(gw.core.db, p.creds.merchantId), { payin: 0n, payout: FUNDS - p.total, frozen: 0n });
    assert.deepEqual(await entryKinds(gw.core.db, p.orderNo), ['payout.freeze', 'payout.paid']);
    await ledgerClean();
  });

  test('the bank never got the payout (no answer at submission): PAID is refused with 409 without force; FAILED needs none', async () => {
    const p = await payout(64.98, 'EXCEPTION');
    await assert.rejects(resolve(p.orderNo, 'PAID'), (err: Error & { status?: number; detail?: string }) => {
      assert.equal(err.status, 409);
      assert.equal(err.detail, 'the channel never received the order; resolve to FAILED, or pass --force to override it');
      return true;
    });
    assert.deepEqual(await balancesOf(gw.core.db, p.creds.merchantId), { payin: 0n, payout: FUNDS - p.total, frozen: p.total });
    const failed = await resolve(p.orderNo, 'FAILED');
    assert.deepEqual([failed.result.kind, failed.channel], ['applied', 'never received the order']);
    assert.deepEqual(await balancesOf(gw.core.db, p.creds.merchantId), { payin: 0n, payout: FUNDS, frozen: 0n });
    await ledgerClean();
  });

  test('money that arrived after a pay-in expired: REFUNDED agrees with the bank\'s PAID (no force); FAILED contradicts it (409)', async () => {
    const { creds, token, orderNo } = await payin(80.05);
    gw.clock.advance(gw.config.orderTtlMs + 1);
    await expireDuePayins(gw.app.services.payins);
    const late = await gw.call('POST', `/sandbox/v1/payins/${orderNo}/complete`, { body: '{"outcome":"PAID"}', headers: { authorization: `Bearer ${token}` } });
    assert.equal(late.json.data.status, 'EXCEPTION', late.text);
    assert.equal(await statusOf(() => resolve(orderNo, 'FAILED')), 409);
    const refunded = await resolve(orderNo, 'REFUNDED');
    assert.deepEqual([refunded.result.kind, refunded.channel], ['applied', 'PAID']);
    assert.deepEqual(await balancesOf(gw.core.db, creds.merchantId), { payin: 0n, payout: 0n, frozen: 0n }, 'nothing was credited, so nothing is debited');
    await ledgerClean();
  });

  test('a pay-in the channel reports as an exception with money in it keeps that amount; resolved to PAID it credits what arrived', async () => {
    const { creds, token, orderNo } = await payin(80.05);
    const report = await gw.call('POST', `/sandbox/v1/payins/${orderNo}/complete`, { body: '{"outcome":"EXCEPTION","paidAmount":5}', headers: { authorization: `Bearer ${token}` } });
    assert.equal(report.json.data.status, 'EXCEPTION', report.text);
    const held = await orderRow(gw.core.db, orderNo);
    assert.equal(held.paid_amount, 500n);
    assert.match(held.message ?? '', /5 MXN arrived/);
    assert.equal((await resolve(orderNo, 'PAID')).result.kind, 'applied');
    const paid = await orderRow(gw.core.db, orderNo);
    assert.equal(paid.paid_amount, 500n, 'credited with what arrived, not the order amount');
    assert.deepEqual(await balancesOf(gw.core.db, creds.merchantId), { payin: 500n - paid.fee, payout: 0n, frozen: 0n });
    await ledgerClean();
  });

  test('an operator who knows what arrived resolves a pay-in to PAID with that amount; it is refused anywhere else', async () => {
    const { creds, token, orderNo } = await payin(80.05);
    await gw.call('POST', `/sandbox/v1/payins/${orderNo}/complete`, { body: '{"outcome":"EXCEPTION"}', headers: { authorization: `Bearer ${token}` } });
    const refused = (paidAmount: string, to: 'PAID' | 'FAILED' = 'PAID') =>
      assert.rejects(resolveOrder(gw.app.services.payouts, { orderNo, to, reason: 'bank statement', actor: 'test:operator', paidAmount }), (err: AppError) => err.status === 400 && /paid-amount/.test(err.detail ?? ''));
    await refused('0');
    await refused('12.345');
    await refused('-5');
    await refused('12.34', 'FAILED');
    assert.equal((await orderRow(gw.core.db, orderNo)).status, 'EXCEPTION', 'nothing changed');
    const done = await resolveOrder(gw.app.services.payouts, { orderNo, to: 'PAID', reason: 'bank statement', actor: 'test:operator', paidAmount: '12.34' });
    assert.equal(done.result.kind, 'applied');
    const paid = await orderRow(gw.core.db, orderNo);
    assert.equal(paid.paid_amount, 1_234n);
    assert.deepEqual(await balancesOf(gw.core.db, creds.merchantId), { payin: 1_234n - paid.fee, payout: 0n, frozen: 0n });
    // The same again changes nothing; again with another amount is refused (409), never a silent success.
    const again = await resolveOrder(gw.app.services.payouts, { orderNo, to: 'PAID', reason: 'bank statement', actor: 'test:operator', paidAmount: '12.34' });
    assert.equal(again.result.kind, 'noop');
    await assert.rejects(
      resolveOrder(gw.app.services.payouts, { orderNo, to: 'PAID', reason: 'bank statement', actor: 'test:operator', paidAmount: '12.35' }),
      (err: AppError) => err.status === 409 && err.detail === `order ${orderNo} is already PAID with 12.34 MXN paid; it stays so`,
    );
    assert.equal((await orderRow(gw.core.db, orderNo)).paid_amount, 1_234n);
    await ledgerClean();
  });

  test('an EXCEPTION payout cannot be resolved to REFUNDED (422); funds stay frozen', async () => {
    const p = await payout(33.98, 'EXCEPTION');
    assert.equal(await statusOf(() => resolve(p.orderNo, 'REFUNDED')), 422);
    assert.deepEqual(await balancesOf(gw.core.db, p.creds.merchantId), { payin: 0n, payout: FUNDS - p.total, frozen: p.total });
    assert.equal((await orderRow(gw.core.db, p.orderNo)).status, 'EXCEPTION');
    await ledgerClean();
  });

  test('an operator resolution racing the bank\'s PAID report: the funds are settled exactly once', async () => {
    for (let i = 0; i < 4; i++) {
      const p = await payout(48.98, 'EXCEPTION');
      const report = sandboxReport(gw, { orderNo: p.orderNo, outcome: 'PAID', paidAmountMinor: String(p.minor) });
      await Promise.all([statusOf(() => resolve(p.orderNo, 'FAILED')), postSandboxReport(gw, report)]);
      const status = (await orderRow(gw.core.db, p.orderNo)).status;
      const kinds = await entryKinds(gw.core.db, p.orderNo);
      assert.ok(status === 'PAID' || status === 'FAILED', status);
      assert.deepEqual(kinds, ['payout.freeze', status === 'PAID' ? 'payout.paid' : 'payout.released']);
      assert.deepEqual(await balancesOf(gw.core.db, p.creds.merchantId), { payin: 0n, payout: status === 'PAID' ? FUNDS - p.total : FUNDS, frozen: 0n });
    }
    await ledgerClean();
  });

  // An operator settles EXCEPTION orders only (and refunds PAID ones). Were any
  // transition the state machine allows accepted, a PENDING payout (the bank has
  // it and will pay it) resolved to FAILED would release its funds without asking
  // the channel; the bank's PAID would then be refused and the money leave twice.
  test('a PENDING payout (the bank holds it) cannot be resolved to FAILED: its funds stay frozen until the bank answers', async () => {
    const p = await payout(64.5, 'PENDING');
    const outcome = await statusOf(() => resolve(p.orderNo, 'FAILED'));
    // Then the bank pays it, as it was going to.
    gw.clock.advance(5_001);
    await completeDueSandboxPayouts(gw.app.services.sandbox);
    const bank = await gw.core.db.selectFrom('sandbox_bank').select('status').where('order_no', '=', p.orderNo).executeTakeFirstOrThrow();
    assert.equal(bank.status, 'PAID');
    // The money left the bank once: the merchant must have paid for it.
    assert.deepEqual(
      await balancesOf(gw.core.db, p.creds.merchantId),
      { payin: 0n, payout: FUNDS - p.total, frozen: 0n },
      `the resolution of a PENDING payout answered ${outcome} and released funds the bank then paid out`,
    );
    assert.equal((await orderRow(gw.core.db, p.orderNo)).status, 'PAID');
    await ledgerClean();
  });

  test('a paid payout is credited back (REFUNDED) only when its bank reports the money returned, or with force', async () => {
    const paidPayout = async (amount: number) => {
      const p = await payout(amount, 'PENDING');
      gw.clock.advance(5_001);
      await completeDueSandboxPayouts(gw.app.services.sandbox);
      assert.equal((await orderRow(gw.core.db, p.orderNo)).status, 'PAID');
      return p;
    };
    const paidOut = (p: { total: bigint }) => ({ payin: 0n, payout: FUNDS - p.total, frozen: 0n });
    // The bank still says PAID: the beneficiary has the money, the merchant gets nothing back.
    const kept = await paidPayout(41.5);
    await assert.rejects(resolve(kept.orderNo, 'REFUNDED'), (err: AppError) => err.status === 409 && /the channel reports PAID; it stays as it is, or pass --force/.test(err.detail ?? ''));
    assert.deepEqual(await balancesOf(gw.core.db, kept.creds.merchantId), paidOut(kept));
    // The bank returned it but its report was lost: the resolution agrees, no force needed.
    const returned = await paidPayout(42.5);
    await gw.core.db.updateTable('sandbox_bank').set({ status: 'REFUNDED' }).where('order_no', '=', returned.orderNo).execute();
    const agreed = await resolve(returned.orderNo, 'REFUNDED');
    assert.deepEqual([agreed.result.kind, agreed.channel], ['applied', 'REFUNDED']);
    assert.deepEqual(await balancesOf(gw.core.db, returned.creds.merchantId), { payin: 0n, payout: FUNDS, frozen: 0n });
    // The operator knows better than the channel: force.
    const forced = await resolve(kept.orderNo, 'REFUNDED', true);
    assert.deepEqual([forced.result.kind, forced.channel], ['applied', 'PAID']);
    assert.deepEqual(await balancesOf(gw.core.db, kept.creds.merchantId), { payin: 0n, payout: FUNDS, frozen: 0n });
    assert.deepEqual(await entryKinds(gw.core.db, kept.orderNo), ['payout.freeze', 'payout.paid', 'payout.returned']);
    await ledgerClean();
  });

  // The pay-in side: a PENDING pay-in (nothing arrived) resolved to PAID would
  // credit the merchant with money the platform never received.
  test('a PENDING pay-in cannot be resolved to PAID: nothing is credited before money arrives', async () => {
    const { creds, orderNo } = await payin(500);
    const outcome = await statusOf(() => resolve(orderNo, 'PAID'));
    // The bank then reports that the consumer never paid.
    await postSandboxReport(gw, sandboxReport(gw, { orderNo, outcome: 'FAILED' }));
    assert.deepEqual(
      await balancesOf(gw.core.db, creds.merchantId),
      { payin: 0n, payout: 0n, frozen: 0n },
      `the resolution of a PENDING pay-in answered ${outcome} and credited money that never arrived`,
    );
    await ledgerClean();
  });
});
