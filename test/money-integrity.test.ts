/**
 * Money integrity under concurrency, against a real gateway (TLS, SQLite or
 * PostgreSQL per PAGODA_TEST_DB): concurrent payout creates against a balance
 * that covers only some of them, a pay-in success reported many times at once,
 * concurrent operator resolutions of a payout whose outcome is unknown.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { checkLedger } from '../src/modules/ledger/ledger.check.ts';
import { adjust, transfer } from '../src/modules/ledger/ledger.service.ts';
import { completeDueSandboxPayouts } from '../src/modules/channels/sandbox/sandbox.bank.ts';
import { expireDuePayins } from '../src/modules/payins/payin.service.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { createV3, notifications, orderEvents, payinBody } from './helpers/payins.ts';
import {
  balancesOf,
  move,
  statusOf,
  countRows,
  createPayoutV3,
  entryKinds,
  expectedFee,
  fund,
  negativeAccounts,
  orderRow,
  payoutBody,
  platformOf,
  postSandboxReport,
  receivableOf,
  sandboxReport,
  setFee,
} from './helpers/money.ts';

describe('money integrity under concurrency', () => {
  let gw: TestGateway;
  before(async () => {
    // No test here waits for the channel's deadline; 50 payouts submitted at once on a
    // busy machine must not reach it either (they would become EXCEPTION, not PENDING).
    gw = await startGateway({ PAGODA_CHANNEL_TIMEOUT: '10s', PAGODA_SANDBOX_PAYOUT_DELAY: '5s' });
  });
  after(() => gw.close());

  async function merchant() {
    const creds = await gw.merchant(['MXN']);
    return { creds, token: await gw.token(creds) };
  }
  const ledgerClean = async () => assert.deepEqual(await checkLedger(gw.core.db), []);

  for (const { name, feeFixed, remaining } of [
    { name: 'no fee', feeFixed: 0n, remaining: 1000n },
    { name: 'a fixed fee of 0.30 (30.30 frozen each)', feeFixed: 30n, remaining: 10n },
  ]) {
    test(`50 concurrent payouts of 30.00 against 1,000.00 (${name}): 33 accepted, 17 refused with 422 and nothing created`, async () => {
      const { creds, token } = await merchant();
      if (feeFixed > 0n) await setFee(gw, creds.merchantId, 'payout', 'MX_SPEI', 0n, feeFixed);
      await fund(gw, creds.merchantId, 100_000n);
      const answers = await Promise.all(Array.from({ length: 50 }, () => createPayoutV3(gw, token, payoutBody({ amount: 30 }))));
      const accepted = answers.filter((r) => r.status === 200);
      const refused = answers.filter((r) => r.status !== 200);
      assert.equal(accepted.length, 33, answers.map((r) => `${r.status} ${r.json.error ?? ''}`).join('\n'));
      assert.equal(refused.length, 17);
      for (const r of refused) {
        assert.equal(r.status, 422, r.text);
        assert.equal(r.json.code, 422);
        assert.equal(r.json.data, undefined);
        assert.match(r.json.error, /insufficient balance/);
      }
      for (const r of accepted) assert.equal(r.json.data.status, 'PENDING', r.text);
      assert.equal(new Set(accepted.map((r) => r.json.data.orderNo)).size, 33);

      const where = { column: 'merchant_id' as const, value: creds.merchantId };
      assert.equal(await countRows(gw.core.db, 'orders', where), 33, 'a refused create left an order row');
      const total = 3000n + feeFixed;
      assert.deepEqual(await balancesOf(gw.core.db, creds.merchantId), { payin: 0n, payout: 100_000n - 33n * total, frozen: 33n * total });
      assert.equal(100_000n - 33n * total, remaining);
      const orderNos = accepted.map((r) => r.json.data.orderNo as string);
      const freezes = await gw.core.db.selectFrom('journal_entries').select('order_no').where('kind', '=', 'payout.freeze').where('order_no', 'in', orderNos).execute();
      assert.equal(freezes.length, 33);
      // Nothing of a refused create survived: no history, no bank submission.
      const events = await gw.core.db.selectFrom('order_events').select('order_no').where('order_no', 'in', orderNos).execute();
      assert.equal(events.length, 66);
      assert.equal((await gw.core.db.selectFrom('sandbox_bank').select('order_no').where('order_no', 'in', orderNos).execute()).length, 33);
      await ledgerClean();
      assert.deepEqual(await negativeAccounts(gw.core.db), []);

      // The bank pays all of them: frozen consumed, the rest untouched.
      const platform = await platformOf(gw.core.db);
      gw.clock.advance(5_001);
      await completeDueSandboxPayouts(gw.app.services.sandbox, 1000);
      for (const orderNo of orderNos) assert.equal((await orderRow(gw.core.db, orderNo)).status, 'PAID');
      assert.deepEqual(await balancesOf(gw.core.db, creds.merchantId), { payin: 0n, payout: remaining, frozen: 0n });
      const after = await platformOf(gw.core.db);
      assert.equal(after.fees - platform.fees, 33n * feeFixed);
      assert.equal(after.clearing - platform.clearing, 33n * 3000n);
      await ledgerClean();
    });
  }

  async function payin(token: string, amount = 1250.5) {
    const res = await createV3(gw, token, payinBody({ amount }));
    assert.equal(res.status, 200, res.text);
    return res.json.data.orderNo as string;
  }

  test('the same PAID report 5 times at once (same event id): credited once, one payin.paid entry, one PAID notification', async () => {
    const { creds, token } = await merchant();
    await setFee(gw, creds.merchantId, 'payin', 'MX_SPEI', 250n, 300n);
    const orderNo = await payin(token);
    const report = sandboxReport(gw, { orderNo, outcome: 'PAID', paidAmountMinor: '100000' });
    const answers = await Promise.all(Array.from({ length: 5 }, () => postSandboxReport(gw, report)));
    for (const r of answers) assert.equal(r.status, 200, r.text);
    assert.deepEqual(answers.map((r) => r.json.data.result).sort(), ['applied', 'noop', 'noop', 'noop', 'noop']);
    const fee = expectedFee(100_000n, 250n, 300n);
    assert.equal(fee, 2_800n);
    assert.deepEqual(await balancesOf(gw.core.db, creds.merchantId), { payin: 100_000n - fee, payout: 0n, frozen: 0n });
    const row = await orderRow(gw.core.db, orderNo);
    assert.deepEqual([row.status, row.paid_amount, row.fee], ['PAID', 100_000n, fee]);
    assert.deepEqual(await entryKinds(gw.core.db, orderNo), ['payin.paid']);
    assert.deepEqual((await notifications(gw, orderNo)).map((n) => n.status), ['PAID']);
    assert.equal((await orderEvents(gw, orderNo)).filter((e) => e.to_status === 'PAID').length, 1);
    await ledgerClean();
  });

  test('5 PAID reports with different event ids at once: credited once, one payin.paid entry, one PAID notification', async () => {
    const { creds, token } = await merchant();
    await setFee(gw, creds.merchantId, 'payin', 'MX_SPEI', 250n, 300n);
    const orderNo = await payin(token, 500);
    const reports = Array.from({ length: 5 }, () => sandboxReport(gw, { orderNo, outcome: 'PAID', paidAmountMinor: '50000' }));
    const answers = await Promise.all(reports.map((r) => postSandboxReport(gw, r)));
    for (const r of answers) assert.equal(r.status, 200, r.text);
    assert.deepEqual(answers.map((r) => r.json.data.result).sort(), ['applied', 'noop', 'noop', 'noop', 'noop']);
    const fee = expectedFee(50_000n, 250n, 300n);
    assert.deepEqual(await balancesOf(gw.core.db, creds.merchantId), { payin: 50_000n - fee, payout: 0n, frozen: 0n });
    assert.deepEqual(await entryKinds(gw.core.db, orderNo), ['payin.paid']);
    assert.deepEqual((await notifications(gw, orderNo)).map((n) => n.status), ['PAID']);
    // Every report is remembered (a resend of any of them changes nothing).
    assert.equal((await gw.core.db.selectFrom('channel_events').select('event_id').where('order_no', '=', orderNo).execute()).length, 5);
    await ledgerClean();
  });

  test('payout creates racing operator debits of the same balance: never below zero, every accepted debit accounted for', async () => {
    const { creds, token } = await merchant();
    await fund(gw, creds.merchantId, 50_000n);
    const debit = () => statusOf(() => fund(gw, creds.merchantId, -4_000n));
    const moveOut = () =>
      statusOf(() => gw.core.db.transaction().execute((tx) => transfer(tx, { now: gw.clock.now(), actor: 'test' }, { merchantId: creds.merchantId, currency: 'MXN', from: 'payout', to: 'payin', amount: 4_000n })));
    const work: Array<Promise<{ kind: string; ok: boolean }>> = [];
    for (let i = 0; i < 10; i++) {
      work.push(createPayoutV3(gw, token, payoutBody({ amount: 40 })).then((r) => ({ kind: 'payout', ok: r.status === 200 })));
      work.push(debit().then((s) => ({ kind: 'debit', ok: s === 'ok' })));
      work.push(moveOut().then((s) => ({ kind: 'transfer', ok: s === 'ok' })));
    }
    const done = await Promise.all(work);
    const n = (kind: string) => done.filter((d) => d.kind === kind && d.ok).length;
    const spent = BigInt(n('payout') + n('debit') + n('transfer')) * 4_000n;
    assert.ok(spent <= 50_000n, `accepted ${spent} out of 50000`);
    assert.equal(spent, 48_000n, 'every debit that fitted was accepted (12 × 40.00 of 500.00)');
    assert.deepEqual(await balancesOf(gw.core.db, creds.merchantId), {
      payin: BigInt(n('transfer')) * 4_000n,
      payout: 50_000n - spent,
      frozen: BigInt(n('payout')) * 4_000n,
    });
    assert.equal(await countRows(gw.core.db, 'orders', { column: 'merchant_id', value: creds.merchantId }), n('payout'));
    assert.deepEqual(await negativeAccounts(gw.core.db), []);
    await ledgerClean();
  });

  test('a PAID report racing the expiry of the pay-in: credited once or not at all (late money → EXCEPTION), never twice', async () => {
    const { creds, token } = await merchant();
    const orders: string[] = [];
    for (let i = 0; i < 6; i++) orders.push(await payin(token, 100));
    gw.clock.advance(31 * 60_000);
    const reports = orders.map((orderNo) => sandboxReport(gw, { orderNo, outcome: 'PAID' }));
    await Promise.all([expireDuePayins(gw.app.services.payins), ...reports.map((r) => postSandboxReport(gw, r))]);
    let credited = 0n;
    for (const orderNo of orders) {
      const row = await orderRow(gw.core.db, orderNo);
      assert.ok(row.status === 'PAID' || row.status === 'EXCEPTION', `${orderNo} is ${row.status}`);
      assert.deepEqual(await entryKinds(gw.core.db, orderNo), row.status === 'PAID' ? ['payin.paid'] : []);
      if (row.status === 'PAID') credited += 10_000n;
      else assert.equal(row.paid_amount, 10_000n, 'the late money is recorded on the EXCEPTION');
    }
    assert.deepEqual(await balancesOf(gw.core.db, creds.merchantId), { payin: credited, payout: 0n, frozen: 0n });
    // A report sent again after all this changes nothing.
    await Promise.all(reports.map((r) => postSandboxReport(gw, r)));
    assert.deepEqual(await balancesOf(gw.core.db, creds.merchantId), { payin: credited, payout: 0n, frozen: 0n });
    await ledgerClean();
  });

  // A refund (chargeback) reported by the channel for a PAID pay-in moves money
  // whether or not the merchant still holds it: payin covers what it can, then
  // the payout balance, and the rest is recorded as owed on the merchant's
  // receivable; never a 422.
  /** A paid pay-in of 100.00 whose money the operator then moved to the payout balance. */
  async function paidAndMoved() {
    const { creds, token } = await merchant();
    const orderNo = await payin(token, 100);
    assert.equal((await postSandboxReport(gw, sandboxReport(gw, { orderNo, outcome: 'PAID' }))).status, 200);
    await move(gw, creds.merchantId, 10_000n);
    return { creds, orderNo };
  }

  test('a refund after the merchant moved the money to its payout balance is taken from there', async () => {
    const { creds, orderNo } = await paidAndMoved();
    assert.equal((await postSandboxReport(gw, sandboxReport(gw, { orderNo, outcome: 'REFUNDED' }))).status, 200);
    assert.deepEqual(await balancesOf(gw.core.db, creds.merchantId), { payin: 0n, payout: 0n, frozen: 0n }, 'nothing left to pay out');
    assert.equal(await receivableOf(gw.core.db, creds.merchantId), 0n, 'nothing owed');
    await ledgerClean();
  });

  test('a refund reported by the channel after the merchant paid the money out is recorded, not refused', async () => {
    const { creds, orderNo } = await paidAndMoved();
    // The money left: the merchant's payout balance is spent.
    await gw.core.db.transaction().execute((tx) => adjust(tx, { now: gw.clock.now(), actor: 'test' }, { merchantId: creds.merchantId, currency: 'MXN', account: 'payout', amount: -10_000n, reason: 'paid out' }));
    const platform = await platformOf(gw.core.db);
    const res = await postSandboxReport(gw, sandboxReport(gw, { orderNo, outcome: 'REFUNDED' }));
    const row = await orderRow(gw.core.db, orderNo);
    const after = await platformOf(gw.core.db);
    assert.ok(
      res.status === 200 && row.status === 'REFUNDED' && after.clearing - platform.clearing === 10_000n,
      `the bank refunded 100.00 to the consumer; the gateway answered ${res.status} ${res.json.error ?? ''}, the order is ${row.status}, clearing moved by ${after.clearing - platform.clearing}`,
    );
    assert.deepEqual(await balancesOf(gw.core.db, creds.merchantId), { payin: 0n, payout: 0n, frozen: 0n });
    assert.equal(await receivableOf(gw.core.db, creds.merchantId), -10_000n, 'the merchant owes what it paid out');
    assert.deepEqual(await entryKinds(gw.core.db, orderNo), ['payin.paid', 'payin.refunded']);
    assert.deepEqual(await negativeAccounts(gw.core.db), []);
    // The same report again changes nothing.
    assert.equal((await postSandboxReport(gw, sandboxReport(gw, { orderNo, outcome: 'REFUNDED' }))).status, 200);
    assert.equal(await receivableOf(gw.core.db, creds.merchantId), -10_000n);
    await ledgerClean();
  });
});
