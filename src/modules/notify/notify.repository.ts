import { sql } from 'kysely';
import { dialectOf, type Db } from '../../platform/db/database.ts';
import type { Insertable } from 'kysely';
import type { NotificationAttemptsTable, NotificationRow } from '../../platform/db/schema.ts';

/**
 * Claims due notifications. A claim pushes `next_attempt_at` past the lease, so
 * the row is not due for anyone else until the lease runs out; a crashed
 * worker's claim therefore comes back by itself. `lease_until` is the claim's
 * token: only its holder may record the outcome.
 */
export async function claimDue(db: Db, now: number, leaseMs: number, limit: number, busyOrigins: readonly string[] = []): Promise<NotificationRow[]> {
  const leaseUntil = BigInt(now + leaseMs);
  if (dialectOf(db) === 'postgres') {
    // Destinations already at their limit are skipped, so one slow merchant's backlog never sits in front of others.
    const skip = busyOrigins.length > 0 ? sql`and origin not in (${sql.join(busyOrigins)})` : sql``;
    const result = await sql<NotificationRow>`
      update notifications set next_attempt_at = ${leaseUntil}, lease_until = ${leaseUntil}, updated_at = ${now}
      where id in (
        select id from notifications
        where state = 'pending' and next_attempt_at <= ${now} ${skip}
        order by next_attempt_at
        limit ${limit}
        for update skip locked)
      returning *`.execute(db);
    return result.rows;
  }
  // SQLite: one writer at a time, so select-then-update inside an immediate transaction is a claim.
  return db.transaction().execute(async (tx) => {
    let query = tx.selectFrom('notifications').select('id').where('state', '=', 'pending').where('next_attempt_at', '<=', BigInt(now));
    if (busyOrigins.length > 0) query = query.where('origin', 'not in', busyOrigins);
    const due = await query
      .orderBy('next_attempt_at')
      .limit(limit)
      .execute();
    if (due.length === 0) return [];
    const ids = due.map((r) => r.id);
    await tx
      .updateTable('notifications')
      .set({ next_attempt_at: leaseUntil, lease_until: leaseUntil, updated_at: now })
      .where('id', 'in', ids)
      .execute();
    return tx.selectFrom('notifications').selectAll().where('id', 'in', ids).execute();
  });
}

export type AttemptRecord = Insertable<NotificationAttemptsTable>;

export async function insertAttempts(db: Db, attempts: readonly AttemptRecord[]): Promise<void> {
  if (attempts.length > 0) await db.insertInto('notification_attempts').values([...attempts]).execute();
}

export interface Settlement {
  id: string;
  /** The claim's token: the outcome is recorded only while the claim still holds it. */
  leaseUntil: bigint | null;
  state: string;
  attempts: bigint;
  nextAttemptAt: number;
  lastError: string | null;
  deliveredAt: number | null;
}

/**
 * Records outcomes whose claims still hold their lease, in one statement
 * (one round trip on PostgreSQL however many there are). Returns the ids
 * recorded; a claim that ran out and was taken again is left to its new holder.
 */
export async function settleMany(db: Db, items: readonly Settlement[], now: number): Promise<Set<string>> {
  if (items.length === 0) return new Set();
  const rows = items.map(
    (i) =>
      sql`(${i.id}, cast(${i.leaseUntil} as bigint), ${i.state}, cast(${i.attempts} as bigint), cast(${i.nextAttemptAt} as bigint), cast(${i.lastError} as text), cast(${i.deliveredAt} as bigint))`,
  );
  const result = await sql<{ id: string }>`
    with v (id, lease_until, state, attempts, next_attempt_at, last_error, delivered_at) as (values ${sql.join(rows)})
    update notifications
    set state = v.state, attempts = v.attempts, next_attempt_at = v.next_attempt_at, last_error = v.last_error,
        delivered_at = v.delivered_at, lease_until = null, updated_at = ${now}
    from v
    where notifications.id = v.id and notifications.lease_until = v.lease_until
    returning notifications.id`.execute(db);
  return new Set(result.rows.map((r) => r.id));
}

/** Gives claims back untouched (their destination was busy): no attempt is counted. */
export async function release(db: Db, claims: readonly NotificationRow[], dueAt: number, now: number): Promise<void> {
  if (claims.length === 0) return;
  // One statement: on SQLite every commit is an fsync.
  await db
    .updateTable('notifications')
    .set({ next_attempt_at: dueAt, lease_until: null, updated_at: now })
    .where('id', 'in', claims.map((n) => n.id))
    .where('lease_until', '=', claims[0]!.lease_until)
    .execute();
}

/** Starts a fresh schedule for the order's latest notification; its id stays the same. */
export async function resendLatest(db: Db, orderNo: string, now: number): Promise<NotificationRow | undefined> {
  const latest = await db
    .selectFrom('notifications')
    .selectAll()
    .where('order_no', '=', orderNo)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!latest) return undefined;
  await db
    .updateTable('notifications')
    .set({ state: 'pending', attempts: 0n, next_attempt_at: now, lease_until: null, last_error: null, delivered_at: null, updated_at: now })
    .where('id', '=', latest.id)
    .execute();
  return db.selectFrom('notifications').selectAll().where('id', '=', latest.id).executeTakeFirst();
}

export async function listNotifications(db: Db, filter: { merchantId?: string; state?: string; orderNo?: string; limit: number }): Promise<NotificationRow[]> {
  let query = db.selectFrom('notifications').selectAll().orderBy('created_at', 'desc').limit(filter.limit);
  if (filter.merchantId) query = query.where('merchant_id', '=', filter.merchantId);
  if (filter.state) query = query.where('state', '=', filter.state);
  if (filter.orderNo) query = query.where('order_no', '=', filter.orderNo);
  return query.execute();
}

export async function listAttempts(db: Db, notificationId: string) {
  return db.selectFrom('notification_attempts').selectAll().where('notification_id', '=', notificationId).orderBy('attempt_no').execute();
}

/** Backlog size and the due time of the oldest due notification, for metrics. */
export async function backlog(db: Db, now: number): Promise<{ due: number; oldestDueAt: number | null }> {
  const row = await db
    .selectFrom('notifications')
    .select((eb) => [eb.fn.countAll<bigint>().as('n'), eb.fn.min('next_attempt_at').as('oldest')])
    .where('state', '=', 'pending')
    .where('next_attempt_at', '<=', BigInt(now))
    .executeTakeFirstOrThrow();
  return { due: Number(row.n), oldestDueAt: row.oldest === null ? null : Number(row.oldest) };
}
