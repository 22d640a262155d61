/**
 * Property: whatever sequence of money events happens to a merchant, through
 * the real services in-process (a real gateway from startGateway), the ledger
 * stays consistent, no guarded account goes negative, and every balance equals
 * an independent model (test/helpers/money-model.ts) to the minor unit, after
 * every step. Each run is one fresh merchant with random fee rules.
 *
 * Pay-ins also expire (money arriving later makes an EXCEPTION that is never
 * credited by itself). Resolutions are drawn over every order: an EXCEPTION, a
 * refund of a PAID pay-in, a final order the state machine refuses or ignores,
 * and an order still in flight, which only its channel may settle (422).
 *
 * Reproduce a failure with PAGODA_PROPERTY_SEED=<seed> (fast-check prints it).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { completeDueSandboxPayouts } from '../src/modules/channels/sandbox/sandbox.bank.ts';
import { checkLedger } from '../src/modules/ledger/ledger.check.ts';
import { resolveOrder } from '../src/modules/operator/resolve.service.ts';
import { createPayin, expireDuePayins } from '../src/modules/payins/payin.service.ts';
import { createPayout } from '../src/modules/payouts/payout.service.ts';
import { adjust, transfer } from '../src/modules/ledger/ledger.service.ts';
import type { Caller } from '../src/modules/payins/payin.service.ts';
import { formatMajor } from '../src/platform/money.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { newRef, payinBody } from './helpers/payins.ts';
import { balancesOf, negativeAccounts, receivableOf, payoutBody, platformOf, reportAsAnyChannel, setFee, statusOf } from './helpers/money.ts';
import { MoneyModel, type ModelOrder, type Status } from './helpers/money-model.ts';

const SANDBOX_DELAY_MS = 1_000;
const ORDER_TTL_MS = 600_000;

// ---- steps ----------------------------------------------------------------
const minor = (max: number) => fc.integer({ min: 1, max }).map(BigInt);
/** An amount whose last two digits are sometimes the sandbox's magic ones. */
const magicAmount = (maxMajor: number, magic: number[]) =>
  fc
    .tuple(fc.integer({ min: 0, max: maxMajor }), fc.oneof({ arbitrary: fc.integer({ min: 0, max: 96 }), weight: 5 }, { arbitrary: fc.constantFrom(...magic), weight: 2 }))
    .map(([major, cents]) => BigInt(major * 100 + cents))
    .filter((a) => a > 0n);

const stepArb = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('payin' as const), amount: magicAmount(2_000, [13, 14, 97, 98]) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('payinReport' as const),
      pick: fc.nat(),
      outcome: fc.constantFrom<Status>('PAID', 'PAID', 'FAILED', 'EXCEPTION'),
      paid: fc.option(minor(300_000), { nil: null }),
      dup: fc.constantFrom('none', 'same-event', 'new-event'),
      concurrent: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('refund' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('transfer' as const), from: fc.constantFrom<'payin' | 'payout'>('payin', 'payin', 'payout'), amount: minor(300_000) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('adjust' as const), account: fc.constantFrom<'payin' | 'payout'>('payin', 'payout'), amount: fc.integer({ min: -200_000, max: 300_000 }).filter((n) => n !== 0).map(BigInt) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('payout' as const), amount: magicAmount(3_000, [13, 14, 97, 98]), retry: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('burst' as const), amount: magicAmount(1_500, [13, 14]), k: fc.integer({ min: 2, max: 5 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('payoutReport' as const), pick: fc.nat(), outcome: fc.constantFrom<Status>('PAID', 'FAILED', 'EXCEPTION', 'REFUNDED') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('auto' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('expire' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('resolve' as const), pick: fc.nat(), exceptionFirst: fc.boolean(), to: fc.constantFrom<'PAID' | 'FAILED' | 'REFUNDED'>('PAID', 'FAILED', 'REFUNDED'), force: fc.boolean() }) },
);
type Step = typeof stepArb extends fc.Arbitrary<infer S> ? S : never;

const feeArb = fc.record({ bps: fc.integer({ min: 0, max: 500 }).map(BigInt), fixed: fc.integer({ min: 0, max: 300 }).map(BigInt) });

const show = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));

/** What the runs exercised, reported as a diagnostic (a property that skips everything proves nothing). */
const stats = new Map<string, number>();
const count = (key: string) => stats.set(key, (stats.get(key) ?? 0) + 1);

