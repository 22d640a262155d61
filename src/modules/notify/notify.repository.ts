import { sql, type RawBuilder } from 'kysely';
import { dialectOf, inTransaction, type Db } from '../../platform/db/database.ts';
import { sqlStatement } from '../../platform/db/statement.ts';
import type { Insertable } from 'kysely';
import type { NotificationAttemptsTable, NotificationRow } from '../../platform/db/schema.ts';
import { markAcknowledged } from '../orders/order.repository.ts';

/** Destinations and merchants whose due rows a claim leaves for later. */
export interface ClaimSkips {
  origins?: readonly string[];
  merchants?: readonly string[];
  /** One merchant's rows to one destination: [merchantId, origin]. */
  pairs?: readonly (readonly [string, string])[];
  /** Read the head of the queue only, not the destinations beyond it (see claimDue). */
  headOnly?: boolean;
}

/**
 * How many due rows, from the head of the queue, a claim that leaves some
 * destinations or merchants out reads before it looks pair by pair instead.
 */
export const HEAD_SCAN = 200;

interface Due {
  id: string;
  origin: string;
  merchant_id: string;
  next_attempt_at: bigint | number;
}

/**
 * Claims due notifications, oldest due first, leaving out busy destinations and
 * merchants. A claim pushes `next_attempt_at` past the lease, so the row is not
 * due for anyone else until the lease runs out; a crashed worker's claim
 * therefore comes back by itself. `lease_until` is the claim's token: only its
 * holder may record the outcome.
 *
 * A busy destination's backlog (a merchant whose endpoint is down, with
 * thousands due) can fill the head of the queue. A claim reads at most
 * HEAD_SCAN rows of it; when those are all left out, it takes the oldest due
 * rows of each destination and merchant it lets through from the
 * (state, origin, merchant_id, next_attempt_at) index, so its cost never grows
 * with that backlog (it grows with the number of destination-merchant pairs
 * that have notifications pending: one index seek each; `headOnly` leaves
 * that part out).
 *
 * On PostgreSQL claims run at once in several workers: each locks only the
 * rows it takes, passing over those another holds.
 */
export async function claimDue(db: Db, now: number, leaseMs: number, limit: number, skip: ClaimSkips = {}): Promise<NotificationRow[]> {
  const leaseUntil = BigInt(now + leaseMs);
  const skipped = skipRule(skip);
  if (dialectOf(db) === 'postgres') {
    if (!skipped.any) return claimOldestPg(db, now, leaseUntil, limit);
    const head = await claimAmongPg(
      db,
      now,
      leaseUntil,
      limit,
      sql`select id from (
            select id, origin, merchant_id, next_attempt_at from notifications
            where state = 'pending' and next_attempt_at <= ${now}
            order by next_attempt_at
            limit ${HEAD_SCAN}) as head
          where true ${skipped.sql}`,
    );
    if (head.length === limit || skip.headOnly) return head;
    const taken = [...head];
    try {
      // Beyond the head only if some destination is let through and the head was full.
      if (!(await headWasFull(db, now, head.length))) return head;
      const pairs = (await duePairs(db, now)).filter((pair) => !skipped.skips(pair));
      if (pairs.length === 0) return head;
      const beyond = (sample: number, take: number) =>
        claimAmongPg(
          db,
          now,
          leaseUntil,
          take,
          sql`select c.id from unnest(${pairs.map((p) => p.origin)}::text[], ${pairs.map((p) => p.merchant_id)}::text[]) as d(origin, merchant_id)
              cross join lateral (
                select id, next_attempt_at from notifications
                where state = 'pending' and origin = d.origin and merchant_id = d.merchant_id and next_attempt_at <= ${now}
                order by next_attempt_at
                limit ${sample}) as c
              order by c.next_attempt_at
              limit ${sample}`,
        );
      taken.push(...(await beyond(CLAIM_SAMPLES[0], limit - taken.length)));
      // Short: the candidates were held by claims under way; once more, reading further.
      if (taken.length < limit) taken.push(...(await beyond(CLAIM_SAMPLES[1], limit - taken.length)));
      return taken;
    } catch (err) {
      // What it took is claimed already (each statement on its own, with no transaction around
      // the claim to save two round trips): given back, not held unsent for a lease.
      await release(db, taken, now, now).catch(() => undefined);
      throw err;
    }
  }
  // SQLite: one writer at a time, so select-then-update inside an immediate transaction is a claim.
  return inTransaction(db, async (tx) => {
    const ids = await dueIds(tx, now, limit, skipped, skip.headOnly === true);
    if (ids.length === 0) return [];
    await tx
      .updateTable('notifications')
      .set({ next_attempt_at: leaseUntil, lease_until: leaseUntil, updated_at: now })
      .where('id', 'in', ids)
      .execute();
    return tx.selectFrom('notifications').selectAll().where('id', 'in', ids).execute();
  });
}

