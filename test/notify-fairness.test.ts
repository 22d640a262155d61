/**
 * One merchant's slow endpoints cannot hold up other merchants' notifications:
 * a merchant holds at most `perMerchant` of the worker's slots however many
 * endpoints it names, and an endpoint whose last attempt failed slowly gets one
 * attempt at a time until one is acknowledged.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_WORKER_OPTIONS, startNotifyWorker, type NotifyWorker } from '../src/modules/notify/notify.worker.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { paidPayin } from './helpers/payins.ts';
import { startTrackingReceiver, type TrackingReceiver } from './helpers/tracking-receiver.ts';

const HANG_MS = 600_000;

/** `count` due copies of the order's notification (new ids), spread over `urls`, all due before `dueBefore`. */
async function backlog(gw: TestGateway, orderNo: string, urls: readonly string[], count: number, dueBefore: number): Promise<void> {
  const row = await gw.core.db.selectFrom('notifications').selectAll().where('order_no', '=', orderNo).executeTakeFirstOrThrow();
  const copies = Array.from({ length: count }, (_, i) => {
    const url = urls[i % urls.length]!;
    return { ...row, id: `${row.id}_c${String(i).padStart(4, '0')}`, url, origin: new URL(url).origin, next_attempt_at: dueBefore - 60_000 + i };
  });
  await gw.core.db.insertInto('notifications').values(copies).execute();
  await gw.core.db.updateTable('notifications').set({ next_attempt_at: dueBefore - 1 }).where('id', '=', row.id).execute();
}

