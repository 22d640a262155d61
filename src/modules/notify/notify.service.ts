import type { Db } from '../../platform/db/database.ts';
import type { OrderRow } from '../../platform/db/schema.ts';
import { newId } from '../../platform/ids.ts';
import { isNotifiable, type OrderStatus } from '../orders/order.ts';
import { notificationPayload } from './notify.payload.ts';

/**
 * Writes the notification of an order's change, in the transaction of that
 * change: committed together, or not at all. One row per change; its id is
 * the notification id merchants see in `webhook-id`, stable across retries.
 */
export async function enqueueOrderNotification(tx: Db, now: number, publicUrl: string, after: OrderRow): Promise<string | undefined> {
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
      payload: JSON.stringify(notificationPayload(after, publicUrl)),
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
  return id;
}