/**
 * How many candidates a PostgreSQL claim beyond the head reads: claims made at
 * once pick from the same oldest rows, and each takes those no other has locked
 * (never waiting for one, so never deadlocking). The first reading covers what a
 * few workers' claims under way may hold; a claim that still came back short
 * reads once more, further.
 */
const CLAIM_SAMPLES = [256, 2048] as const;
const leaseSet = (leaseUntil: bigint, now: number) => sql`set next_attempt_at = ${leaseUntil}, lease_until = ${leaseUntil}, updated_at = ${now}`;

/** PostgreSQL, no skips: the oldest due rows, passing over those another claim has locked. */
async function claimOldestPg(db: Db, now: number, leaseUntil: bigint, limit: number): Promise<NotificationRow[]> {
  const claimed = await sql<NotificationRow>`
    update notifications ${leaseSet(leaseUntil, now)}
    where id in (
      select id from notifications
      where state = 'pending' and next_attempt_at <= ${now}
      order by next_attempt_at
      limit ${limit}
      for update skip locked)
    returning *`.execute(db);
  return claimed.rows;
}

/**
 * PostgreSQL: up to `limit` of the candidate ids, oldest due first, that are
 * still due and that no other claim has locked. Only the rows taken are locked:
 * a claim holding the rows it merely read would keep the next claim from them.
 */
async function claimAmongPg(db: Db, now: number, leaseUntil: bigint, limit: number, candidates: RawBuilder<unknown>): Promise<NotificationRow[]> {
  const claimed = await sql<NotificationRow>`
    update notifications ${leaseSet(leaseUntil, now)}
    where id in (
      select id from notifications
      where id in (${candidates}) and state = 'pending' and next_attempt_at <= ${now}
      order by next_attempt_at
      limit ${limit}
      for update skip locked)
    returning *`.execute(db);
  return claimed.rows;
}

/** The skips as SQL conditions on a row's `origin` and `merchant_id` (to follow `where …`), and as tests of a row read. */
function skipRule(skip: ClaimSkips) {
  const origins = skip.origins ?? [];
  const merchants = skip.merchants ?? [];
  const pairs = skip.pairs ?? [];
  const parts = [
    ...(origins.length > 0 ? [sql`and origin not in (${sql.join(origins)})`] : []),
    ...(merchants.length > 0 ? [sql`and merchant_id not in (${sql.join(merchants)})`] : []),
    ...(pairs.length > 0 ? [sql`and not (${sql.join(pairs.map(([m, o]) => sql`(merchant_id = ${m} and origin = ${o})`), sql` or `)})`] : []),
  ];
  const originSet = new Set(origins);
  const merchantSet = new Set(merchants);
  const pairSet = new Set(pairs.map(([m, o]) => `${m} ${o}`));
  return {
    any: parts.length > 0,
    sql: sql.join(parts, sql` `),
    skips: (row: Pick<Due, 'origin' | 'merchant_id'>) => originSet.has(row.origin) || merchantSet.has(row.merchant_id) || pairSet.has(`${row.merchant_id} ${row.origin}`),
  };
}

/**
 * Whether HEAD_SCAN rows or more were due before a claim took `claimed` of them
 * (then rows beyond the head may be due too, and a claim must look pair by
 * pair).
 */
async function headWasFull(db: Db, now: number, claimed: number): Promise<boolean> {
  const rest = HEAD_SCAN - claimed;
  const head = await sql<{ n: number | bigint }>`
    select count(*) as n from (select 1 from notifications where state = 'pending' and next_attempt_at <= ${now} limit ${rest}) as head`.execute(db);
  return Number(head.rows[0]!.n) >= rest;
}

const byDue = (a: Due, b: Due) => (a.next_attempt_at < b.next_attempt_at ? -1 : a.next_attempt_at > b.next_attempt_at ? 1 : a.id < b.id ? -1 : 1);

