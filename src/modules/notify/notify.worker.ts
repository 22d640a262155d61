import { performance } from 'node:perf_hooks';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../platform/clock.ts';
import { dialectOf, type Db } from '../../platform/db/database.ts';
import type { Transact } from '../../platform/db/transactor.ts';
import type { NotificationRow } from '../../platform/db/schema.ts';
import { createBatcher } from '../../platform/batcher.ts';
import { newId } from '../../platform/ids.ts';
import { startPeriodic } from '../../platform/jobs/periodic.ts';
import { signParams } from '../../platform/sign.ts';
import { judgeResponse, type AckMode } from './ack.ts';
import type { NotificationPayload } from './notify.payload.ts';
import * as repo from './notify.repository.ts';
import { afterFailure } from './notify.schedule.ts';
import { DEFAULT_HEADERS, type SendResult } from './sender.ts';
import { webhookHeaders } from './webhook-signature.ts';

export interface NotifyApp {
  /** Newest first: the body is signed with the newest, the webhook-signature header carries one signature per secret. */
  secrets: readonly string[];
  ackMode: AckMode;
}

export interface NotifyWorkerDeps {
  db: Db;
  /** Grouped commits on SQLite: many deliveries' records share one fsync. */
  transact: Transact;
  clock: Clock;
  log: FastifyBaseLogger;
  schedule: readonly number[];
  timeoutMs: number;
  send: (req: { url: string; body: string; headers: Record<string, string> }) => Promise<SendResult>;
  loadApp: (appId: string) => Promise<NotifyApp | undefined>;
  observe?: (outcome: 'delivered' | 'failed' | 'exhausted', durationMs: number) => void;
}

export interface NotifyWorkerOptions {
  pollMs: number;
  batch: number;
  maxInFlight: number;
  /** One slow merchant endpoint holds at most this many deliveries. */
  perOrigin: number;
  /** One merchant, however many endpoints it names, holds at most this many. */
  perMerchant: number;
}

export const DEFAULT_WORKER_OPTIONS: NotifyWorkerOptions = { pollMs: 1000, batch: 50, maxInFlight: 64, perOrigin: 8, perMerchant: 16 };

/**
 * A merchant's endpoint whose attempt failed slowly (timing out, or answering
 * something other than an acknowledgement after a while) gets one attempt at a
 * time for that merchant (another merchant on the same host keeps its share) until
 * one is acknowledged: a few such endpoints could otherwise fill every slot with
 * attempts that wait for their timeout, and every other merchant's
 * notifications would wait behind them. A quick refusal (a 500 at once, a
 * connection refused) holds a slot for a moment only, and changes nothing: its
 * endpoint's notifications keep their schedule.
 */
const FAILING_ENDPOINT_CAP = 1;
/**
 * All of one merchant's attempts to its failing endpoints together hold at most
 * this many slots: a merchant naming many endpoints that hang (one per subdomain,
 * say) would otherwise hold its whole share, and a few such merchants every slot.
 */
const FAILING_PER_MERCHANT = 2;
/** A failure that took at least this long marks the merchant's endpoint as failing. */
const SLOW_FAILURE_MS = 1000;
/**
 * After a claim that left destinations out, may have looked past the head of the
 * queue, and still came back short (nothing more was due there), how long the
 * next claims read the head only: BEYOND_HEAD_QUIET_FACTOR times what that claim
 * took, within these bounds. Looking past the head costs an index seek per
 * destination and merchant with notifications pending (thousands, with many
 * merchants' retries scheduled), and while a busy destination's backlog is
 * worked through the worker claims after every attempt: so about a sixth of the
 * worker's time, and of the database's, at most goes to it. A row due behind
 * that backlog waits for the first claim after the quiet time.
 */
const BEYOND_HEAD_QUIET_MS = { min: 200, max: 1000 };
const BEYOND_HEAD_QUIET_FACTOR = 5;
/** How many failing endpoints (merchant and destination) are remembered (the oldest is forgotten first). */
const FAILING_ENDPOINTS_KEPT = 10_000;

export interface NotifyWorker {
  wake(): void;
  stop(): Promise<void>;
}

/**
 * The request the merchant receives: the payload signed with the app's newest
 * secret, and the webhook-signature header under every valid one, so that during
 * a rotation's grace a receiver that still holds the old secret verifies it too.
 */
export function renderRequest(n: NotificationRow, secrets: readonly string[], nowMs: number): { body: string; headers: Record<string, string> } {
  const payload = JSON.parse(n.payload) as NotificationPayload;
  const body = JSON.stringify({ ...payload.signed, sign: signParams(payload.signed, secrets[0]!), ...payload.unsigned });
  return {
    body,
    headers: {
      ...DEFAULT_HEADERS,
      ...webhookHeaders(n.id, Math.floor(nowMs / 1000), body, secrets),
    },
  };
}

