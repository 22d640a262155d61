import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../platform/clock.ts';
import type { Db } from '../../platform/db/database.ts';
import type { Transact } from '../../platform/db/transactor.ts';
import type { NotificationRow } from '../../platform/db/schema.ts';
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
  secret: string;
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
  /** Runs in the transaction that records an acknowledged delivery (v2: PAID becomes 3). */
  onDelivered: (tx: Db, n: NotificationRow) => Promise<void>;
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

/** The request the merchant receives: the payload signed with the app's newest secret. */
export function renderRequest(n: NotificationRow, secret: string, nowMs: number): { body: string; headers: Record<string, string> } {
  const payload = JSON.parse(n.payload) as NotificationPayload;
  const body = JSON.stringify({ ...payload.signed, sign: signParams(payload.signed, secret), ...payload.unsigned });
  return {
    body,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'Pagoda-Notify/1',
      ...webhookHeaders(n.id, Math.floor(nowMs / 1000), body, secret),
    },
  };
}

function describe(result: SendResult): { status: bigint | null; body: string | null; errorClass: string | null } {
  return result.kind === 'response'
    ? { status: BigInt(result.status), body: result.body, errorClass: null }
    : { status: null, body: null, errorClass: result.errorClass };
}

async function deliver(deps: NotifyWorkerDeps, n: NotificationRow): Promise<void> {
  const attemptNo = Number(n.attempts) + 1;
  const startedAt = deps.clock.now();
  const app = await deps.loadApp(n.app_id);
  let result: SendResult;
  let request = { body: '', headers: {} as Record<string, string> };
  if (!app) {
    result = { kind: 'error', errorClass: 'other', message: 'the order’s app has no valid secret to sign with', durationMs: 0 };
  } else {
    request = renderRequest(n, app.secret, startedAt);
    result = await deps.send({ url: n.url, ...request });
  }
  const verdict = judgeResponse(result, app?.ackMode ?? 'strict');
  const now = deps.clock.now();
  const next = verdict.acknowledged ? null : afterFailure(attemptNo, deps.schedule, now);
  const outcome = verdict.acknowledged ? 'delivered' : next?.state === 'exhausted' ? 'exhausted' : 'failed';
  const seen = describe(result);
  await deps.transact(async (tx) => {
    const settled = await repo.settle(
      tx,
      n,
      {
        state: verdict.acknowledged ? 'delivered' : next!.state,
        attempts: BigInt(attemptNo),
        next_attempt_at: next?.state === 'pending' ? next.nextAttemptAt : now,
        last_error: verdict.acknowledged ? null : verdict.reason,
        delivered_at: verdict.acknowledged ? now : null,
      },
      now,
    );
    if (!settled) deps.log.warn({ notification: n.id }, 'delivery finished after its lease ran out; the newer claim decides');
    // The attempt happened either way; one whose lease ran out is recorded as superseded, not as the outcome.
    await repo.insertAttempt(tx, {
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
      outcome: !settled ? 'superseded' : verdict.acknowledged ? 'delivered' : 'failed',
      reason: verdict.acknowledged ? null : verdict.reason,
    });
    if (settled && verdict.acknowledged) await deps.onDelivered(tx, n);
  });
  deps.observe?.(outcome, result.durationMs);
}

/**
 * Delivers due notifications: claims them in batches (with a lease), sends
 * them concurrently with a cap per destination, records every attempt, and
 * schedules the next one. Woken right after a commit that enqueued work;
 * polls as a fallback.
 */
export function startNotifyWorker(deps: NotifyWorkerDeps, options: Partial<NotifyWorkerOptions> = {}): NotifyWorker {
  const opts = { ...DEFAULT_WORKER_OPTIONS, ...options };
  const leaseMs = deps.timeoutMs * 2 + 5000;
  const inFlight = new Set<Promise<void>>();
  const perOrigin = new Map<string, number>();
  let stopping = false;

  const track = (n: NotificationRow, origin: string): void => {
    perOrigin.set(origin, (perOrigin.get(origin) ?? 0) + 1);
    const job: Promise<void> = deliver(deps, n)
      .catch((err: unknown) => deps.log.error({ err, notification: n.id }, 'delivery crashed; the lease brings it back'))
      .finally(() => {
        inFlight.delete(job);
        const left = (perOrigin.get(origin) ?? 1) - 1;
        if (left === 0) perOrigin.delete(origin);
        else perOrigin.set(origin, left);
        if (!stopping) periodic.wake();
      });
    inFlight.add(job);
  };

  const tick = async (): Promise<void> => {
    while (!stopping) {
      const room = Math.min(opts.batch, opts.maxInFlight - inFlight.size);
      if (room <= 0) return;
      const now = deps.clock.now();
      const busyOrigins = [...perOrigin].filter(([, count]) => count >= opts.perOrigin).map(([origin]) => origin);
      const claimed = await repo.claimDue(deps.db, now, leaseMs, room, busyOrigins);
      const busy: NotificationRow[] = [];
      for (const n of claimed) {
        const origin = n.origin;
        if ((perOrigin.get(origin) ?? 0) >= opts.perOrigin) busy.push(n);
        else track(n, origin);
      }
      // A busy destination's extra work goes straight back, due now: the next
      // delivery that finishes wakes the loop to claim again.
      await repo.release(deps.db, busy, now, now);
      if (claimed.length < room || busy.length === claimed.length) return;
    }
  };

  const periodic = startPeriodic('notify', opts.pollMs, tick, deps.log);
  return {
    wake: () => periodic.wake(),
    async stop() {
      stopping = true;
      await periodic.stop();
      await Promise.allSettled([...inFlight]);
    },
  };
}