/** SQLite: the ids a claim takes (its statements run synchronously on the transaction's connection, each a few microseconds). */
async function dueIds(tx: Db, now: number, limit: number, skipped: ReturnType<typeof skipRule>, headOnly: boolean): Promise<string[]> {
  const head = await sql<Due>`
    select id, origin, merchant_id, next_attempt_at from notifications
    where state = 'pending' and next_attempt_at <= ${now}
    order by next_attempt_at
    limit ${skipped.any ? HEAD_SCAN : limit}`.execute(tx);
  const taken = head.rows.filter((row) => !skipped.skips(row)).slice(0, limit);
  if (taken.length === limit || head.rows.length < HEAD_SCAN || !skipped.any || headOnly) return taken.map((row) => row.id);
  const found: Due[] = [];
  for (const pair of await duePairs(tx, now)) {
    if (skipped.skips(pair)) continue;
    found.push(...(await pairDue(tx, [pair.origin, pair.merchant_id, now, limit])));
  }
  return found.sort(byDue).slice(0, limit).map((row) => row.id);
}

type Pair = { origin: string; merchant_id: string };

const pairDue = sqlStatement<Due>(
  `select id, origin, merchant_id, next_attempt_at from notifications
   where state = 'pending' and origin = ? and merchant_id = ? and next_attempt_at <= ?
   order by next_attempt_at limit ?`,
);
// Each pair's first row in the origin index is its oldest: when that is not due, none of the pair's is.
const firstPair = sqlStatement<Due>(`select id, origin, merchant_id, next_attempt_at from notifications where state = 'pending' order by origin, merchant_id, next_attempt_at limit 1`);
const nextMerchant = sqlStatement<Due>(
  `select id, origin, merchant_id, next_attempt_at from notifications where state = 'pending' and origin = ? and merchant_id > ? order by merchant_id, next_attempt_at limit 1`,
);
const nextOrigin = sqlStatement<Due>(`select id, origin, merchant_id, next_attempt_at from notifications where state = 'pending' and origin > ? order by origin, merchant_id, next_attempt_at limit 1`);

/**
 * The destinations and merchants that have due notifications, each pair found
 * by a seek in the origin index, which also gives its oldest row: a pair whose
 * retries are all scheduled later costs that seek only. SQLite walks them
 * statement by statement (each a few microseconds; given the last pair as a
 * correlated row value, it read the index from its start instead).
 */
async function duePairs(db: Db, now: number): Promise<Pair[]> {
  if (dialectOf(db) === 'postgres') {
    const rows = await sql<Pair>`
      with recursive pairs(origin, merchant_id, due) as (
        (select origin, merchant_id, next_attempt_at from notifications where state = 'pending' order by origin, merchant_id, next_attempt_at limit 1)
        union all
        select n.origin, n.merchant_id, n.next_attempt_at from pairs p
        cross join lateral (
          select origin, merchant_id, next_attempt_at from notifications
          where state = 'pending' and (origin, merchant_id) > (p.origin, p.merchant_id)
          order by origin, merchant_id, next_attempt_at limit 1) as n
      )
      select origin, merchant_id from pairs where due <= ${now}`.execute(db);
    return rows.rows;
  }
  const pairs: Pair[] = [];
  let at = (await firstPair(db, []))[0];
  while (at) {
    if (Number(at.next_attempt_at) <= now) pairs.push(at);
    at = (await nextMerchant(db, [at.origin, at.merchant_id]))[0] ?? (await nextOrigin(db, [at.origin]))[0];
  }
  return pairs;
}

export type AttemptRecord = Insertable<NotificationAttemptsTable>;

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

/** One finished attempt: the notification's new state, and the attempt's own row. */
export interface Outcome {
  /** The notification attempted: its order, and the order status it told of. */
  notification: Pick<NotificationRow, 'order_no' | 'status'>;
  settlement: Settlement;
  attempt: Omit<AttemptRecord, 'outcome'>;
  acknowledged: boolean;
}

/**
 * Records finished attempts and returns the ids whose claim still held its
 * lease. Those get their new state; a claim that ran out and was taken again is
 * left to its new holder, and its attempt is recorded as `superseded`. An
 * acknowledged PAID notification marks its order acknowledged (v2 status 3).
 * On PostgreSQL this is one statement (atomic by itself, one round trip);
 * on SQLite, call it inside a transaction.
 */
export async function recordOutcomes(db: Db, outcomes: readonly Outcome[], now: number): Promise<Set<string>> {
  if (outcomes.length === 0) return new Set();
  if (dialectOf(db) === 'postgres') return recordInOneStatement(db, outcomes, now);
  const settled = await settleMany(
    db,
    outcomes.map((o) => o.settlement),
    now,
  );
  await db
    .insertInto('notification_attempts')
    .values(outcomes.map((o) => ({ ...o.attempt, outcome: attemptOutcome(o, settled.has(o.settlement.id)) })))
    .execute();
  const paidAcknowledged = outcomes.filter((o) => o.acknowledged && o.notification.status === 'PAID' && settled.has(o.settlement.id));
  await markAcknowledged(
    db,
    paidAcknowledged.map((o) => o.notification.order_no),
  );
  return settled;
}

