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
import type { SendResult } from './sender.ts';
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
}

export const DEFAULT_WORKER_OPTIONS: NotifyWorkerOptions = { pollMs: 1000, batch: 50, maxInFlight: 64, perOrigin: 8 };

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
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'Pagoda-Notify/1',
      ...webhookHeaders(n.id, Math.floor(nowMs / 1000), body, secrets),
    },
  };
}

function describe(result: SendResult): { status: bigint | null; body: string | null; errorClass: string | null } {
  return result.kind === 'response'
    ? { status: BigInt(result.status), body: result.body, errorClass: null }
    : { status: null, body: null, errorClass: result.errorClass };
}

/** One attempt: sign and send. */
async function attempt(deps: NotifyWorkerDeps, n: NotificationRow): Promise<repo.Outcome & { outcome: 'delivered' | 'failed' | 'exhausted'; durationMs: number }> {
  const attemptNo = Number(n.attempts) + 1;
  const startedAt = deps.clock.now();
  let result: SendResult;
  let request = { body: '', headers: {} as Record<string, string> };
  const app = await deps.loadApp(n.app_id);
  if (!app) {
    result = { kind: 'error', errorClass: 'other', message: 'the order’s app has no valid secret to sign with', durationMs: 0 };
  } else {
    request = renderRequest(n, app.secrets, startedAt);
    result = await deps.send({ url: n.url, ...request });
  }
  const verdict = judgeResponse(result, app?.ackMode ?? 'strict');
  const now = deps.clock.now();
  const next = verdict.acknowledged ? null : afterFailure(attemptNo, deps.schedule, now);
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
      attempts: BigInt(attemptNo),
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
  /** Attempts under way (sent or being recorded) per destination. */
  const underWay = new Map<string, number>();
  /** Claimed rows waiting for their destination's slot, oldest first. */
  const waiting = new Map<string, NotificationRow[]>();
  let waitingCount = 0;
  let stopping = false;

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

  // A destination's slot is held until the attempt is recorded: what a crash can leave
  // unrecorded (and send again) is never more than its cap.
  const start = (n: NotificationRow): void => {
    const origin = n.origin;
    underWay.set(origin, (underWay.get(origin) ?? 0) + 1);
    const job: Promise<void> = attempt(deps, n)
      .then(async (done) => {
        await recordLater(done);
        deps.observe?.(done.outcome, done.durationMs);
      })
      .catch((err: unknown) => deps.log.error({ err, notification: n.id }, 'delivery crashed; the lease brings it back'))
      .finally(() => {
        const left = (underWay.get(origin) ?? 1) - 1;
        if (left === 0) underWay.delete(origin);
        else underWay.set(origin, left);
        inFlight.delete(job);
        if (stopping) return;
        startWaiting(origin);
        periodic.wake();
      });
    inFlight.add(job);
  };

  /** Fills the destination's free slots from its waiting rows. */
  const startWaiting = (origin: string): void => {
    const queue = waiting.get(origin);
    if (!queue) return;
    const stale: NotificationRow[] = [];
    while (queue.length > 0 && (underWay.get(origin) ?? 0) < opts.perOrigin) {
      const n = queue.shift()!;
      waitingCount--;
      if (startable(n)) start(n);
      else stale.push(n);
    }
    if (queue.length === 0) waiting.delete(origin);
    void giveBack(stale);
  };

  const hold = (n: NotificationRow): void => {
    const queue = waiting.get(n.origin);
    if (queue) queue.push(n);
    else waiting.set(n.origin, [n]);
    waitingCount++;
  };

  /** Gives back waiting rows that could no longer finish an attempt under their lease. */
  const sweep = (): void => {
    const stale: NotificationRow[] = [];
    for (const [origin, queue] of waiting) {
      const keep = queue.filter((n) => startable(n) || (stale.push(n), false));
      waitingCount -= queue.length - keep.length;
      if (keep.length === 0) waiting.delete(origin);
      else waiting.set(origin, keep);
    }
    void giveBack(stale);
  };

  const tick = async (): Promise<void> => {
    sweep();
    while (!stopping) {
      const room = Math.min(opts.batch, opts.maxInFlight - inFlight.size - waitingCount);
      if (room <= 0) return;
      const now = deps.clock.now();
      const busyOrigins = [...new Set([...waiting.keys(), ...[...underWay].filter(([, count]) => count >= opts.perOrigin).map(([origin]) => origin)])];
      const claimed = await repo.claimDue(deps.db, now, leaseMs, room, busyOrigins);
      for (const n of claimed) {
        if (stopping) hold(n);
        else if (!waiting.has(n.origin) && (underWay.get(n.origin) ?? 0) < opts.perOrigin) start(n);
        else hold(n);
      }
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