function describe(result: SendResult): { status: bigint | null; body: string | null; errorClass: string | null } {
  return result.kind === 'response'
    ? { status: BigInt(result.status), body: result.body, errorClass: null }
    : { status: null, body: null, errorClass: result.errorClass };
}

/** How soon an attempt the gateway could not make for want of its own resources is made again. */
export const LOCAL_RETRY_MS = 30_000;

/**
 * The signed request, or, for a row that cannot be rendered (a payload or an id
 * damaged in the database), a failed attempt that says why: it is recorded and
 * follows the schedule to exhausted, where an operator sees it, instead of
 * crashing at every lease.
 */
function prepare(deps: NotifyWorkerDeps, n: NotificationRow, app: NotifyApp, nowMs: number): { body: string; headers: Record<string, string> } | { error: SendResult } {
  try {
    return renderRequest(n, app.secrets, nowMs);
  } catch (err) {
    deps.log.error({ err, notification: n.id }, 'a notification could not be prepared; recorded as a failed attempt');
    const why = err instanceof Error ? err.message : String(err);
    return { error: { kind: 'error', errorClass: 'other', message: `the notification could not be prepared: ${why.slice(0, 200)}`, durationMs: 0 } };
  }
}

type Attempted = repo.Outcome & { outcome: 'delivered' | 'failed' | 'exhausted'; durationMs: number };

/** One attempt: sign and send. */
async function attempt(deps: NotifyWorkerDeps, n: NotificationRow): Promise<Attempted> {
  const attemptNo = Number(n.attempts) + 1;
  const startedAt = deps.clock.now();
  let result: SendResult;
  let request = { body: '', headers: {} as Record<string, string> };
  const app = await deps.loadApp(n.app_id);
  if (!app) {
    result = { kind: 'error', errorClass: 'other', message: 'the order’s app has no valid secret to sign with', durationMs: 0 };
  } else {
    const rendered = prepare(deps, n, app, startedAt);
    if ('error' in rendered) result = rendered.error;
    else {
      request = rendered;
      result = await deps.send({ url: n.url, ...request });
    }
  }
  const verdict = judgeResponse(result, app?.ackMode ?? 'strict');
  const now = deps.clock.now();
  // The gateway's own shortage uses up none of the receiver's attempts: the same attempt again, a little later.
  const ours = result.kind === 'error' && result.errorClass === 'local';
  const next = verdict.acknowledged ? null : ours ? { state: 'pending' as const, nextAttemptAt: now + LOCAL_RETRY_MS } : afterFailure(attemptNo, deps.schedule, now);
  const seen = describe(result);
  return {
    notification: n,
    acknowledged: verdict.acknowledged,
    outcome: verdict.acknowledged ? 'delivered' : next?.state === 'exhausted' ? 'exhausted' : 'failed',
    durationMs: result.durationMs,
    settlement: {
      id: n.id,
      leaseUntil: n.lease_until,
      state: verdict.acknowledged ? 'delivered' : next!.state,
      attempts: BigInt(ours ? attemptNo - 1 : attemptNo),
      nextAttemptAt: next?.state === 'pending' ? next.nextAttemptAt : now,
      lastError: verdict.acknowledged ? null : verdict.reason,
      deliveredAt: verdict.acknowledged ? now : null,
    },
    attempt: {
      id: newId('att_', now),
      notification_id: n.id,
      attempt_no: BigInt(attemptNo),
      started_at: startedAt,
      url: n.url,
      request_headers: JSON.stringify(request.headers),
      request_body: request.body,
      response_status: seen.status,
      response_body: seen.body,
      duration_ms: BigInt(result.durationMs),
      error_class: seen.errorClass,
      reason: verdict.acknowledged ? null : verdict.reason,
    },
  };
}

/** Records finished attempts together: one statement on PostgreSQL, one grouped transaction on SQLite. */
async function record(deps: NotifyWorkerDeps, finished: readonly repo.Outcome[]): Promise<void> {
  const now = deps.clock.now();
  const settled = dialectOf(deps.db) === 'postgres' ? await repo.recordOutcomes(deps.db, finished, now) : await deps.transact((tx) => repo.recordOutcomes(tx, finished, now));
  for (const f of finished) {
    if (!settled.has(f.settlement.id)) deps.log.warn({ notification: f.settlement.id }, 'delivery finished after its lease ran out; the newer claim decides');
  }
}