function attemptOutcome(o: Outcome, settled: boolean): 'superseded' | 'delivered' | 'failed' {
  return !settled ? 'superseded' : o.acknowledged ? 'delivered' : 'failed';
}

const bigintOf = (v: bigint | number | null) => sql`cast(${v} as bigint)`;
// A NUL (from a receiver's words in an error, say) cannot be in a PostgreSQL text: it would fail the whole record.
const textOf = (v: string | null) => sql`cast(${v === null ? null : v.replaceAll('\0', '\uFFFD')} as text)`;

/** The settlement columns of one outcome, in the order of the `v` tables below. */
function settlementValues(s: Settlement) {
  return [sql`${s.id}`, bigintOf(s.leaseUntil), sql`${s.state}`, bigintOf(s.attempts), bigintOf(s.nextAttemptAt), textOf(s.lastError), bigintOf(s.deliveredAt)];
}

const SETTLEMENT_COLUMNS = sql.raw('id, lease_until, state, attempts, next_attempt_at, last_error, delivered_at');

/** The update of each claimed row from the settlements in `v`, where its claim still holds. */
const settleFromV = (now: number) => sql`
  update notifications
  set state = v.state, attempts = v.attempts, next_attempt_at = v.next_attempt_at, last_error = v.last_error,
      delivered_at = v.delivered_at, lease_until = null, updated_at = ${now}
  from v
  where notifications.id = v.id and notifications.lease_until = v.lease_until`;

/** Sets each notification's new state where its claim still holds; returns the ids set. */
async function settleMany(db: Db, items: readonly Settlement[], now: number): Promise<Set<string>> {
  if (items.length === 0) return new Set();
  const rows = items.map((i) => sql`(${sql.join(settlementValues(i))})`);
  const result = await sql<{ id: string }>`
    with v (${SETTLEMENT_COLUMNS}) as (values ${sql.join(rows)})
    ${settleFromV(now)}
    returning notifications.id`.execute(db);
  return new Set(result.rows.map((r) => r.id));
}

