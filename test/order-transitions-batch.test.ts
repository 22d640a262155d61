/**
 * Channel answers written together (the batched transitions of PostgreSQL):
 * which batches may be one statement outside any transaction, and that the
 * statement writes each order's change and history entry exactly as one
 * transition does, skipping an order whose row changed since it was read.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { applyPlainTransitions, listOrderEvents, plainTransitions, type KnownTransition, type OrderDeps, type Transition } from '../src/modules/orders/order.service.ts';
import type { OrderRow } from '../src/platform/db/schema.ts';
import { TEST_DB } from './helpers/db.ts';
import { createOrder, move, openWithEffects, T0, type LedgerDb } from './ledger.fixtures.ts';

let ledger: LedgerDb;
let deps: OrderDeps;
let merchantId: string;

before(async () => {
  ({ ledger, deps, merchantId } = await openWithEffects(10_000_000n));
});
after(() => ledger.close());

const payout = (amount = 10_000n) => ledger.db.transaction().execute((tx) => createOrder(tx, { merchantId, direction: 'payout', amount }));
const accepted = (ref: string): Transition => ({ to: 'PENDING', cause: 'channel', actor: 'channel:sandbox', changes: { channel_ref: ref } });

describe('plainTransitions: which answers may be written as one statement', () => {
  const row = { order_no: 'PO1', direction: 'payout', status: 'CREATED', version: 0n } as OrderRow;
  const other = { ...row, order_no: 'PO2' };
  const cases: { name: string; items: KnownTransition[]; plain: boolean }[] = [
    { name: 'accepted payouts, same columns', items: [{ order: row, t: accepted('a') }, { order: other, t: accepted('b') }], plain: true },
    { name: 'a single accepted payout', items: [{ order: row, t: accepted('a') }], plain: true },
    { name: 'no transitions', items: [], plain: true },
    { name: 'the same order twice', items: [{ order: row, t: accepted('a') }, { order: row, t: accepted('b') }], plain: false },
    {
      name: 'different columns changed',
      items: [{ order: row, t: accepted('a') }, { order: other, t: { to: 'PENDING', cause: 'channel', actor: 'x', changes: { channel_ref: 'b', message: null } } }],
      plain: false,
    },
    { name: 'a refused payout releases its funds (an effect)', items: [{ order: row, t: { to: 'FAILED', cause: 'channel', actor: 'x', changes: { message: 'no' } } }], plain: false },
    { name: 'an unknown outcome notifies (an effect)', items: [{ order: row, t: { to: 'EXCEPTION', cause: 'channel', actor: 'x', changes: { message: 'timeout' } } }], plain: false },
    { name: 'a transition the state machine refuses', items: [{ order: { ...row, status: 'PAID' }, t: accepted('a') }], plain: false },
    { name: 'a repeated transition (no-op)', items: [{ order: { ...row, status: 'PENDING' }, t: accepted('a') }], plain: false },
  ];
  for (const c of cases) test(c.name, () => assert.equal(plainTransitions(deps, c.items), c.plain));
});

describe(`applyPlainTransitions (${TEST_DB})`, () => {
  // PostgreSQL: one statement, outside any transaction; SQLite: in the caller's transaction.
  const apply = (items: KnownTransition[]) => (TEST_DB === 'postgres' ? applyPlainTransitions(ledger.db, deps, items) : deps.transact((tx) => applyPlainTransitions(tx, deps, items)));

  test('writes each order and its history entry as one transition would, and skips an order changed since it was read', async () => {
    const [a, b, stale] = [await payout(), await payout(20_000n), await payout()];
    // `stale` moves on after its caller read it: the batch must not apply its answer on the new row.
    await ledger.db.transaction().execute((tx) => move(tx, ledger, stale.order_no, 'EXCEPTION', { message: 'operator looked first' }));
    ledger.clock.advance(5_000);
    const items = [a, b, stale].map((order) => ({ order, t: accepted(`ref-${order.order_no}`) }));
    assert.equal(plainTransitions(deps, items), true);
    const written = await apply(items);

    assert.equal(written[2], undefined);
    for (const [i, order] of [a, b].entries()) {
      const row = written[i]!;
      assert.equal(row.order_no, order.order_no);
      assert.deepEqual([row.status, row.channel_ref, row.version, BigInt(row.updated_at)], ['PENDING', `ref-${order.order_no}`, 1n, BigInt(T0 + 5_000)]);
      const stored = (await ledger.db.selectFrom('orders').selectAll().where('order_no', '=', order.order_no).executeTakeFirstOrThrow()) as OrderRow;
      assert.deepEqual([stored.status, stored.channel_ref, BigInt(stored.version), stored.amount, stored.message], ['PENDING', `ref-${order.order_no}`, 1n, order.amount, null]);
      const history = await listOrderEvents(ledger.db, order.order_no);
      assert.deepEqual(
        history.map((e) => [BigInt(e.seq), e.from_status, e.to_status, e.cause, e.actor, BigInt(e.created_at)]),
        [
          [0n, null, 'CREATED', 'create', 'test', BigInt(T0)],
          [1n, 'CREATED', 'PENDING', 'channel', 'channel:sandbox', BigInt(T0 + 5_000)],
        ],
      );
    }
    const staleRow = await ledger.db.selectFrom('orders').select(['status', 'channel_ref', 'version']).where('order_no', '=', stale.order_no).executeTakeFirstOrThrow();
    assert.deepEqual([staleRow.status, staleRow.channel_ref, BigInt(staleRow.version)], ['EXCEPTION', null, 1n]);
    assert.deepEqual((await listOrderEvents(ledger.db, stale.order_no)).map((e) => e.to_status), ['CREATED', 'EXCEPTION']);
  });

  test('the same answers again change nothing: every row has moved on', async () => {
    const order = await payout();
    const items = [{ order, t: accepted('once') }];
    assert.equal((await apply(items))[0]?.status, 'PENDING');
    assert.deepEqual(await apply(items), [undefined]);
    assert.deepEqual((await listOrderEvents(ledger.db, order.order_no)).map((e) => e.to_status), ['CREATED', 'PENDING']);
  });

  test('changes of different columns in one call are refused before anything is written', async () => {
    const [a, b] = [await payout(), await payout()];
    const items: KnownTransition[] = [
      { order: a, t: accepted('x') },
      { order: b, t: { to: 'PENDING', cause: 'channel', actor: 'x', changes: { channel_ref: 'y', message: 'm' } } },
    ];
    if (TEST_DB === 'postgres') {
      await assert.rejects(apply(items), /changes of different columns/);
      for (const order of [a, b]) assert.deepEqual((await listOrderEvents(ledger.db, order.order_no)).map((e) => e.to_status), ['CREATED']);
    } else {
      // SQLite writes one order after another in the caller's transaction: each as its own change.
      assert.deepEqual((await apply(items)).map((row) => row?.status), ['PENDING', 'PENDING']);
    }
  });
});
