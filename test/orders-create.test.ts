/**
 * New orders written together (the batched create of pay-ins): one statement
 * for the orders and one for their history, the unique constraint deciding
 * duplicates (also two in the same batch), the effects of a born state; and
 * the transition of an order as its caller last saw it; and every order row,
 * written, read or updated, with the same columns in the same order.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { TEST_DB } from './helpers/db.ts';
import { notifications, orderEvents, payinBody } from './helpers/payins.ts';
import type { Credentials } from '../src/modules/merchants/merchant.service.ts';
import { createOrders, findCommittedOrdersByRef, findOrder, findOrderForUpdate, transitionKnownOrder, type NewOrder, type Transition } from '../src/modules/orders/order.service.ts';
import { newOrderRow, parseOrderRequest, requestHash } from '../src/modules/orders/order.request.ts';
import type { OrderRow } from '../src/platform/db/schema.ts';
import { ORDER_COLUMN_NAMES, orderFromValues } from '../src/modules/orders/order.repository.ts';

describe(`createOrders: several new orders in one transaction (${TEST_DB})`, () => {
  let gw: TestGateway;
  let creds: Credentials;
  before(async () => {
    gw = await startGateway();
    creds = await gw.merchant(['MXN']);
  });
  after(() => gw.close());

  const rowFor = (body: Record<string, unknown>): OrderRow => {
    // Amounts as text: a JSON number's exact digits come from the request parser.
    const req = parseOrderRequest({ ...body, amount: String(body.amount) }, 'payin', { requireHttps: false });
    const now = gw.clock.now();
    return newOrderRow('payin', { merchantId: creds.merchantId, appId: creds.appId, generation: 'v3' }, req, requestHash(req), now, { channel: 'sandbox', expiresAt: now + 60_000 });
  };
  const write = (orders: NewOrder[]) => gw.core.transact((tx) => createOrders(tx, gw.app.services.payins, orders));
  const accepted = { to: 'PENDING' as const, cause: 'channel' as const, actor: 'channel:sandbox', changes: { channel_ref: 'sbx_1', params: '{"clabe":"x"}' } };
  const refused = { to: 'FAILED' as const, cause: 'channel' as const, actor: 'channel:sandbox', changes: { message: 'refused', fee: 0n }, detail: { channelAnswer: 'refused' } };

  test('born PENDING, born FAILED, plain CREATED, a duplicate in the batch and one already stored: each gets its own answer', async () => {
    const existing = rowFor(payinBody());
    assert.ok((await write([{ row: existing, actor: 'merchant:a' }]))[0]);
    const twinBody = payinBody();
    const pending = rowFor(payinBody());
    const failed = rowFor(payinBody());
    const plain = rowFor(payinBody());
    const twin1 = rowFor(twinBody);
    const twin2 = rowFor(twinBody);
    const again = { ...rowFor({ ...payinBody(), merOrderNo: existing.mer_order_no }) };
    const result = await write([
      { row: pending, actor: 'merchant:a', answered: accepted },
      { row: twin1, actor: 'merchant:a' },
      { row: failed, actor: 'merchant:a', answered: refused },
      { row: again, actor: 'merchant:a', answered: accepted },
      { row: plain, actor: 'merchant:a' },
      { row: twin2, actor: 'merchant:a' },
    ]);
    assert.deepEqual(
      result.map((o) => o && [o.order_no, o.status, o.version]),
      [[pending.order_no, 'PENDING', 1n], [twin1.order_no, 'CREATED', 0n], [failed.order_no, 'FAILED', 1n], undefined, [plain.order_no, 'CREATED', 0n], undefined],
    );
    assert.equal(result[0]!.channel_ref, 'sbx_1');
    assert.equal(result[2]!.message, 'refused');
    const history = async (o: OrderRow) => (await orderEvents(gw, o.order_no)).map((e) => [e.seq, e.from_status, e.to_status, e.cause, e.actor]);
    assert.deepEqual(await history(pending), [[0n, null, 'CREATED', 'create', 'merchant:a'], [1n, 'CREATED', 'PENDING', 'channel', 'channel:sandbox']]);
    assert.deepEqual(await history(failed), [[0n, null, 'CREATED', 'create', 'merchant:a'], [1n, 'CREATED', 'FAILED', 'channel', 'channel:sandbox']]);
    assert.deepEqual(await history(plain), [[0n, null, 'CREATED', 'create', 'merchant:a']]);
    assert.deepEqual(await history(again), [], 'the order that lost to a stored one has no history');
    assert.deepEqual(await history(twin2), [], 'the second of two in one batch lost to the first');
    // Effects of the born state: the FAILED order's notification, none for the others.
    assert.deepEqual((await notifications(gw, failed.order_no)).map((n) => n.status), ['FAILED']);
    assert.deepEqual(await notifications(gw, pending.order_no), []);
  });

  test('a born state the state machine refuses (CREATED → REFUNDED) writes nothing', async () => {
    const row = rowFor(payinBody());
    const other = rowFor(payinBody());
    await assert.rejects(write([{ row: other, actor: 'merchant:a' }, { row, actor: 'merchant:a', answered: { ...accepted, to: 'REFUNDED' } }]), /cannot become REFUNDED/);
    const stored = await gw.core.db.selectFrom('orders').select('order_no').where('order_no', 'in', [row.order_no, other.order_no]).execute();
    assert.deepEqual(stored, []);
  });

  test('several references looked up in one statement: each answers its own order or nothing', async () => {
    const a = rowFor(payinBody());
    const b = rowFor(payinBody());
    await write([{ row: a, actor: 'merchant:a' }, { row: b, actor: 'merchant:a' }]);
    const ref = (o: OrderRow) => ({ merchantId: o.merchant_id, direction: o.direction, merOrderNo: o.mer_order_no });
    const found = await findCommittedOrdersByRef(gw.core.db, [ref(b), { ...ref(a), direction: 'payout' }, ref(a), { ...ref(a), merchantId: 'm_other' }, ref(b)]);
    assert.deepEqual(
      found.map((o) => o?.order_no),
      [b.order_no, undefined, a.order_no, undefined, b.order_no],
    );
  });

  test('a transition of a known row: applied on that version; decided again on the stored row when it moved since', async () => {
    const deps = gw.app.services.payins;
    const [created] = await write([{ row: rowFor(payinBody()), actor: 'merchant:a' }]);
    const move = (known: OrderRow, t: Transition) => gw.core.transact((tx) => transitionKnownOrder(tx, deps, known, t));
    const paid = { to: 'PAID' as const, cause: 'channel' as const, actor: 'channel:sandbox', changes: { paid_amount: created!.amount } };

    const pending = await move(created!, accepted);
    assert.deepEqual([pending.kind, pending.order.status, pending.order.version], ['applied', 'PENDING', 1n]);
    // The caller's row is stale (CREATED, version 0): PENDING again is a no-op on the stored row, not a second change.
    const again = await move(created!, accepted);
    assert.deepEqual([again.kind, again.order.status, again.order.version], ['noop', 'PENDING', 1n]);
    // Stale CREATED → PAID would apply on the caller's row; it applies to the stored PENDING row, version 1 → 2.
    const fromStale = await move(created!, paid);
    assert.deepEqual([fromStale.kind, fromStale.order.status, fromStale.order.version], ['applied', 'PAID', 2n]);
    // And a stale PENDING row cannot make a PAID order FAILED.
    const late = await move(pending.order, refused);
    assert.deepEqual([late.kind, late.order.status], ['refused', 'PAID']);
    const history = (await orderEvents(gw, created!.order_no)).map((e) => [e.seq, e.from_status, e.to_status]);
    assert.deepEqual(history, [[0n, null, 'CREATED'], [1n, 'CREATED', 'PENDING'], [2n, 'PENDING', 'PAID']]);
  });
  test('every order row has the columns in one order, whether written, read or updated, each value under its own column', async () => {
    const byName = orderFromValues(ORDER_COLUMN_NAMES);
    assert.deepEqual(Object.keys(byName), ORDER_COLUMN_NAMES);
    for (const [key, value] of Object.entries(byName)) assert.equal(value, key);

    const [written] = await write([{ row: rowFor(payinBody()), actor: 'merchant:a', answered: accepted }]);
    const stored = await gw.core.db.selectFrom('orders').selectAll().where('order_no', '=', written!.order_no).executeTakeFirstOrThrow();
    assert.deepEqual(Object.keys(stored).sort(), [...ORDER_COLUMN_NAMES].sort(), 'the columns of the table are the columns listed');
    const read = await findOrder(gw.core.db, written!.order_no);
    const locked = await gw.core.transact((tx) => findOrderForUpdate(tx, written!.order_no));
    const [byRef] = await findCommittedOrdersByRef(gw.core.db, [{ merchantId: creds.merchantId, direction: 'payin', merOrderNo: written!.mer_order_no }]);
    const moved = await gw.core.transact((tx) => transitionKnownOrder(tx, gw.app.services.payins, written!, { to: 'PAID', cause: 'channel', actor: 'channel:sandbox', changes: { paid_amount: written!.amount } }));
    for (const row of [written, read, locked, byRef, moved.order]) assert.deepEqual(Object.keys(row!), ORDER_COLUMN_NAMES);
    assert.deepEqual(read, written);
    assert.deepEqual(byRef, written);
    assert.equal(moved.order.status, 'PAID');
  });
});
