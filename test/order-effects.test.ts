/**
 * The composition root's order effects: `writes(before, after)` must say, for
 * every transition the state machine allows, exactly whether `write` writes
 * anything (a ledger entry or a notification), since a batch of new orders
 * born without effects is written outside a transaction of its own on
 * PostgreSQL. Each edge is taken by a real order on the test database.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decideTransition, ORDER_STATUSES, type Direction, type OrderStatus } from '../src/modules/orders/order.ts';
import { transitionOrder, type OrderDeps } from '../src/modules/orders/order.service.ts';
import type { Db } from '../src/platform/db/database.ts';
import { createOrder, openWithEffects, type LedgerDb } from './ledger.fixtures.ts';

let ledger: LedgerDb;
let deps: OrderDeps;
let merchantId: string;

before(async () => {
  ({ ledger, deps, merchantId } = await openWithEffects(100_000_000n));
});
after(() => ledger.close());

/** Every path from CREATED to an allowed edge's start, shortest first. */
function pathsTo(direction: Direction): Map<OrderStatus, OrderStatus[]> {
  const paths = new Map<OrderStatus, OrderStatus[]>([['CREATED', []]]);
  const queue: OrderStatus[] = ['CREATED'];
  while (queue.length > 0) {
    const from = queue.shift()!;
    for (const to of ORDER_STATUSES) {
      if (paths.has(to) || decideTransition(direction, from, to).kind !== 'apply') continue;
      paths.set(to, [...paths.get(from)!, to]);
      queue.push(to);
    }
  }
  return paths;
}

const changes = (direction: Direction, to: OrderStatus) => (to === 'PAID' ? { paid_amount: 10_000n, fee: direction === 'payin' ? 100n : 0n } : {});

async function rowsWritten(db: Db): Promise<number> {
  const count = async (table: 'journal_entries' | 'postings' | 'notifications') => Number((await db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  return (await count('journal_entries')) + (await count('postings')) + (await count('notifications'));
}

test('effects.writes tells exactly whether effects.write writes, on every allowed transition', async () => {
  let edges = 0;
  for (const direction of ['payin', 'payout'] as const) {
    const paths = pathsTo(direction);
    for (const [from, path] of paths) {
      for (const to of ORDER_STATUSES) {
        if (decideTransition(direction, from, to).kind !== 'apply') continue;
        edges++;
        await ledger.db.transaction().execute(async (tx) => {
          let order = await createOrder(tx, { merchantId, direction, amount: 10_000n });
          for (const step of path) order = (await transitionOrder(tx, deps, order.order_no, { to: step, cause: 'channel', actor: 'test', changes: changes(direction, step) })).order;
          const rowsBefore = await rowsWritten(tx);
          const result = await transitionOrder(tx, deps, order.order_no, { to, cause: 'channel', actor: 'test', changes: changes(direction, to) });
          assert.equal(result.kind, 'applied', `${direction} ${from} → ${to}`);
          const wrote = (await rowsWritten(tx)) !== rowsBefore;
          assert.equal(deps.effects.writes(order, result.order), wrote, `${direction} ${from} → ${to}: writes() says ${!wrote}, write wrote ${wrote ? 'rows' : 'nothing'}`);
        });
      }
    }
  }
  assert.equal(edges, 24, 'every allowed edge of both directions was taken');
});
