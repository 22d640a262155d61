/**
 * The ledger on the database of the run: posting, idempotence, the database
 * refusing overdrafts (also under concurrency), operator transfers and
 * adjustments, and orders' state changes posting their entries.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dialectOf } from '../src/platform/db/database.ts';
import type { OrderRow } from '../src/platform/db/schema.ts';
import { createTransactor } from '../src/platform/db/transactor.ts';
import { AppError } from '../src/platform/errors.ts';
import { getBalance } from '../src/modules/ledger/balance.service.ts';
import { checkLedger } from '../src/modules/ledger/ledger.check.ts';
import { postingsFor } from '../src/modules/ledger/ledger.ts';
import { adjust, balances, post, postOrderChange, transfer } from '../src/modules/ledger/ledger.service.ts';
import { findOrder } from '../src/modules/orders/order.service.ts';
import { createOrder, move, newMerchant, openLedgerDb, paidPayin, T0, type LedgerDb } from './ledger.fixtures.ts';

const T = { timeout: 60_000 };
const is422 = (err: unknown) => err instanceof AppError && err.status === 422 && /insufficient balance/.test(err.detail ?? '');
const op = { now: T0, actor: 'cli:tester' };

describe('ledger', () => {
  let L: LedgerDb;
  before(async () => {
    L = await openLedgerDb({ poolSize: 20 });
  });
  after(() => L?.close());

  const credit = (merchantId: string, amount: bigint, currency = 'IDR') =>
    L.db.transaction().execute((tx) => adjust(tx, op, { merchantId, currency, account: 'payout', amount, reason: 'test funds' }));

  it('posting the same entry twice posts once', T, async () => {
    const m = await newMerchant(L.db);
    const entry = { id: 'op.adjust:same-event', kind: 'op.adjust' as const, currency: 'IDR', actor: 'test', reason: 'twice', now: T0 };
    const postings = postingsFor({ kind: 'op.adjust', merchantId: m, account: 'payin', amount: 1_234n });
    assert.equal(await L.db.transaction().execute((tx) => post(tx, entry, postings)), 'posted');
    assert.equal(await L.db.transaction().execute((tx) => post(tx, entry, postings)), 'duplicate');
    assert.deepEqual(await balances(L.db, m, 'IDR'), { payin: 1_234n, payout: 0n, frozen: 0n });
    const rows = await L.db.selectFrom('postings').select('amount').where('entry_id', '=', entry.id).execute();
    assert.equal(rows.length, 2);
    assert.deepEqual(await checkLedger(L.db), []);
  });

  it('an entry whose postings do not sum to zero is a bug, refused before anything is written', T, async () => {
    const m = await newMerchant(L.db);
    const entry = { id: 'op.adjust:unbalanced', kind: 'op.adjust' as const, currency: 'IDR', actor: 'test', now: T0 };
    await assert.rejects(L.db.transaction().execute((tx) => post(tx, entry, [{ account: { owner: 'merchant', merchantId: m, kind: 'payin' }, amount: 5n }])), /sum to 5/);
    assert.equal(await L.db.selectFrom('journal_entries').select('id').where('id', '=', entry.id).executeTakeFirst(), undefined);
  });

  it('a balance that would pass 2^63 − 1 minor units is refused with 422, on SQLite too (never stored inexact), and nothing of the entry persists', T, async () => {
    // JPY, which no other test here moves: the platform's adjustment account takes the other side.
    const m = await newMerchant(L.db);
    const max = 2n ** 63n - 1n;
    const adjustment = (id: string, amount: bigint) => ({
      entry: { id: `op.adjust:${id}`, kind: 'op.adjust' as const, currency: 'JPY', actor: 'test', reason: 'range', now: T0 },
      postings: postingsFor({ kind: 'op.adjust', merchantId: m, account: 'payout', amount }),
    });
    const postAdjustment = ({ entry, postings }: ReturnType<typeof adjustment>) => L.db.transaction().execute((tx) => post(tx, entry, postings));
    assert.equal(await postAdjustment(adjustment('near-the-top', max - 5n)), 'posted');
    const past = adjustment('past-the-top', 6n);
    await assert.rejects(
      postAdjustment(past),
      (err: unknown) => err instanceof AppError && err.status === 422 && /^balance out of range: an account in JPY would go past ±2\^63 minor units/.test(err.detail ?? ''),
    );
    const payout = async () => (await L.db.selectFrom('ledger_accounts').select('balance').where('merchant_id', '=', m).where('kind', '=', 'payout').executeTakeFirstOrThrow()).balance;
    assert.equal(typeof (await payout()), 'bigint', 'still an integer');
    assert.equal(await payout(), max - 5n, 'unchanged');
    assert.equal(await L.db.selectFrom('journal_entries').select('id').where('id', '=', past.entry.id).executeTakeFirst(), undefined);
    assert.equal(await postAdjustment(adjustment('to-the-top', 5n)), 'posted', 'up to the limit itself is fine');
    assert.equal(await payout(), max);
    assert.deepEqual(await checkLedger(L.db), []);
    assert.equal(await postAdjustment(adjustment('back-to-zero', -max)), 'posted');
  });

  it('a posting that would make payout negative is refused with 422 and nothing of the entry persists', T, async () => {
    const m = await newMerchant(L.db);
    await credit(m, 1_000n);
    const entry = { id: 'op.transfer:too-big', kind: 'op.transfer' as const, currency: 'IDR', actor: 'test', now: T0 };
    const postings = postingsFor({ kind: 'op.transfer', merchantId: m, from: 'payout', to: 'payin', amount: 1_001n });
    await assert.rejects(L.db.transaction().execute((tx) => post(tx, entry, postings)), is422);
    assert.deepEqual(await balances(L.db, m, 'IDR'), { payin: 0n, payout: 1_000n, frozen: 0n });
    assert.equal(await L.db.selectFrom('journal_entries').select('id').where('id', '=', entry.id).executeTakeFirst(), undefined);
    assert.equal((await L.db.selectFrom('postings').select('id').where('entry_id', '=', entry.id).execute()).length, 0);
    const payin = await L.db.selectFrom('ledger_accounts').select('id').where('id', '=', `m:${m}:IDR:payin`).executeTakeFirst();
    assert.equal(payin, undefined, 'the account created on first use rolled back with the entry');
    // Exactly the balance is fine.
    const exact = postingsFor({ kind: 'op.transfer', merchantId: m, from: 'payout', to: 'payin', amount: 1_000n });
    assert.equal(await L.db.transaction().execute((tx) => post(tx, { ...entry, id: 'op.transfer:exact' }, exact)), 'posted');
    assert.deepEqual(await balances(L.db, m, 'IDR'), { payin: 1_000n, payout: 0n, frozen: 0n });
    assert.deepEqual(await checkLedger(L.db), []);
  });

  it('50 concurrent payouts of 30.00 against 1,000.00: exactly 33 freeze, 17 are refused', T, async () => {
    const m = await newMerchant(L.db);
    await credit(m, 100_000n);
    // PostgreSQL: one transaction each; SQLite: the services' transactor (grouped commits, a savepoint per unit).
    const transact = dialectOf(L.db) === 'postgres' ? <R>(fn: (tx: typeof L.db) => Promise<R>) => L.db.transaction().execute(fn) : createTransactor(L.db);
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => transact((tx) => createOrder(tx, { merchantId: m, direction: 'payout', amount: 2_900n, fee: 100n, merOrderNo: `conc-${i}` }))),
    );
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const refused = results.filter((r) => r.status === 'rejected' && is422(r.reason));
    assert.equal(ok, 33, results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)).slice(0, 3).join('\n'));
    assert.equal(refused.length, 17);
    assert.deepEqual(await balances(L.db, m, 'IDR'), { payin: 0n, payout: 1_000n, frozen: 99_000n });
    const orders = await L.db.selectFrom('orders').select('order_no').where('merchant_id', '=', m).execute();
    assert.equal(orders.length, 33, 'a refused payout leaves no order behind');
    assert.deepEqual(await checkLedger(L.db), []);
  });

  it('a pay-in credits payin minus the fee; its refund reverses it exactly', T, async () => {
    const m = await newMerchant(L.db);
    const order = await paidPayin(L, m, 10_000n, 250n);
    assert.deepEqual(await getBalance(L.db, m, 'idr'), { currency: 'IDR', payin: 9_750n, payout: 0n, frozen: 0n, owed: 0n });
    // The same event again (a resent callback): the state machine says no-op, the ledger says duplicate.
    assert.equal((await L.db.transaction().execute((tx) => move(tx, L, order.order_no, 'PAID'))).kind, 'noop');
    const created = { ...order, status: 'PENDING' };
    assert.equal(await L.db.transaction().execute((tx) => postOrderChange(tx, created, order, 'test')), 'duplicate');
    assert.equal((await L.db.transaction().execute((tx) => move(tx, L, order.order_no, 'REFUNDED'))).kind, 'applied');
    assert.deepEqual(await balances(L.db, m, 'IDR'), { payin: 0n, payout: 0n, frozen: 0n });
    const fees = await L.db.selectFrom('ledger_accounts').select('balance').where('id', '=', 'p:IDR:fees').executeTakeFirstOrThrow();
    assert.equal(typeof fees.balance, 'bigint');
    assert.deepEqual(await checkLedger(L.db), []);
  });

  const receivable = async (merchantId: string, currency = 'IDR') =>
    (await L.db.selectFrom('ledger_accounts').select(['balance', 'non_negative']).where('id', '=', `m:${merchantId}:${currency}:receivable`).executeTakeFirst()) ?? null;

  const spend = (m: string, amount: bigint) =>
    L.db.transaction().execute((tx) => adjust(tx, op, { merchantId: m, currency: 'IDR', account: 'payout', amount: -amount, reason: 'paid out elsewhere' }));

  it('a refund takes what payin lacks from payout; only what both lack is owed, on receivable', T, async () => {
    const m = await newMerchant(L.db);
    const order = await paidPayin(L, m, 5_000n, 200n);
    await L.db.transaction().execute((tx) => transfer(tx, op, { merchantId: m, currency: 'IDR', from: 'payin', to: 'payout', amount: 4_000n }));
    await spend(m, 1_000n);
    assert.equal((await L.db.transaction().execute((tx) => move(tx, L, order.order_no, 'REFUNDED'))).kind, 'applied');
    assert.equal((await findOrder(L.db, order.order_no))?.status, 'REFUNDED');
    assert.deepEqual(await balances(L.db, m, 'IDR'), { payin: 0n, payout: 0n, frozen: 0n });
    assert.deepEqual(await receivable(m), { balance: -1_000n, non_negative: 0n });
    const postings = await L.db.selectFrom('postings').select(['account_id', 'amount']).where('entry_id', '=', `payin.refunded:${order.order_no}`).orderBy('id').execute();
    assert.deepEqual(postings.map((p) => `${p.account_id} ${p.amount}`), [
      'p:IDR:clearing 5000',
      `m:${m}:IDR:payin -800`,
      `m:${m}:IDR:payout -3000`,
      `m:${m}:IDR:receivable -1000`,
      'p:IDR:fees -200',
    ]);
    assert.deepEqual(await checkLedger(L.db), []);
  });

  it('a refund with nothing left on payin or payout goes wholly on receivable; one covered never creates it', T, async () => {
    const m = await newMerchant(L.db);
    const [a, b] = [await paidPayin(L, m, 3_000n, 0n), await paidPayin(L, m, 2_000n, 100n)];
    await L.db.transaction().execute((tx) => transfer(tx, op, { merchantId: m, currency: 'IDR', from: 'payin', to: 'payout', amount: 3_000n }));
    await L.db.transaction().execute((tx) => move(tx, L, b.order_no, 'REFUNDED')); // 1900 of 1900 from payin
    assert.equal(await receivable(m), null, 'a covered refund owes nothing');
    await spend(m, 3_000n);
    await L.db.transaction().execute((tx) => move(tx, L, a.order_no, 'REFUNDED'));
    assert.deepEqual(await balances(L.db, m, 'IDR'), { payin: 0n, payout: 0n, frozen: 0n });
    assert.equal((await receivable(m))?.balance, -3_000n);
    // Replaying the refund's state change posts nothing more.
    const refunded = (await findOrder(L.db, a.order_no))!;
    assert.equal(await L.db.transaction().execute((tx) => postOrderChange(tx, { ...refunded, status: 'PAID' }, refunded, 'test')), 'duplicate');
    assert.equal((await receivable(m))?.balance, -3_000n);
    assert.deepEqual(await checkLedger(L.db), []);
  });

  it('what a merchant owes is repaid first from its next payments', T, async () => {
    const m = await newMerchant(L.db);
    const first = await paidPayin(L, m, 3_000n, 0n);
    await L.db.transaction().execute((tx) => transfer(tx, op, { merchantId: m, currency: 'IDR', from: 'payin', to: 'payout', amount: 3_000n }));
    await spend(m, 3_000n);
    await L.db.transaction().execute((tx) => move(tx, L, first.order_no, 'REFUNDED'));
    assert.equal((await receivable(m))?.balance, -3_000n);
    const partly = await paidPayin(L, m, 2_100n, 100n); // credits 2000: all of it repays
    assert.deepEqual([(await receivable(m))?.balance, (await balances(L.db, m, 'IDR')).payin], [-1_000n, 0n]);
    const postings = await L.db.selectFrom('postings').select(['account_id', 'amount']).where('entry_id', '=', `payin.paid:${partly.order_no}`).orderBy('id').execute();
    assert.deepEqual(postings.map((p) => `${p.account_id} ${p.amount}`), ['p:IDR:clearing -2100', `m:${m}:IDR:receivable 2000`, 'p:IDR:fees 100']);
    await paidPayin(L, m, 5_000n, 0n); // repays the last 1000, credits 4000
    assert.deepEqual([(await receivable(m))?.balance, (await balances(L.db, m, 'IDR')).payin], [0n, 4_000n]);
    assert.deepEqual(await checkLedger(L.db), []);
  });

  it('a debt of one minor unit is repaid too', T, async () => {
    const m = await newMerchant(L.db);
    const first = await paidPayin(L, m, 100n, 0n);
    await L.db.transaction().execute((tx) => transfer(tx, op, { merchantId: m, currency: 'IDR', from: 'payin', to: 'payout', amount: 100n }));
    await spend(m, 99n);
    await L.db.transaction().execute((tx) => move(tx, L, first.order_no, 'REFUNDED')); // 1 from payout, 99 owed
    await paidPayin(L, m, 98n, 0n);
    assert.equal((await receivable(m))?.balance, -1n);
    await paidPayin(L, m, 10_000n, 0n);
    assert.deepEqual([(await receivable(m))?.balance, (await balances(L.db, m, 'IDR')).payin], [0n, 9_999n]);
    assert.deepEqual(await checkLedger(L.db), []);
  });

  it('refunds racing transfers of the same money: every refund recorded, nothing guarded negative, nothing owed', T, async () => {
    const merchants = await Promise.all(Array.from({ length: 12 }, () => newMerchant(L.db)));
    const orders: OrderRow[] = [];
    for (const m of merchants) orders.push(await paidPayin(L, m, 10_000n, 250n)); // payin 9750 each
    const transact = dialectOf(L.db) === 'postgres' ? <R>(fn: (tx: typeof L.db) => Promise<R>) => L.db.transaction().execute(fn) : createTransactor(L.db);
    const moveOut = (m: string, amount: bigint) => transact((tx) => transfer(tx, op, { merchantId: m, currency: 'IDR', from: 'payin', to: 'payout', amount }));
    const work = merchants.flatMap((m, i) => [
      moveOut(m, 9_750n).then(() => ({ m, kind: 'transfer', amount: 9_750n })),
      transact((tx) => move(tx, L, orders[i]!.order_no, 'REFUNDED')).then((r) => ({ m, kind: `refund ${r.kind}`, amount: 0n })),
      moveOut(m, 5_000n).then(() => ({ m, kind: 'transfer', amount: 5_000n })),
    ]);
    const results = await Promise.allSettled(work);
    for (const r of results) if (r.status === 'rejected') assert.ok(is422(r.reason), `only a transfer may be refused, with 422: ${String(r.reason)}`);
    const done = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    assert.equal(done.filter((d) => d.kind === 'refund applied').length, merchants.length, 'every refund was recorded');
    for (const [i, m] of merchants.entries()) {
      assert.equal((await findOrder(L.db, orders[i]!.order_no))?.status, 'REFUNDED');
      const movedOut = done.filter((d) => d.m === m && d.kind === 'transfer').reduce((sum, d) => sum + d.amount, 0n);
      assert.ok(movedOut <= 9_750n, `${m}: moved out ${movedOut} of 9750`);
      // Credited 9750, refunded 9750; the transfers only moved it between the merchant's balances.
      assert.deepEqual(await balances(L.db, m, 'IDR'), { payin: 0n, payout: 0n, frozen: 0n }, `${m} after moving out ${movedOut}`);
      assert.equal((await receivable(m))?.balance ?? 0n, 0n, `${m} owes nothing`);
    }
    const negative = await L.db.selectFrom('ledger_accounts').select('id').where('non_negative', '=', 1n).where('balance', '<', 0n).execute();
    assert.deepEqual(negative, []);
    assert.deepEqual(await checkLedger(L.db), []);
  });

  it('payouts: freeze at creation, paid, failed (released), exception holds, returned', T, async () => {
    const m = await newMerchant(L.db);
    await credit(m, 10_000n);
    const mk = (i: number) => L.db.transaction().execute((tx) => createOrder(tx, { merchantId: m, direction: 'payout', amount: 1_000n, fee: 50n, merOrderNo: `po-${i}` }));
    const [a, b, c] = [await mk(1), await mk(2), await mk(3)];
    assert.deepEqual(await balances(L.db, m, 'IDR'), { payin: 0n, payout: 6_850n, frozen: 3_150n });
    const to = (o: { order_no: string }, status: 'PAID' | 'FAILED' | 'EXCEPTION' | 'REFUNDED') => L.db.transaction().execute((tx) => move(tx, L, o.order_no, status));
    await to(a, 'PAID');
    await to(b, 'EXCEPTION');
    await to(c, 'FAILED');
    assert.deepEqual(await balances(L.db, m, 'IDR'), { payin: 0n, payout: 7_900n, frozen: 1_050n });
    await to(b, 'FAILED'); // EXCEPTION → FAILED releases
    await to(a, 'REFUNDED'); // the bank sent it back, fee included
    assert.deepEqual(await balances(L.db, m, 'IDR'), { payin: 0n, payout: 10_000n, frozen: 0n });
    const kinds = await L.db.selectFrom('journal_entries').select('id').where('order_no', '=', a.order_no).orderBy('id').execute();
    assert.deepEqual(kinds.map((k) => k.id), [`payout.freeze:${a.order_no}`, `payout.paid:${a.order_no}`, `payout.returned:${a.order_no}`]);
    assert.deepEqual(await checkLedger(L.db), []);
  });

  it('a payout the balance cannot cover is refused at creation', T, async () => {
    const m = await newMerchant(L.db);
    await credit(m, 999n);
    await assert.rejects(L.db.transaction().execute((tx) => createOrder(tx, { merchantId: m, direction: 'payout', amount: 950n, fee: 50n })), is422);
    assert.deepEqual(await balances(L.db, m, 'IDR'), { payin: 0n, payout: 999n, frozen: 0n });
  });

  it('operator transfer and adjust are audited; overdrafts, bad input and unknown merchants are refused', T, async () => {
    const m = await newMerchant(L.db);
    await paidPayin(L, m, 20_000n, 0n);
    const out = await L.db.transaction().execute((tx) =>
      transfer(tx, op, { merchantId: m, currency: 'IDR', from: 'payin', to: 'payout', amount: 15_050n, reason: 'weekly settlement', operationId: 'op_fixed' }),
    );
    assert.equal(out.entryId, 'op.transfer:op_fixed');
    assert.deepEqual(out.balances, { payin: 4_950n, payout: 15_050n, frozen: 0n });
    const again = await L.db.transaction().execute((tx) => transfer(tx, op, { merchantId: m, currency: 'IDR', from: 'payin', to: 'payout', amount: 15_050n, operationId: 'op_fixed' }));
    assert.equal(again.result, 'duplicate');
    assert.deepEqual(again.balances, out.balances);
    const other = L.db.transaction().execute((tx) => transfer(tx, op, { merchantId: m, currency: 'IDR', from: 'payin', to: 'payout', amount: 1n, operationId: 'op_fixed' }));
    await assert.rejects(other, (err: unknown) => err instanceof AppError && err.status === 409);
    await assert.rejects(L.db.transaction().execute((tx) => transfer(tx, op, { merchantId: m, currency: 'IDR', from: 'payin', to: 'payout', amount: 4_951n })), is422);
    const debit = await L.db.transaction().execute((tx) => adjust(tx, op, { merchantId: m, currency: 'IDR', account: 'payout', amount: -50n, reason: 'chargeback fee' }));
    assert.deepEqual(debit.balances, { payin: 4_950n, payout: 15_000n, frozen: 0n });
    await assert.rejects(L.db.transaction().execute((tx) => adjust(tx, op, { merchantId: m, currency: 'IDR', account: 'payout', amount: -15_001n, reason: 'too much' })), is422);
    const status = (err: unknown) => (err instanceof AppError ? err.status : 0);
    const refusedWith = async (p: Promise<unknown>, code: number) => assert.equal(await p.then(() => 0, status), code);
    await refusedWith(L.db.transaction().execute((tx) => adjust(tx, op, { merchantId: m, currency: 'IDR', account: 'payout', amount: 5n, reason: ' ' })), 400);
    await refusedWith(L.db.transaction().execute((tx) => adjust(tx, op, { merchantId: m, currency: 'IDR', account: 'payout', amount: 0n, reason: 'zero' })), 400);
    await refusedWith(L.db.transaction().execute((tx) => transfer(tx, op, { merchantId: m, currency: 'BRL', from: 'payin', to: 'payout', amount: 1n })), 422);
    await refusedWith(L.db.transaction().execute((tx) => transfer(tx, op, { merchantId: 'mch_nobody', currency: 'IDR', from: 'payin', to: 'payout', amount: 1n })), 404);
    const audit = await L.db.selectFrom('audit_log').select(['actor', 'action', 'reason', 'detail']).where('subject', '=', m).where('action', 'like', 'balance.%').orderBy('id').execute();
    assert.deepEqual(
      audit.map((a) => [a.actor, a.action, a.reason]),
      [
        ['cli:tester', 'balance.transfer', 'weekly settlement'],
        ['cli:tester', 'balance.adjust', 'chargeback fee'],
      ],
    );
    assert.deepEqual(JSON.parse(audit[0]!.detail!), { entryId: 'op.transfer:op_fixed', currency: 'IDR', from: 'payin', to: 'payout', amount: '150.5' });
    assert.deepEqual(await checkLedger(L.db), []);
  });

  it('balances are per currency, zero for accounts never used', T, async () => {
    const m = await newMerchant(L.db, ['MXN', 'IDR']);
    await credit(m, 12_345n, 'MXN');
    assert.deepEqual(await getBalance(L.db, m, undefined), { currency: 'MXN', payin: 0n, payout: 12_345n, frozen: 0n, owed: 0n });
    assert.deepEqual(await getBalance(L.db, m, 'IDR'), { currency: 'IDR', payin: 0n, payout: 0n, frozen: 0n, owed: 0n });
  });
});