/**
 * Delivers due notifications: claims them in batches (with a lease), sends
 * them concurrently with a cap per destination, records every attempt, and
 * schedules the next one. Woken right after a commit that enqueued work;
 * polls as a fallback.
 *
 * A claim may bring more rows for one destination than its cap allows; those
 * wait here, under their lease, for the destination's next free slot, and
 * destinations with waiting rows are left out of the next claims. A waiting
 * row whose lease would run out before an attempt could finish is given back.
 */
export function startNotifyWorker(deps: NotifyWorkerDeps, options: Partial<NotifyWorkerOptions> = {}): NotifyWorker {
  const opts = { ...DEFAULT_WORKER_OPTIONS, ...options };
  const leaseMs = deps.timeoutMs * 2 + 5000;
  // A row starts only with time for a whole attempt (and its record) left on its lease.
  const startMarginMs = deps.timeoutMs + 2000;
  const inFlight = new Set<Promise<void>>();
  // Attempts that finish together are recorded together.
  const recordLater = createBatcher<repo.Outcome>((finished) => record(deps, finished));
  /** Attempts under way (sent or being recorded) per destination, and per merchant. */
  const underWay = new Map<string, number>();
  const merchantUnderWay = new Map<string, number>();
  /** Attempts under way per merchant to endpoints that were failing when they started. */
  const merchantFailingUnderWay = new Map<string, number>();
  /** Merchants' endpoints (`merchant origin`) whose last slow attempt here was not acknowledged, oldest first. */
  const failing = new Set<string>();
  /** Attempts under way per merchant and destination (the cap of a failing one). */
  const pairUnderWay = new Map<string, number>();
  /** Claimed rows waiting for a slot, per destination, oldest first. */
  const waiting = new Map<string, NotificationRow[]>();
  let waitingCount = 0;
  let stopping = false;
  /** Real time (the clock may be a test's), since it measures the work of claims. */
  let beyondHeadQuietUntil = 0;

  /** Gives rows back, due now, for any worker to claim; rows of one claim share their lease token. */
  const giveBack = async (rows: readonly NotificationRow[]): Promise<void> => {
    if (rows.length === 0) return;
    const now = deps.clock.now();
    const byLease = new Map<bigint | null, NotificationRow[]>();
    for (const n of rows) {
      const group = byLease.get(n.lease_until);
      if (group) group.push(n);
      else byLease.set(n.lease_until, [n]);
    }
    const released = await Promise.allSettled([...byLease.values()].map((group) => repo.release(deps.db, group, now, now)));
    for (const r of released) if (r.status === 'rejected') deps.log.error({ err: r.reason }, 'could not give claims back; their lease brings them back');
  };

  const startable = (n: NotificationRow): boolean => Number(n.lease_until) - deps.clock.now() >= startMarginMs;
  // Failing is a merchant's endpoint: another merchant's slow path on a shared host does not throttle this one's.
  const pairOf = (n: NotificationRow): string => `${n.merchant_id} ${n.origin}`;
  const isFailing = (n: NotificationRow): boolean => failing.has(pairOf(n));
  const originFull = (origin: string): boolean => (underWay.get(origin) ?? 0) >= opts.perOrigin;
  const pairFull = (n: NotificationRow): boolean => isFailing(n) && (pairUnderWay.get(pairOf(n)) ?? 0) >= FAILING_ENDPOINT_CAP;
  const merchantFull = (merchantId: string): boolean => (merchantUnderWay.get(merchantId) ?? 0) >= opts.perMerchant;
  const failingCapped = (n: NotificationRow): boolean => isFailing(n) && (merchantFailingUnderWay.get(n.merchant_id) ?? 0) >= FAILING_PER_MERCHANT;
  /** No slot for it frees before an attempt times out: its endpoint is failing and full, or its merchant's share for failing ones is. */
  const blockedByFailing = (n: NotificationRow): boolean => pairFull(n) || failingCapped(n);
  const hasSlot = (n: NotificationRow): boolean => !originFull(n.origin) && !merchantFull(n.merchant_id) && !blockedByFailing(n);

  const count = (counts: Map<string, number>, key: string, by: number): void => {
    const left = (counts.get(key) ?? 0) + by;
    if (left === 0) counts.delete(key);
    else counts.set(key, left);
  };

  const remember = (pair: string, acknowledged: boolean, durationMs: number): void => {
    if (!acknowledged && durationMs < SLOW_FAILURE_MS) return;
    failing.delete(pair);
    if (acknowledged) return;
    failing.add(pair);
    if (failing.size > FAILING_ENDPOINTS_KEPT) failing.delete(failing.values().next().value!);
  };

  // A slot is held until the attempt is recorded: what a crash can leave
  // unrecorded (and send again) is never more than a destination's cap.
  const start = (n: NotificationRow): void => {
    const pair = pairOf(n);
    const toFailing = failing.has(pair);
    count(underWay, n.origin, 1);
    count(pairUnderWay, pair, 1);
    count(merchantUnderWay, n.merchant_id, 1);
    if (toFailing) count(merchantFailingUnderWay, n.merchant_id, 1);
    const job: Promise<void> = attempt(deps, n)
      .then(async (done: Attempted) => {
        remember(pair, done.acknowledged, done.durationMs);
        await recordLater(done);
        deps.observe?.(done.outcome, done.durationMs);
      })
      .catch((err: unknown) => deps.log.error({ err, notification: n.id }, 'delivery crashed; the lease brings it back'))
      .finally(() => {
        count(underWay, n.origin, -1);
        count(pairUnderWay, pair, -1);
        count(merchantUnderWay, n.merchant_id, -1);
        if (toFailing) count(merchantFailingUnderWay, n.merchant_id, -1);
        inFlight.delete(job);
        if (stopping) return;
        startWaiting();
        periodic.wake();
      });
    inFlight.add(job);
  };

  /** Starts the waiting rows that have a slot now; gives back those that could no longer finish under their lease. */
  const startWaiting = (): void => {
    const stale: NotificationRow[] = [];
    for (const [origin, queue] of waiting) {
      const keep = queue.filter((n) => {
        // No slot for it frees before a timeout: back, for a later claim, rather than hold a place.
        if (!startable(n) || blockedByFailing(n)) return (stale.push(n), false);
        if (!hasSlot(n)) return true;
        start(n);
        return false;
      });
      waitingCount -= queue.length - keep.length;
      if (keep.length === 0) waiting.delete(origin);
      else waiting.set(origin, keep);
    }
    void giveBack(stale);
  };

  const hold = (n: NotificationRow): void => {
    const queue = waiting.get(n.origin);
    if (queue) queue.push(n);
    else waiting.set(n.origin, [n]);
    waitingCount++;
  };

  const tick = async (): Promise<void> => {
    startWaiting();
    // A merchant's failing endpoints whose slots are held: left out of this tick's further claims.
    const capped = new Map<string, readonly [string, string]>();
    while (!stopping) {
      const room = Math.min(opts.batch, opts.maxInFlight - inFlight.size - waitingCount);
      if (room <= 0) return;
      const now = deps.clock.now();
      // Destinations and merchants without a free slot are left out of the claim, so their backlog never sits in front of others'.
      const busyOrigins = [...new Set([...waiting.keys(), ...[...underWay.keys()].filter(originFull)])];
      const busyMerchants = [...merchantUnderWay.keys()].filter(merchantFull);
      const claimStarted = performance.now();
      const skipping = busyOrigins.length > 0 || busyMerchants.length > 0 || capped.size > 0;
      const lookBeyondHead = claimStarted >= beyondHeadQuietUntil;
      const claimed = await repo.claimDue(deps.db, now, leaseMs, room, { origins: busyOrigins, merchants: busyMerchants, pairs: [...capped.values()], headOnly: !lookBeyondHead });
      if (skipping && lookBeyondHead && claimed.length < room) {
        const ended = performance.now();
        const quiet = Math.min(BEYOND_HEAD_QUIET_MS.max, Math.max(BEYOND_HEAD_QUIET_MS.min, (ended - claimStarted) * BEYOND_HEAD_QUIET_FACTOR));
        beyondHeadQuietUntil = ended + quiet;
      }
      // A claim that took long (a stalled database) may bring rows whose lease is nearly over: another worker may take them soon.
      const stale: NotificationRow[] = [];
      for (const n of claimed) {
        if (stopping) hold(n);
        else if (!startable(n)) stale.push(n);
        else if (blockedByFailing(n)) {
          stale.push(n);
          capped.set(pairOf(n), [n.merchant_id, n.origin]);
        } else if (!waiting.has(n.origin) && hasSlot(n)) start(n);
        else hold(n);
      }
      void giveBack(stale);
      if (claimed.length < room) return;
    }
  };

  const periodic = startPeriodic('notify', opts.pollMs, tick, deps.log);
  return {
    wake: () => periodic.wake(),
    async stop() {
      stopping = true;
      await periodic.stop();
      // Rows never started go back at once, for another worker (or the next start).
      const rest = [...waiting.values()].flat();
      waiting.clear();
      waitingCount = 0;
      await giveBack(rest);
      await Promise.allSettled([...inFlight]);
    },
  };
}
