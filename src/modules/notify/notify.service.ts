import { sql } from 'kysely';
import { dialectOf, type Db } from '../../platform/db/database.ts';
import type { NotificationRow, OrderRow } from '../../platform/db/schema.ts';
import { badRequest, conflict, notFound } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import { isNotifiable, type OrderStatus } from '../orders/order.ts';
import { notificationPayload } from './notify.payload.ts';
import * as repo from './notify.repository.ts';
import { recordAudit } from '../audit/audit.service.ts';
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

export interface ResendRequest {
  orderNo: string;
  /** One of the order's notifications (its webhook-id); the latest when left out. */
  notificationId?: string;
  /** The merchant asking (its own orders only); undefined for the operator. */
  merchantId?: string;
  /** The directions the asking app's scope covers (payin, payout); undefined for the operator. */
  directions?: readonly string[];
  /** Who, for the audit log: `cli:<user>` or `merchant:<appId>`. */
  actor: string;
  reason?: string;
}

/** A fresh schedule for one of an order's notifications (operator, or the merchant that owns it); audited. */
export async function resendNotification(db: Db, now: number, req: ResendRequest): Promise<NotificationRow> {
  const { orderNo, notificationId } = req;
  // Another merchant's order, or one outside the app's scope (a pay-in, for a payout-only app), is as unknown as one that does not exist.
  if (!(await repo.orderExists(db, orderNo, req.merchantId, req.directions))) throw notFound(`order ${orderNo} does not exist`);
  if ((await repo.listNotifications(db, { orderNo, limit: 1 })).length === 0) throw notFound(`order ${orderNo} has no notification to resend`);
  const resent = await db.transaction().execute(async (tx) => {
    const found = await repo.resendOne(tx, orderNo, now, notificationId);
    if (found?.restarted) {
      await recordAudit(tx, now, { actor: req.actor, action: 'notify.resend', subject: orderNo, reason: req.reason, detail: { notificationId: found.row.id, status: found.row.status } });
    }
    return found;
  });
  if (!resent) throw notFound(notificationId === undefined ? `order ${orderNo} has no notification to resend` : `order ${orderNo} has no notification ${notificationId}`);
  if (!resent.restarted) throw conflict(`a delivery of order ${orderNo}'s notification is under way; resend it when that attempt ends`);
  if (dialectOf(db) === 'postgres') await sql`select pg_notify(${NOTIFY_CHANNEL}, '')`.execute(db);
  return resent.row;
}

/** Notifications whose last change is at least this old may be pruned, never younger ones. */
export const MIN_PRUNE_AGE_MS = 86_400_000;
/** Notifications read per page of a prune's walk; each page's deletions are one transaction. */
const PRUNE_PAGE = 200;
/**
 * SQLite: the pause after each page's commit, in which a gateway's writes
 * (waiting for the one write lock) get their turn; without it a prune took the
 * lock back at once, and the gateway's requests waited seconds.
 */
const PRUNE_PAUSE_MS = 20;

/** Refuses a prune cut-off younger than MIN_PRUNE_AGE_MS. */
export function checkPruneAge(olderThanMs: number): void {
  if (!(olderThanMs >= MIN_PRUNE_AGE_MS)) throw badRequest('older-than: at least 1d (notifications of the last day are kept)');
}

export interface PruneRequest {
  olderThanMs: number;
  actor: string;
  reason?: string;
}

/**
 * Deletes delivered and exhausted notifications last changed more than
 * `olderThanMs` ago, with their attempts, a page at a time (writers wait for
 * one page at most; on SQLite, after each page, they get the lock first). Pending notifications are never touched. Audited before
 * anything is deleted (so an interrupted prune is on record too), and once
 * more with the counts when done.
 */
export async function pruneNotifications(db: Db, now: number, req: PruneRequest): Promise<{ before: number; notifications: number; attempts: number }> {
  checkPruneAge(req.olderThanMs);
  const before = now - req.olderThanMs;
  await recordAudit(db, now, { actor: req.actor, action: 'notify.prune', subject: 'notifications', reason: req.reason, detail: { before: new Date(before).toISOString() } });
  const total = { notifications: 0, attempts: 0 };
  for (let after: string | undefined = ''; after !== undefined; ) {
    const page: { ids: string[]; next: string | undefined } = await repo.finalBefore(db, before, after, PRUNE_PAGE);
    const deleted = await db.transaction().execute((tx) => repo.deleteFinal(tx, page.ids, before));
    total.notifications += deleted.notifications;
    total.attempts += deleted.attempts;
    after = page.next;
    if (dialectOf(db) === 'sqlite' && deleted.notifications > 0) await new Promise((resolve) => setTimeout(resolve, PRUNE_PAUSE_MS));
  }
  // An interrupted prune has the first row and not this one.
  await recordAudit(db, now, { actor: req.actor, action: 'notify.prune.done', subject: 'notifications', detail: { before: new Date(before).toISOString(), ...total } });
  return { before, ...total };
}

export { listNotifications, listAttempts, backlog } from './notify.repository.ts';