/** PostgreSQL: settlement, attempt rows and acknowledged orders in one statement (data-modifying CTEs). */
async function recordInOneStatement(db: Db, outcomes: readonly Outcome[], now: number): Promise<Set<string>> {
  const rows = outcomes.map(({ settlement, attempt: a, acknowledged }) => {
    const values = [
      ...settlementValues(settlement),
      sql`${a.id}`,
      bigintOf(a.attempt_no),
      bigintOf(a.started_at),
      sql`${a.url}`,
      sql`${a.request_headers}`,
      sql`${a.request_body}`,
      bigintOf(a.response_status ?? null),
      textOf(a.response_body ?? null),
      bigintOf(a.duration_ms),
      textOf(a.error_class ?? null),
      textOf(a.reason ?? null),
      sql`cast(${acknowledged} as boolean)`,
    ];
    return sql`(${sql.join(values)})`;
  });
  const result = await sql<{ id: string }>`
    with v (${SETTLEMENT_COLUMNS}, attempt_id, attempt_no, started_at, url, request_headers, request_body,
            response_status, response_body, duration_ms, error_class, reason, acknowledged) as (values ${sql.join(rows)}),
    settled as (
      ${settleFromV(now)}
      returning notifications.id, notifications.order_no, notifications.status),
    attempts as (
      insert into notification_attempts (id, notification_id, attempt_no, started_at, url, request_headers, request_body,
                                         response_status, response_body, duration_ms, error_class, outcome, reason)
      select v.attempt_id, v.id, v.attempt_no, v.started_at, v.url, v.request_headers, v.request_body,
             v.response_status, v.response_body, v.duration_ms, v.error_class,
             case when settled.id is null then 'superseded' when v.acknowledged then 'delivered' else 'failed' end, v.reason
      from v left join settled on settled.id = v.id),
    acknowledged as (
      update orders set acknowledged = 1, version = version + 1
      from settled join v on v.id = settled.id
      where v.acknowledged and settled.status = 'PAID'
        and orders.order_no = settled.order_no and orders.status = 'PAID' and orders.acknowledged = 0)
    select id from settled`.execute(db);
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

/**
 * Starts a fresh schedule for one of the order's notifications, the latest
 * unless `notificationId` names another (its id stays the same), unless an
 * attempt is under way.
 */
export async function resendOne(db: Db, orderNo: string, now: number, notificationId?: string): Promise<{ row: NotificationRow; restarted: boolean } | undefined> {
  let query = db.selectFrom('notifications').selectAll().where('order_no', '=', orderNo);
  if (notificationId !== undefined) query = query.where('id', '=', notificationId);
  const latest = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
  if (!latest) return undefined;
  // A row under a live claim is being delivered right now: taking its lease away
  // would start a second delivery beside it, and restarting its schedule under
  // it would be undone when that attempt is recorded. It is left alone.
  const reset = await db
    .updateTable('notifications')
    .set({ state: 'pending', attempts: 0n, next_attempt_at: now, lease_until: null, last_error: null, delivered_at: null, updated_at: now })
    .where('id', '=', latest.id)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', BigInt(now))]))
    .executeTakeFirst();
  const row = await db.selectFrom('notifications').selectAll().where('id', '=', latest.id).executeTakeFirstOrThrow();
  return { row, restarted: reset.numUpdatedRows > 0n };
}

/** Whether the order exists (and, given a merchant, is that merchant's; given directions, is one of them). */
export async function orderExists(db: Db, orderNo: string, merchantId?: string, directions?: readonly string[]): Promise<boolean> {
  let query = db.selectFrom('orders').select('order_no').where('order_no', '=', orderNo);
  if (merchantId) query = query.where('merchant_id', '=', merchantId);
  if (directions) query = query.where('direction', 'in', directions.length > 0 ? directions : ['none']);
  return (await query.executeTakeFirst()) !== undefined;
}

export async function listNotifications(db: Db, filter: { merchantId?: string; state?: string; orderNo?: string; limit: number }): Promise<NotificationRow[]> {
  // Ids begin with their creation time (ids.ts): newest first by the primary key, with no sort of the whole table.
  let query = db.selectFrom('notifications').selectAll().orderBy('id', 'desc').limit(filter.limit);
  if (filter.merchantId) query = query.where('merchant_id', '=', filter.merchantId);
  if (filter.state) query = query.where('state', '=', filter.state);
  if (filter.orderNo) query = query.where('order_no', '=', filter.orderNo);
  return query.execute();
}

export async function listAttempts(db: Db, notificationId: string) {
  // In time order: a resend numbers its schedule's attempts from 1 again.
  return db.selectFrom('notification_attempts').selectAll().where('notification_id', '=', notificationId).orderBy('started_at').orderBy('attempt_no').execute();
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

/** The states a notification never leaves by itself: only a resend starts it again. */
export const FINAL_STATES = ['delivered', 'exhausted'] as const;

/**
 * One page of a walk through every notification in id order, after `afterId`:
 * the final ones last changed before `before`, and where the next page starts.
 */
export async function finalBefore(db: Db, before: number, afterId: string, page: number): Promise<{ ids: string[]; next: string | undefined }> {
  const rows = await db.selectFrom('notifications').select(['id', 'state', 'updated_at']).where('id', '>', afterId).orderBy('id').limit(page).execute();
  const ids = rows.filter((r) => (FINAL_STATES as readonly string[]).includes(r.state) && Number(r.updated_at) < before).map((r) => r.id);
  return { ids, next: rows.length === page ? rows[rows.length - 1]!.id : undefined };
}

/**
 * Deletes those of `ids` still final and last changed before `before`, with
 * their attempts; call it inside a transaction (a resend meanwhile keeps its row).
 */
export async function deleteFinal(tx: Db, ids: readonly string[], before: number): Promise<{ notifications: number; attempts: number }> {
  if (ids.length === 0) return { notifications: 0, attempts: 0 };
  let still = tx.selectFrom('notifications').select('id').where('id', 'in', [...ids]).where('state', 'in', [...FINAL_STATES]).where('updated_at', '<', BigInt(before));
  if (dialectOf(tx) === 'postgres') still = still.forUpdate();
  const gone = (await still.execute()).map((r) => r.id);
  if (gone.length === 0) return { notifications: 0, attempts: 0 };
  const attempts = await tx.deleteFrom('notification_attempts').where('notification_id', 'in', gone).executeTakeFirst();
  await tx.deleteFrom('notifications').where('id', 'in', gone).execute();
  return { notifications: gone.length, attempts: Number(attempts.numDeletedRows) };
}