describe('notification slots are shared fairly between merchants and endpoints', () => {
  let gw: TestGateway;
  let worker: NotifyWorker | undefined;
  const receivers: TrackingReceiver[] = [];
  const receiver = async (delayMs: number, status = 200) => {
    const r = await startTrackingReceiver({ delayMs, status });
    receivers.push(r);
    return r;
  };
  before(async () => {
    gw = await startGateway({ PAGODA_NOTIFY_ALLOW_HOSTS: '127.0.0.1', PAGODA_NOTIFY_TIMEOUT: '3s' });
  });
  after(async () => {
    await worker?.stop();
    await Promise.all(receivers.map((r) => r.close()));
    await gw.close();
  });

  test('a merchant whose ten endpoints hang holds no more than its share; another merchant is delivered at once', async (t) => {
    const slow = await Promise.all(Array.from({ length: 10 }, () => receiver(HANG_MS)));
    const fast = await receiver(0);
    const hanging = await gw.merchant(['MXN']);
    const healthy = await gw.merchant(['MXN']);
    const slowOrder = await paidPayin(gw, hanging, slow[0]!.url);
    const fastOrder = await paidPayin(gw, healthy, fast.url);
    // 10 endpoints × 8 per endpoint would be 80 attempts, more than the worker's 64 slots.
    const now = gw.clock.now();
    await backlog(gw, slowOrder, slow.map((r) => r.url), 200, now);
    await gw.core.db.updateTable('notifications').set({ next_attempt_at: now }).where('order_no', '=', fastOrder).execute();

    worker = startNotifyWorker(gw.app.services.notify, { pollMs: 50 });
    const started = Date.now();
    // Before the first hanging attempts time out (3 s): the healthy merchant never waited for a slot.
    await fast.waitForDistinct(1, 2_000);
    const hangingAtOnce = slow.reduce((sum, r) => sum + r.inFlight(), 0);
    t.diagnostic(`delivered after ${Date.now() - started} ms; the hanging merchant had ${hangingAtOnce} attempts in flight`);
    assert.ok(hangingAtOnce <= DEFAULT_WORKER_OPTIONS.perMerchant, `${hangingAtOnce} in flight for one merchant`);
    await worker.stop();
    worker = undefined;
    await gw.core.db.updateTable('notifications').set({ state: 'delivered' }).where('merchant_id', '=', hanging.merchantId).execute();
  });

  test('an endpoint whose attempts failed slowly gets one attempt at a time until one is acknowledged', async () => {
    const slow = await receiver(HANG_MS);
    const merchant = await gw.merchant(['MXN']);
    const order = await paidPayin(gw, merchant, slow.url);
    await backlog(gw, order, [slow.url], 30, gw.clock.now());
    worker = startNotifyWorker(gw.app.services.notify, { pollMs: 50 });
    // The first attempts go out together, up to the endpoint's cap.
    const deadline = Date.now() + 2_000;
    while (slow.inFlight() < DEFAULT_WORKER_OPTIONS.perOrigin && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(slow.inFlight(), DEFAULT_WORKER_OPTIONS.perOrigin);
    // They time out at 3 s; from then on the endpoint is failing, and due rows go one at a time.
    const firstRound = slow.deliveries.length;
    const until = Date.now() + 6_000;
    let most = 0;
    while (Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      if (slow.deliveries.length > firstRound) most = Math.max(most, slow.inFlight());
    }
    assert.ok(slow.deliveries.length > firstRound, 'attempts went on after the first round failed');
    assert.equal(most, 1, 'one attempt at a time to a failing endpoint');
  });

  test('merchants whose many endpoints hang hold two slots each once those endpoints failed; another merchant is not held up', async (t) => {
    await worker?.stop();
    worker = undefined;
    // The earlier tests' backlogs are out of the way.
    await gw.core.db.updateTable('notifications').set({ state: 'delivered' }).where('state', '=', 'pending').execute();
    // A small worker, so that two such merchants could fill it: 8 slots, 4 per merchant, 4 endpoints each.
    const options = { pollMs: 50, maxInFlight: 8, perMerchant: 4 };
    const hangingMerchants = await Promise.all([gw.merchant(['MXN']), gw.merchant(['MXN'])]);
    const endpoints = await Promise.all(hangingMerchants.map(() => Promise.all(Array.from({ length: 4 }, () => receiver(HANG_MS)))));
    for (const [i, m] of hangingMerchants.entries()) {
      const order = await paidPayin(gw, m, endpoints[i]![0]!.url);
      await backlog(gw, order, endpoints[i]!.map((r) => r.url), 60, gw.clock.now());
    }
    const fast = await receiver(0);
    const healthy = await gw.merchant(['MXN']);
    const fastOrder = await paidPayin(gw, healthy, fast.url);
    // Not due yet: it comes due once every hanging endpoint has failed once (timeout 3 s).
    await gw.core.db.updateTable('notifications').set({ next_attempt_at: gw.clock.now() + 3_600_000 }).where('order_no', '=', fastOrder).execute();
    worker = startNotifyWorker(gw.app.services.notify, options);
    const inFlight = (i: number) => endpoints[i]!.reduce((sum, r) => sum + r.inFlight(), 0);
    // The first round (4 attempts per merchant) times out after 3 s; on a loaded machine its recording can take longer.
    const hangingIds = hangingMerchants.map((m) => m.merchantId);
    const firstRoundRecorded = async () =>
      Number(
        (
          await gw.core.db
            .selectFrom('notification_attempts')
            .innerJoin('notifications', 'notifications.id', 'notification_attempts.notification_id')
            .select((eb) => eb.fn.countAll<bigint>().as('n'))
            .where('notifications.merchant_id', 'in', hangingIds)
            .executeTakeFirstOrThrow()
        ).n,
      ) >= 8;
    const firstRound = Date.now() + 3_600;
    while (Date.now() < firstRound || (Date.now() < firstRound + 10_000 && !(await firstRoundRecorded()))) await new Promise((resolve) => setTimeout(resolve, 25));
    await gw.core.db.updateTable('notifications').set({ next_attempt_at: gw.clock.now() }).where('order_no', '=', fastOrder).execute();
    worker.wake();
    const due = Date.now();
    let most = 0;
    while (fast.distinct() < 1 && Date.now() - due < 5_000) {
      most = Math.max(most, inFlight(0), inFlight(1));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    t.diagnostic(`the healthy merchant was delivered ${Date.now() - due} ms after it came due; a hanging merchant had at most ${most} attempts in flight meanwhile`);
    assert.equal(fast.distinct(), 1, 'delivered');
    assert.ok(Date.now() - due < 1_500, `delivered ${Date.now() - due} ms after it came due: it waited for the hanging merchants' slots`);
    assert.ok(most <= 2, `${most} attempts in flight to one merchant's failing endpoints`);
    await worker.stop();
    worker = undefined;
    for (const m of hangingMerchants) await gw.core.db.updateTable('notifications').set({ state: 'delivered' }).where('merchant_id', '=', m.merchantId).execute();
  });

  test('a merchant\'s slow path on a host another merchant also uses does not throttle that other merchant there', async (t) => {
    await worker?.stop();
    worker = undefined;
    await gw.core.db.updateTable('notifications').set({ state: 'delivered' }).where('state', '=', 'pending').execute();
    const shared = await startTrackingReceiver({ delayMs: 0, slowPath: '/notifyslow', slowDelayMs: HANG_MS });
    receivers.push(shared);
    const hanging = await gw.merchant(['MXN']);
    const other = await gw.merchant(['MXN']);
    const slowOrder = await paidPayin(gw, hanging, `${shared.url}slow`);
    await backlog(gw, slowOrder, [`${shared.url}slow`], 20, gw.clock.now());
    const otherOrder = await paidPayin(gw, other, `${shared.url}fast`);
    await gw.core.db.updateTable('notifications').set({ next_attempt_at: gw.clock.now() + 3_600_000 }).where('order_no', '=', otherOrder).execute();
    worker = startNotifyWorker(gw.app.services.notify, { pollMs: 50 });
    // The slow path's first attempts time out (3 s): the endpoint is failing for the merchant that uses it.
    const firstRound = Date.now() + 3_600;
    while (Date.now() < firstRound) await new Promise((resolve) => setTimeout(resolve, 25));
    await backlog(gw, otherOrder, [`${shared.url}fast`], 10, gw.clock.now());
    worker.wake();
    const due = Date.now();
    const answered = () => shared.deliveries.filter((d) => d.answeredAt !== undefined).length;
    while (answered() < 11 && Date.now() - due < 5_000) await new Promise((resolve) => setTimeout(resolve, 20));
    const took = Date.now() - due;
    t.diagnostic(`${answered()} answered within ${took} ms`);
    assert.equal(answered(), 11, 'the other merchant\'s 11 notifications were answered');
    assert.ok(took < 1_500, `they took ${took} ms: they went one at a time behind the slow path`);
    await worker.stop();
    worker = undefined;
  });

  test('an endpoint that refuses quickly (500 at once) keeps its share of slots: its notifications keep their schedule', async () => {
    await worker?.stop();
    const refusing = await receiver(300, 500);
    const merchant = await gw.merchant(['MXN']);
    const order = await paidPayin(gw, merchant, refusing.url);
    await backlog(gw, order, [refusing.url], 40, gw.clock.now());
    worker = startNotifyWorker(gw.app.services.notify, { pollMs: 50 });
    const until = Date.now() + 4_000;
    let afterFirstRound = 0;
    while (Date.now() < until && refusing.distinct() < 41) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (refusing.deliveries.length > DEFAULT_WORKER_OPTIONS.perOrigin) afterFirstRound = Math.max(afterFirstRound, refusing.inFlight());
    }
    assert.equal(refusing.distinct(), 41, 'every notification had its first attempt');
    assert.ok(afterFirstRound > 1, `after the first refusals, at most ${afterFirstRound} attempt(s) at a time`);
  });
});
