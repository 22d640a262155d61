/**
 * Random sequences of ledger operations (pay-ins paid and refunded, payouts
 * frozen, paid, released and returned, operator transfers and adjustments,
 * replayed events) against a model: after every step the ledger is consistent,
 * no guarded account is negative, and the balances equal the model's. An
 * operation that would overdraw is refused with 422 and leaves no trace; a
 * refund is always recorded, what payin and payout cannot cover going on
 * receivable, which the next payments repay first.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Db } from '../src/platform/db/database.ts';
import { AppError } from '../src/platform/errors.ts';
import { checkLedger } from '../src/modules/ledger/ledger.check.ts';
import { adjust, balances, postOrderChange, transfer, type MerchantBalances } from '../src/modules/ledger/ledger.service.ts';
import { decideTransition, type Direction, type OrderStatus } from '../src/modules/orders/order.ts';
import { findOrder } from '../src/modules/orders/order.service.ts';
import { createOrder, move, newMerchant, openLedgerDb, paidPayin, type LedgerDb } from './ledger.fixtures.ts';

type Op =
  | { t: 'payin'; paid: bigint; bps: bigint }
  | { t: 'refund'; pick: number }
  | { t: 'payout'; amount: bigint; fee: bigint }
  | { t: 'outcome'; pick: number; to: OrderStatus }
  | { t: 'transfer'; from: 'payin' | 'payout'; amount: bigint }
  | { t: 'adjust'; account: 'payin' | 'payout'; amount: bigint }
  | { t: 'replay' };

const money = (max: bigint) => fc.bigInt({ min: 1n, max });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant('payin' as const), paid: money(100_000n), bps: fc.bigInt({ min: 0n, max: 10_000n }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('refund' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('payout' as const), amount: money(30_000n), fee: fc.bigInt({ min: 0n, max: 1_000n }) }) },
  { weight: 8, arbitrary: fc.record({ t: fc.constant('outcome' as const), pick: fc.nat(), to: fc.constantFrom<OrderStatus>('PENDING', 'PAID', 'FAILED', 'EXCEPTION', 'REFUNDED') }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('transfer' as const), from: fc.constantFrom('payin' as const, 'payin' as const, 'payout' as const), amount: money(60_000n) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('adjust' as const), account: fc.constantFrom('payin' as const, 'payout' as const), amount: fc.bigInt({ min: -30_000n, max: 30_000n }).filter((a) => a !== 0n) }) },
  { weight: 2, arbitrary: fc.constant({ t: 'replay' as const }) },
);

interface ModelOrder {
  orderNo: string;
  direction: Direction;
  status: OrderStatus;
  /** paid − fee for a pay-in, amount + fee for a payout: what the merchant's balances move by. */
  net: bigint;
}

/** What each step should do to the merchant's balances; `null` when it must be refused with 422. */
class Model {
  bal: MerchantBalances = { payin: 0n, payout: 0n, frozen: 0n };
  /** What the merchant owes (≤ 0): refunds its payin balance could not cover. */
  receivable = 0n;
  orders: ModelOrder[] = [];
  /** Re-applies the last applied event; it must post nothing. */
  replay: ((tx: Db) => Promise<string>) | null = null;
  can(account: keyof MerchantBalances, debit: bigint): boolean {
    return this.bal[account] >= debit;
  }
}

const is422 = (err: unknown) => err instanceof AppError && err.status === 422;