describe('money property: random sequences through the real services match the model', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({ PAGODA_CHANNEL_TIMEOUT: '150ms', PAGODA_SANDBOX_PAYOUT_DELAY: `${SANDBOX_DELAY_MS}ms`, PAGODA_ORDER_TTL: `${ORDER_TTL_MS}ms` });
  });
  after(() => gw.close());

  async function runSequence(fees: { payin: { bps: bigint; fixed: bigint }; payout: { bps: bigint; fixed: bigint } }, funding: { payin: bigint; payout: bigint }, steps: Step[]) {
    const { services } = gw.app;
    const db = gw.core.db;
    const creds = await gw.merchant(['MXN']);
    const caller: Caller = { merchantId: creds.merchantId, appId: creds.appId, generation: 'v3' };
    await setFee(gw, creds.merchantId, 'payin', 'MX_SPEI', fees.payin.bps, fees.payin.fixed);
    await setFee(gw, creds.merchantId, 'payout', 'MX_SPEI', fees.payout.bps, fees.payout.fixed);
    const model = new MoneyModel(fees.payin, fees.payout);
    // Platform accounts are shared by every run: first let the bank finish what earlier runs left due.
    gw.clock.advance(SANDBOX_DELAY_MS + 1);
    await completeDueSandboxPayouts(services.sandbox, 10_000);
    const platform0 = await platformOf(db);
    const log: string[] = [`fees ${show(fees)}, funding ${show(funding)}`];
    const text = (a: bigint) => formatMajor(a, 'MXN');
    const pick = (direction: 'payin' | 'payout', n: number): ModelOrder | undefined => {
      const of = model.orders.filter((o) => o.direction === direction);
      return of.length ? of[n % of.length] : undefined;
    };
    const op = () => ({ now: gw.clock.now(), actor: 'test:property' });
    for (const account of ['payin', 'payout'] as const) {
      if (funding[account] === 0n) continue;
      await db.transaction().execute((tx) => adjust(tx, op(), { merchantId: creds.merchantId, currency: 'MXN', account, amount: funding[account], reason: 'property funding' }));
      model.adjust(account, funding[account]);
    }

    async function verify(): Promise<void> {
      const where = `after:\n  ${log.join('\n  ')}`;
      assert.deepEqual(await checkLedger(db), [], `ledger check ${where}`);
      assert.deepEqual(await negativeAccounts(db), [], `negative accounts ${where}`);
      assert.deepEqual(await balancesOf(db, creds.merchantId), { payin: model.payin, payout: model.payout, frozen: model.frozen }, `merchant balances ${where}`);
      assert.equal(await receivableOf(db, creds.merchantId), model.receivable, `merchant receivable ${where}`);
      const p = await platformOf(db);
      assert.deepEqual(
        { fees: p.fees - platform0.fees, clearing: p.clearing - platform0.clearing, adjustments: p.adjustments - platform0.adjustments },
        { fees: model.fees, clearing: model.clearing, adjustments: model.adjustments },
        `platform accounts ${where}`,
      );
      const rows = await db.selectFrom('orders').select(['order_no', 'status']).where('merchant_id', '=', creds.merchantId).execute();
      const actual = Object.fromEntries(rows.map((r) => [r.order_no, r.status]));
      const expected = Object.fromEntries(model.orders.map((o) => [o.orderNo, o.status]));
      assert.deepEqual(actual, expected, `order statuses ${where}`);
      const notes = await db.selectFrom('notifications').select('id').where('merchant_id', '=', creds.merchantId).execute();
      assert.equal(notes.length, model.notifications, `notifications ${where}`);
    }

    /** settleInSandbox, keeping the signed report it sent so it can be sent again. */
    const settle = (o: ModelOrder, outcome: Status, paid: bigint | null) => reportAsAnyChannel(services.sandbox, o, outcome, paid);

    for (const step of steps) {
      log.push(show(step));
      switch (step.kind) {
        case 'payin': {
          const order = await createPayin(services.payins, caller, payinBody({ amount: text(step.amount) }));
          model.createPayin(order.order_no, step.amount);
          break;
        }
        case 'payinReport': {
          const o = pick('payin', step.pick);
          if (!o) break;
          const paid = step.outcome === 'PAID' || step.outcome === 'EXCEPTION' ? step.paid : null;
          if (step.dup === 'same-event') {
            const sent = await settle(o, step.outcome, paid);
            await Promise.all(Array.from({ length: step.concurrent ? 3 : 1 }, () => services.sandbox.report(sent.raw, sent.headers)));
          } else if (step.dup === 'new-event') {
            const reports = () => settle(o, step.outcome, paid);
            if (step.concurrent) await Promise.all([reports(), reports(), reports()]);
            else for (let i = 0; i < 3; i++) await reports();
          } else {
            await settle(o, step.outcome, paid);
          }
          count(`payin report ${step.outcome} → ${model.report(o, step.outcome, paid)}`);
          break;
        }
        case 'refund':
        case 'resolve': {
          const to = step.kind === 'refund' ? 'REFUNDED' : step.to;
          const force = step.kind === 'resolve' && step.force;
          const exceptions = model.orders.filter((x) => x.status === 'EXCEPTION');
          const pool = step.kind === 'resolve' && step.exceptionFirst && exceptions.length > 0 ? exceptions : model.orders;
          const o = step.kind === 'refund' ? pick('payin', step.pick) : pool[step.pick % Math.max(1, pool.length)];
          if (!o) break;
          let got: unknown;
          try {
            got = (await resolveOrder(services.payouts, { orderNo: o.orderNo, to, reason: 'property', actor: 'test:property', force })).result.kind;
          } catch (err) {
            got = (err as { status?: number }).status ?? err;
          }
          const want = model.resolve(o, to, force);
          count(`${step.kind} ${o.direction} → ${want}`);
          assert.equal(got, want, `resolve ${o.orderNo} (${o.direction}) to ${to}; after:\n  ${log.join('\n  ')}`);
          break;
        }
        case 'transfer': {
          const got = await statusOf(() => db.transaction().execute((tx) => transfer(tx, op(), { merchantId: creds.merchantId, currency: 'MXN', from: step.from, to: step.from === 'payin' ? 'payout' : 'payin', amount: step.amount })));
          const want = model.transfer(step.from, step.amount);
          count(`transfer ${want}`);
          assert.equal(got, want, `transfer; after:\n  ${log.join('\n  ')}`);
          break;
        }
        case 'adjust': {
          const got = await statusOf(() => db.transaction().execute((tx) => adjust(tx, op(), { merchantId: creds.merchantId, currency: 'MXN', account: step.account, amount: step.amount, reason: 'property' })));
          const want = model.adjust(step.account, step.amount);
          count(`adjust ${want}`);
          assert.equal(got, want, `adjust; after:\n  ${log.join('\n  ')}`);
          break;
        }
        case 'payout': {
          const body = payoutBody({ amount: text(step.amount) });
          const covered = model.canPayout(step.amount);
          let orderNo: string | undefined;
          const got = await statusOf(async () => (orderNo = (await createPayout(services.payouts, caller, body)).order_no));
          assert.equal(got, covered ? 'ok' : 422, `payout of ${text(step.amount)}; after:\n  ${log.join('\n  ')}`);
          if (covered) count(`payout ${model.createPayout(orderNo!, step.amount).status}`);
          else count('payout 422');
          if (step.retry) {
            // The merchant retries the same request: the same order, or the same refusal; no money moves.
            let again: string | undefined;
            const retried = await statusOf(async () => (again = (await createPayout(services.payouts, caller, body)).order_no));
            assert.equal(retried, got, 'a retry answers like the first request');
            assert.equal(again, orderNo);
          }
          break;
        }
        case 'burst': {
          const bodies = Array.from({ length: step.k }, () => payoutBody({ amount: text(step.amount), merOrderNo: newRef('burst') }));
          const answers = await Promise.allSettled(bodies.map((b) => createPayout(services.payouts, caller, b)));
          let expected = 0;
          while (expected < step.k && model.canPayout(step.amount)) {
            const ok = answers.filter((a) => a.status === 'fulfilled')[expected];
            assert.ok(ok, `burst of ${step.k} × ${text(step.amount)}: only ${expected} accepted; after:\n  ${log.join('\n  ')}`);
            model.createPayout(ok.value.order_no, step.amount);
            expected++;
          }
          for (const a of answers) if (a.status === 'rejected') assert.equal((a.reason as { status?: number }).status, 422, String(a.reason));
          count(`burst ${expected}/${step.k}`);
          assert.equal(answers.filter((a) => a.status === 'fulfilled').length, expected, `burst accepted more than the balance covers; after:\n  ${log.join('\n  ')}`);
          break;
        }
        case 'payoutReport': {
          const o = pick('payout', step.pick);
          if (!o) break;
          await settle(o, step.outcome, null);
          count(`payout report ${step.outcome} → ${model.report(o, step.outcome)}`);
          break;
        }
        case 'expire': {
          gw.clock.advance(ORDER_TTL_MS + 1);
          while ((await expireDuePayins(services.payins)) > 0);
          model.expire();
          count('expire');
          break;
        }
        case 'auto': {
          gw.clock.advance(SANDBOX_DELAY_MS + 1);
          await completeDueSandboxPayouts(services.sandbox, 10_000);
          model.autoComplete();
          break;
        }
      }
      await verify();
      count('steps verified');
    }
  }

  test('ledger consistent, nothing negative, balances equal to the model after every step', { timeout: 240_000 }, async (t) => {
    t.after(() => t.diagnostic([...stats].sort().map(([k, n]) => `${k}: ${n}`).join('; ')));
    const seed = process.env.PAGODA_PROPERTY_SEED ? Number(process.env.PAGODA_PROPERTY_SEED) : undefined;
    await fc.assert(
      fc.asyncProperty(
        fc.record({ payin: feeArb, payout: feeArb }),
        fc.record({ payin: fc.integer({ min: 0, max: 200_000 }).map(BigInt), payout: fc.integer({ min: 0, max: 600_000 }).map(BigInt) }),
        fc.array(stepArb, { minLength: 8, maxLength: 25, size: 'max' }),
        (fees, funding, steps) => runSequence(fees, funding, steps),
      ),
      { numRuns: Number(process.env.PAGODA_PROPERTY_RUNS ?? 25), ...(seed !== undefined ? { seed } : {}), interruptAfterTimeLimit: 180_000, markInterruptAsFailure: true },
    );
  });
});
