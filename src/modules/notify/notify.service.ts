import { sql } from 'kysely';
import { dialectOf, type Db } from '../../platform/db/database.ts';
import type { NotificationRow, OrderRow } from '../../platform/db/schema.ts';
import { conflict, notFound } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import { isNotifiable, type OrderStatus } from '../orders/order.ts';
import { notificationPayload } from './notify.payload.ts';
import * as repo from './notify.repository.ts';
import type { CashierLink } from '../orders/cashier-link.ts';

/** The destination a URL's requests share sockets (and limits) with. */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/** PostgreSQL channel a commit that enqueued notifications signals on. */
export const NOTIFY_CHANNEL = 'pagoda_notify';

/**
 * Writes the notification of an order's change, in the transaction of that
 * change: committed together, or not at all. One row per change; its id is
 * the notification id merchants see in `webhook-id`, stable across retries.
 * On PostgreSQL the commit also wakes every worker (NOTIFY is transactional).
 */
export async function enqueueOrderNotification(tx: Db, now: number, cashierLink: CashierLink, after: OrderRow): Promise<string | undefined> {
  if (!isNotifiable(after.status as OrderStatus)) return undefined;
  const id = newId('ntf_', now);
  await tx
    .insertInto('notifications')
    .values({
      id,
      order_no: after.order_no,
      merchant_id: after.merchant_id,
      app_id: after.app_id,
      status: after.status,
      url: after.notify_url,
      origin: originOf(after.notify_url),
      payload: JSON.stringify(notificationPayload(after, cashierLink)),
      state: 'pending',
      attempts: 0n,
      next_attempt_at: now,
      lease_until: null,
      last_error: null,
      created_at: now,
      updated_at: now,
      delivered_at: null,
    })
    .execute();
  if (dialectOf(tx) === 'postgres') await sql`select pg_notify(${NOTIFY_CHANNEL}, '')`.execute(tx);
  return id;
}

/** A fresh schedule for the order's latest notification (operator, or the merchant that owns it). */
export async function resendNotification(db: Db, now: number, orderNo: string, merchantId?: string): Promise<NotificationRow> {
  const own = await repo.listNotifications(db, { orderNo, limit: 1, ...(merchantId ? { merchantId } : {}) });
  if (own.length === 0) {
    // Another merchant's order is as unknown as one that does not exist.
    const known = await repo.orderExists(db, orderNo, merchantId);
    throw notFound(known ? `order ${orderNo} has no notification to resend` : `order ${orderNo} does not exist`);
  }
  const resent = await repo.resendLatest(db, orderNo, now);
  if (!resent) throw notFound(`order ${orderNo} has no notification to resend`);
  if (!resent.restarted) throw conflict(`a delivery of order ${orderNo}'s notification is under way; resend it when that attempt ends`);
  if (dialectOf(db) === 'postgres') await sql`select pg_notify(${NOTIFY_CHANNEL}, '')`.execute(db);
  return resent.row;
}

export { listNotifications, listAttempts, backlog } from './notify.repository.ts';