describe('ledger property: random operations keep every invariant', () => {
  let L: LedgerDb;
  before(async () => {
    L = await openLedgerDb();
  });
  after(() => L?.close());

  async function step(m: string, model: Model, op: Op, i: number): Promise<void> {
    const tx = <R>(fn: (tx: Db) => Promise<R>) => L.db.transaction().execute(fn);
    const opDeps = { now: L.clock.now(), actor: 'prop' };
    const b = model.bal;
    /** Runs `fn`; expects success when `allowed`, a 422 otherwise, and applies `apply` on success. */
    const attempt = async (allowed: boolean, fn: () => Promise<unknown>, apply: () => void) => {
      const outcome = await fn().then(() => 'ok', (err: unknown) => (is422(err) ? 'refused' : Promise.reject(err)));
      assert.equal(outcome, allowed ? 'ok' : 'refused', `step ${i} ${JSON.stringify(op, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
      if (allowed) apply();
    };
    switch (op.t) {
      case 'payin': {
        const fee = (op.paid * op.bps) / 10_000n;
        const order = await paidPayin(L, m, op.paid, fee);
        // A debt is repaid first from what the merchant collects.
        const repaid = -model.receivable < op.paid - fee ? -model.receivable : op.paid - fee;
        model.receivable += repaid;
        b.payin += op.paid - fee - repaid;
        model.orders.push({ orderNo: order.order_no, direction: 'payin', status: 'PAID', net: op.paid - fee });
        const created = { ...order, status: 'CREATED' };
        model.replay = (t) => postOrderChange(t, created, order, 'prop');
        return;
      }
      case 'payout': {
        const total = op.amount + op.fee;
        const orderNo = { value: '' };
        await attempt(model.can('payout', total), async () => (orderNo.value = (await tx((t) => createOrder(t, { merchantId: m, direction: 'payout', amount: op.amount, fee: op.fee }))).order_no), () => {
          b.payout -= total;
          b.frozen += total;
          model.orders.push({ orderNo: orderNo.value, direction: 'payout', status: 'CREATED', net: total });
        });
        return;
      }
      case 'refund':
      case 'outcome': {
        const candidates = model.orders.filter((o) => o.direction === (op.t === 'refund' ? 'payin' : 'payout'));
        if (candidates.length === 0) return;
        const o = candidates[op.pick % candidates.length]!;
        const to: OrderStatus = op.t === 'refund' ? 'REFUNDED' : op.to;
        const applies = decideTransition(o.direction, o.status, to).kind === 'apply';
        const beforeRow = (await findOrder(L.db, o.orderNo))!;
        await attempt(true, () => tx((t) => move(t, L, o.orderNo, to)), () => {
          if (!applies) return;
          if (o.direction === 'payin') {
            const covered = b.payin < o.net ? b.payin : o.net;
            const fromPayout = b.payout < o.net - covered ? b.payout : o.net - covered;
            b.payin -= covered;
            b.payout -= fromPayout;
            model.receivable -= o.net - covered - fromPayout;
          }
          else if (to === 'PAID') b.frozen -= o.net;
          else if (to === 'FAILED') {
            b.frozen -= o.net;
            b.payout += o.net;
          }
          else if (to === 'REFUNDED') b.payout += o.net;
          const from = o.status;
          o.status = to;
          model.replay = async (t) => postOrderChange(t, { ...beforeRow, status: from }, (await findOrder(t, o.orderNo))!, 'prop');
        });
        return;
      }
      case 'transfer': {
        const to = op.from === 'payin' ? 'payout' : 'payin';
        const operationId = `prop-${m}-${i}`;
        const run = (t: Db) => transfer(t, opDeps, { merchantId: m, currency: 'IDR', from: op.from, to, amount: op.amount, operationId });
        await attempt(model.can(op.from, op.amount), () => tx(run), () => {
          b[op.from] -= op.amount;
          b[to] += op.amount;
          model.replay = async (t) => (await run(t)).result;
        });
        return;
      }
      case 'adjust': {
        const operationId = `prop-${m}-${i}`;
        const run = (t: Db) => adjust(t, opDeps, { merchantId: m, currency: 'IDR', account: op.account, amount: op.amount, reason: 'property', operationId });
        await attempt(op.amount > 0n || model.can(op.account, -op.amount), () => tx(run), () => {
          b[op.account] += op.amount;
          model.replay = async (t) => (await run(t)).result;
        });
        return;
      }
      case 'replay': {
        if (!model.replay) return;
        const result = await tx(model.replay);
        assert.ok(result === 'duplicate' || result === 'none', `a replay posted: ${result}`);
      }
    }
  }

  async function assertInvariants(m: string, model: Model, i: number): Promise<void> {
    assert.deepEqual(await checkLedger(L.db), [], `after step ${i}`);
    assert.deepEqual(await balances(L.db, m, 'IDR'), model.bal, `balances after step ${i}`);
    const owed = await L.db.selectFrom('ledger_accounts').select('balance').where('id', '=', `m:${m}:IDR:receivable`).executeTakeFirst();
    assert.equal(owed?.balance ?? 0n, model.receivable, `receivable after step ${i}`);
    const negative = await L.db.selectFrom('ledger_accounts').select('id').where('non_negative', '=', 1n).where('balance', '<', 0n).execute();
    assert.deepEqual(negative, []);
  }

  /** Each run starts from an empty ledger, so a failure (and its shrinking) depends on that run alone. */
  async function reset(): Promise<void> {
    for (const table of ['postings', 'journal_entries', 'ledger_accounts', 'order_events', 'orders'] as const) await L.db.deleteFrom(table).execute();
  }

  it('holds for random sequences', { timeout: 300_000 }, async () => {
    await fc.assert(
      // Starting funds on the payout balance, so payouts run often enough to meet their outcomes.
      fc.asyncProperty(money(200_000n), fc.array(opArb, { minLength: 1, maxLength: 40, size: 'medium' }), async (funds, ops) => {
        await reset();
        const m = await newMerchant(L.db);
        const model = new Model();
        for (const [i, op] of [{ t: 'adjust' as const, account: 'payout' as const, amount: funds }, ...ops].entries()) {
          L.clock.advance(1_000);
          await step(m, model, op, i);
          await assertInvariants(m, model, i);
        }
      }),
      { numRuns: 50 },
    );
  });
});
