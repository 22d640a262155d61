/**
 * Two notification workers on one PostgreSQL database (merchant-api.md
 * section 7: "Exactly one worker delivers a given notification at a time,
 * across all gateway processes"): one `pagoda serve --role api` process and
 * two `--role worker` processes; 1,000 PAID pay-ins made through the API (500
 * before the workers start, a backlog both race for, and 500 while they run);
 * a receiver answering SUCCESS after 10 ms.
 *
 * The receiver tells the two workers apart by the process that owns each
 * keep-alive connection (looked up in /proc at connect time), to report how
 * the work split.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TEST_DB } from './helpers/db.ts';
import { closeFleetAgent, createFleet, createPaidPayins, notificationStates, stopChild, type Fleet } from './helpers/pagoda-fleet.ts';
import type { Child } from './helpers/process.ts';
import { startTrackingReceiver, type TrackingReceiver } from './helpers/tracking-receiver.ts';

const N = 1000;
const TOTAL_BOUND_MS = 90_000;
/** Left for the checks and the shutdown after delivery. */
const RESERVE_MS = 8_000;
const ENV = { PAGODA_NOTIFY_TIMEOUT: '2s', PAGODA_NOTIFY_SCHEDULE: '200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(
  'two --role worker processes and one --role api process on one PostgreSQL database',
  { skip: TEST_DB !== 'postgres' ? 'PostgreSQL only (run with PAGODA_TEST_DB=postgres): several gateway processes share a PostgreSQL database (README); SQLite is the embedded single-machine default' : false, timeout: 120_000 },
  () => {
    let fleet: Fleet;
    let receiver: TrackingReceiver;
    let workers: Child[] = [];
    let ids: string[] = [];
    let deliveredInMs: number | undefined;
    let setupMs = 0;
    let states: Record<string, number> = {};
    let exits: Array<{ code: number | null; signal: NodeJS.Signals | null }> = [];

    before(
      async () => {
        const started = Date.now();
        fleet = await createFleet(ENV);
        receiver = await startTrackingReceiver({ delayMs: 10, owners: () => workers.map((w) => w.proc.pid!).filter(Boolean) });
        const creds = await fleet.merchant('Multiprocess Merchant');
        const api = await fleet.start('api');
        const t0 = Date.now();
        // Half waits as a backlog both workers race for from their first claim; the other half arrives while they run.
        await createPaidPayins(fleet.base, creds, receiver.url, N / 2, { prefix: 'backlog' });
        // Known to the receiver before they can connect: it tells them apart by their pids.
        workers = [fleet.spawn('worker'), fleet.spawn('worker')];
        await Promise.all(workers.map((w) => fleet.ready(w)));
        await createPaidPayins(fleet.base, creds, receiver.url, N / 2, { prefix: 'live' });
        setupMs = Date.now() - t0;
        ids = (await fleet.db().selectFrom('notifications').select('id').execute()).map((r) => r.id);
        const deadline = started + TOTAL_BOUND_MS - RESERVE_MS;
        while (Date.now() < deadline) {
          for (const w of workers) if (w.proc.exitCode !== null) throw new Error(`a worker exited (${w.proc.exitCode}):\n${w.stderr()}`);
          states = await notificationStates(fleet.db());
          if (states.delivered === N) {
            deliveredInMs = Date.now() - started;
            break;
          }
          await sleep(100);
        }
        states = await notificationStates(fleet.db());
        exits = await Promise.all([api, ...workers].map((c) => stopChild(c, 10_000)));
      },
      { timeout: TOTAL_BOUND_MS + 20_000 },
    );

    after(async () => {
      await receiver?.close();
      await closeFleetAgent();
      await fleet?.cleanup();
    });

    test(`all ${N} notifications are delivered within ${TOTAL_BOUND_MS / 1000} s of the start`, (t) => {
      t.diagnostic(
        `creating ${N} PAID pay-ins took ${(setupMs / 1000).toFixed(1)} s; all delivered ${deliveredInMs === undefined ? 'NOT within the bound' : `${(deliveredInMs / 1000).toFixed(1)} s after the start`}; states ${JSON.stringify(states)}`,
      );
      assert.equal(ids.length, N);
      assert.deepEqual(states, { delivered: N });
      assert.ok(deliveredInMs !== undefined);
    });

    test('the receiver saw every webhook-id at least once, and nothing else', (t) => {
      const duplicates = [...receiver.counts].filter(([, n]) => n > 1).length;
      t.diagnostic(`receiver: ${receiver.deliveries.length} requests, ${receiver.distinct()} distinct, ${duplicates} duplicated, at most ${receiver.maxInFlight()} in flight`);
      const delivered = new Set(ids);
      assert.deepEqual(ids.filter((id) => !receiver.counts.has(id)), [], 'never seen by the receiver');
      assert.deepEqual([...receiver.counts.keys()].filter((id) => !delivered.has(id)), [], 'not a notification');
    });

    test('the gateway recorded exactly one delivered attempt per notification, and one attempt per request the receiver saw', async () => {
      const rows = await fleet.db().selectFrom('notification_attempts').select(['notification_id', 'outcome']).execute();
      const delivered = new Map<string, number>();
      for (const r of rows) if (r.outcome === 'delivered') delivered.set(r.notification_id, (delivered.get(r.notification_id) ?? 0) + 1);
      assert.deepEqual([...delivered.keys()].sort(), [...ids].sort());
      assert.deepEqual([...delivered].filter(([, n]) => n !== 1), [], 'more than one delivered attempt');
      assert.equal(rows.length, receiver.deliveries.length, 'attempt rows vs requests the receiver saw');
    });

    test("no notification was attempted twice at once: attempts' intervals never overlap, and no webhook-id was in flight twice", async () => {
      const rows = await fleet.db().selectFrom('notification_attempts').select(['notification_id', 'started_at', 'duration_ms']).execute();
      const byId = new Map<string, Array<[number, number]>>();
      for (const r of rows) {
        const start = Number(r.started_at);
        const list = byId.get(r.notification_id) ?? [];
        list.push([start, start + Number(r.duration_ms)]);
        byId.set(r.notification_id, list);
      }
      const overlapping: string[] = [];
      for (const [id, list] of byId) {
        list.sort((a, b) => a[0] - b[0]);
        for (let i = 1; i < list.length; i++) if (list[i]![0] < list[i - 1]![1]) overlapping.push(id);
      }
      assert.deepEqual(overlapping, [], 'notifications whose attempts overlap in time');
      assert.deepEqual(receiver.concurrentDuplicates, [], 'webhook-ids in flight twice at once at the receiver');
    });

    test('how the work split between the two worker processes', (t) => {
      const byOwner = receiver.requestsByOwner();
      const [p1, p2] = workers.map((w) => String(w.proc.pid));
      const split = `worker 1 (pid ${p1}): ${byOwner.get(p1!) ?? 0}, worker 2 (pid ${p2}): ${byOwner.get(p2!) ?? 0}, unknown: ${byOwner.get('unknown') ?? 0}; connections: ${receiver.connectionOwners.size}`;
      t.diagnostic(`requests per process: ${split}`);
      assert.equal((byOwner.get(p1!) ?? 0) + (byOwner.get(p2!) ?? 0) + (byOwner.get('unknown') ?? 0), receiver.deliveries.length);
      assert.equal(byOwner.get('unknown') ?? 0, 0, `connections whose process was not found in /proc: ${split}`);
    });

    test('every process stops cleanly on SIGTERM', () => {
      assert.deepEqual(exits, [0, 0, 0].map(() => ({ code: 0, signal: null })));
    });
  },
);
