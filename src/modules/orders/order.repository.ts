import { sql } from 'kysely';
import { committedRead, dialectOf, type Db } from '../../platform/db/database.ts';
import type { NewOrderRow, OrderRow } from '../../platform/db/schema.ts';

/** Inserts unless the merchant already has this merOrderNo in this direction; the stored row, or undefined when it had. */
export async function insertOrderIfAbsent(db: Db, row: NewOrderRow): Promise<OrderRow | undefined> {
  return db
    .insertInto('orders')
    .values(row)
    .onConflict((oc) => oc.columns(['merchant_id', 'direction', 'mer_order_no']).doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function findOrder(db: Db, orderNo: string): Promise<OrderRow | undefined> {
  return db.selectFrom('orders').selectAll().where('order_no', '=', orderNo).executeTakeFirst();
}

/** The row, locked for the rest of the transaction on PostgreSQL (SQLite transactions are already exclusive). */
export async function findOrderForUpdate(db: Db, orderNo: string): Promise<OrderRow | undefined> {
  const query = db.selectFrom('orders').selectAll().where('order_no', '=', orderNo);
  return (dialectOf(db) === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
}

/** Committed state only (a read outside any transaction): whether a create is a retry. */
export function findCommittedOrderByRef(db: Db, merchantId: string, direction: string, merOrderNo: string): Promise<OrderRow | undefined> {
  const read = committedRead(db, 'orders.byRef', (d) =>
    d.selectFrom('orders').selectAll().where('merchant_id', '=', '').where('direction', '=', '').where('mer_order_no', '=', ''),
  );
  return read([merchantId, direction, merOrderNo]).then((rows) => rows[0]);
}

export async function findOrderByRef(db: Db, merchantId: string, direction: string, merOrderNo: string): Promise<OrderRow | undefined> {
  return db
    .selectFrom('orders')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('direction', '=', direction)
    .where('mer_order_no', '=', merOrderNo)
    .executeTakeFirst();
}

export type OrderChanges = Partial<Pick<OrderRow, 'status' | 'paid_amount' | 'fee' | 'channel_ref' | 'params' | 'message' | 'method' | 'channel' | 'acknowledged' | 'expires_at'>>;

/** Applies changes only if nobody changed the row since it was read (version check); the new row, or undefined when not applied. */
export async function updateOrder(db: Db, order: OrderRow, changes: OrderChanges, now: number): Promise<OrderRow | undefined> {
  return db
    .updateTable('orders')
    .set({ ...changes, updated_at: now, version: sql<bigint>`version + 1` })
    .where('order_no', '=', order.order_no)
    .where('version', '=', order.version)
    .returningAll()
    .executeTakeFirst();
}

export async function insertOrderEvent(
  db: Db,
  event: { id: string; order_no: string; seq: bigint; from_status: string | null; to_status: string; cause: string; actor: string; detail: string | null; created_at: number },
): Promise<void> {
  await db.insertInto('order_events').values(event).execute();
}

export async function listOrderEvents(db: Db, orderNo: string) {
  return db.selectFrom('order_events').selectAll().where('order_no', '=', orderNo).orderBy('seq').execute();
}

/** Pay-ins past their expiry still waiting for payment, oldest first. */
export async function findExpiredPayins(db: Db, now: number, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('orders')
    .select('order_no')
    .where('direction', '=', 'payin')
    .where('status', 'in', ['CREATED', 'PENDING'])
    .where('expires_at', '<=', BigInt(now))
    .orderBy('expires_at')
    .limit(limit)
    .execute();
  return rows.map((r) => r.order_no);
}

/** v2 orders whose PAID notification was acknowledged show status 3 from then on. */
export async function markAcknowledged(db: Db, orderNos: readonly string[], now: number): Promise<void> {
  if (orderNos.length === 0) return;
  await db
    .updateTable('orders')
    .set({ acknowledged: 1n, updated_at: now, version: sql<bigint>`version + 1` })
    .where('order_no', 'in', [...orderNos])
    .where('status', '=', 'PAID')
    .where('acknowledged', '=', 0n)
    .execute();
}

/** Remembers an upstream report; false when the same report was applied before. */
export async function recordChannelEvent(db: Db, channel: string, eventId: string, orderNo: string, now: number): Promise<boolean> {
  const result = await db
    .insertInto('channel_events')
    .values({ channel, event_id: eventId, order_no: orderNo, received_at: now })
    .onConflict((oc) => oc.columns(['channel', 'event_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}
