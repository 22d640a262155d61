import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import { createHmac } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { LOCAL_RETRY_MS, startNotifyWorker, type NotifyWorker } from '../src/modules/notify/notify.worker.ts';
import { createApp, rotateApp, updateApp, type Credentials } from '../src/modules/merchants/merchant.service.ts';
import { verifyWebhook } from '../src/modules/notify/webhook-signature.ts';
import { listNotifications } from '../src/modules/notify/notify.service.ts';
import { TEST_DB } from './helpers/db.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { paidPayin, referenceSign } from './helpers/payins.ts';
import { eventually, startReceiver, type Answer } from './helpers/receiver.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;

describe('notifications', () => {
  let gw: TestGateway;
  let creds: Credentials;
  let worker: NotifyWorker;
  const receivers: Array<{ close(): Promise<void> }> = [];

  before(async () => {
    gw = await startGateway({ PAGODA_NOTIFY_ALLOW_HOSTS: '127.0.0.1,::1', PAGODA_NOTIFY_TIMEOUT: '2s' });
    creds = await gw.merchant(['IDR', 'MXN']);
    worker = startNotifyWorker(gw.app.services.notify, { pollMs: 50 });
    gw.app.services.wakeNotifier.wake = () => worker.wake();
  });
  after(async () => {
    await worker.stop();
    await gw.close();
  });
  afterEach(async () => {
    while (receivers.length) await receivers.pop()!.close();
  });

  async function receiver(script: Answer[], host?: string) {
    const r = await startReceiver(script, host);
    receivers.push(r);
    return r;
  }

  const paidOrder = (notifyUrl: string, extra: Record<string, unknown> = {}, app: Credentials = creds) => paidPayin(gw, app, notifyUrl, extra);

  const notificationOf = (orderNo: string) => gw.core.db.selectFrom('notifications').selectAll().where('order_no', '=', orderNo).executeTakeFirstOrThrow();
  const attemptsOf = async (orderNo: string) => {
    const n = await notificationOf(orderNo);
    return gw.core.db.selectFrom('notification_attempts').selectAll().where('notification_id', '=', n.id).orderBy('attempt_no').execute();
  };
  /** Moves virtual time to the notification's next due time and wakes the worker. */
  async function advanceToNext(orderNo: string): Promise<void> {
    const n = await notificationOf(orderNo);
    gw.clock.set(Number(n.next_attempt_at));
    worker.wake();
  }

  test('500, "fail", {"msg":"ok"}, then SUCCESS: exactly four attempts on the schedule, then none', async () => {
    const r = await receiver([
      { status: 500, body: 'SUCCESS' },
      { status: 200, body: 'fail' },
      { status: 200, body: '{"msg":"ok"}' },
      { status: 200, body: ' success\n' },
    ]);
    const orderNo = await paidOrder(r.url);
    const first = gw.clock.now();
    for (let k = 1; k <= 3; k++) {
      await eventually(async () => (await attemptsOf(orderNo)).length === k);
      await advanceToNext(orderNo);
    }
    await eventually(async () => (await notificationOf(orderNo)).state === 'delivered');
    const attempts = await attemptsOf(orderNo);
    assert.equal(attempts.length, 4);
    assert.deepEqual(attempts.map((a) => Number(a.started_at) - first), [0, 30 * S, 30 * S + 2 * M, 30 * S + 6 * M]);
    assert.deepEqual(attempts.map((a) => a.outcome), ['failed', 'failed', 'failed', 'delivered']);
    assert.match(attempts[0]!.reason!, /status 500/);
    assert.match(attempts[2]!.reason!, /\{"msg":"ok"\}/);
    gw.clock.advance(24 * H);
    worker.wake();
    await new Promise((r2) => setTimeout(r2, 200));
    assert.equal(r.received.length, 4);
    assert.equal((await notificationOf(orderNo)).attempts, 4n);
  });

  test('a receiver that never acknowledges: ten attempts at the configured offsets, then exhausted; resend restarts', async () => {
    const r = await receiver([{ status: 503, body: 'down' }]);
    const orderNo = await paidOrder(r.url);
    const first = gw.clock.now();
    for (let k = 1; k <= 10; k++) {
      await eventually(async () => (await attemptsOf(orderNo)).length === k);
      if (k < 10) await advanceToNext(orderNo);
    }
    const n = await eventually(async () => {
      const row = await notificationOf(orderNo);
      return row.state === 'exhausted' && row;
    });
    const offsets = (await attemptsOf(orderNo)).map((a) => Number(a.started_at) - first);
    assert.deepEqual(offsets, [0, 30 * S, 150 * S, 390 * S, 990 * S, 2790 * S, 6390 * S, 13590 * S, 35190 * S, 89190 * S]);
    gw.clock.advance(48 * H);
    worker.wake();
    await new Promise((r2) => setTimeout(r2, 200));
    assert.equal(r.received.length, 10);

    r.setScript([{ status: 200, body: 'OK' }]);
    const token = await gw.token(creds);
    const resend = await gw.call('POST', '/api/v3/notify/resend', { body: JSON.stringify({ orderNo }), headers: { authorization: `Bearer ${token}` } });
    assert.equal(resend.status, 200, resend.text);
    assert.equal(resend.json.data.notificationId, n.id);
    await eventually(async () => (await notificationOf(orderNo)).state === 'delivered');
    assert.equal(r.received.length, 11);
    const ids = new Set(r.received.map((x) => x.headers['webhook-id']));
    assert.deepEqual([...ids], [n.id]);
  });

  test('a resend can name an older notification of the order (its webhook-id), and is audited', async () => {
    const r = await receiver([{ status: 503, body: 'down' }]);
    const orderNo = await paidOrder(r.url);
    await eventually(async () => (await attemptsOf(orderNo)).length === 1);
    const paid = await notificationOf(orderNo);
    // A later change of the same order, with its own notification, delivered; the PAID one stays exhausted.
    await gw.core.db.updateTable('notifications').set({ state: 'exhausted', lease_until: null }).where('id', '=', paid.id).execute();
    const later = { ...paid, id: `${paid.id}_later`, status: 'REFUNDED', state: 'delivered', created_at: paid.created_at + 1n };
    await gw.core.db.insertInto('notifications').values(later).execute();

    r.setScript([{ status: 200, body: 'OK' }]);
    const token = await gw.token(creds);
    const resend = (body: Record<string, unknown>) => gw.call('POST', '/api/v3/notify/resend', { body: JSON.stringify(body), headers: { authorization: `Bearer ${token}` } });
    const unknown = await resend({ orderNo, notificationId: 'ntf_NOPE' });
    assert.deepEqual([unknown.status, unknown.json.error], [404, `order ${orderNo} has no notification ntf_NOPE`]);
    const res = await resend({ orderNo, notificationId: paid.id });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual([res.json.data.notificationId, res.json.data.status], [paid.id, 'PAID']);
    const byId = (id: string) => gw.core.db.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    await eventually(async () => (await byId(paid.id)).state === 'delivered');
    assert.equal(r.received.at(-1)!.headers['webhook-id'], paid.id);
    const audit = await gw.core.db.selectFrom('audit_log').selectAll().where('action', '=', 'notify.resend').where('subject', '=', orderNo).execute();
    assert.deepEqual(
      audit.map((a) => [a.actor, JSON.parse(a.detail!).notificationId]),
      [[`merchant:${creds.appId}`, paid.id]],
      'the refused resend left no trace; the accepted one names who asked',
    );
  });

  test('a resend while an attempt is under way is refused (409): no second delivery beside it, none lost after it', async () => {
    const r = await receiver(['hang', { status: 503, body: 'down' }]);
    const orderNo = await paidOrder(r.url);
    await eventually(async () => r.received.length === 1);
    const token = await gw.token(creds);
    const resend = () => gw.call('POST', '/api/v3/notify/resend', { body: JSON.stringify({ orderNo }), headers: { authorization: `Bearer ${token}` } });
    for (const res of await Promise.all([resend(), resend(), resend()])) {
      assert.equal(res.status, 409, res.text);
      assert.match(res.json.error, /notification is under way; resend it when that attempt ends/);
    }
    await new Promise((r2) => setTimeout(r2, 300));
    assert.equal(r.received.length, 1, 'a resend took the lease of the attempt in flight');
    // The hanging attempt times out (2 s) and is recorded; a resend then restarts at once.
    await eventually(async () => (await attemptsOf(orderNo)).length === 1, 10_000);
    r.setScript([{ status: 200, body: 'OK' }]);
    assert.equal((await resend()).status, 200);
    await eventually(async () => (await notificationOf(orderNo)).state === 'delivered');
    assert.equal(r.received.length, 2);
    assert.equal(new Set(r.received.map((x) => x.headers['webhook-id'])).size, 1);
  });

  test('a resend of an order that is not the merchant\'s, or has no notification yet, is 404 and says which', async () => {
    const r = await receiver([{ status: 200, body: 'OK' }]);
    const paid = await paidOrder(r.url);
    const token = await gw.token(creds);
    const created = await gw.call('POST', '/api/v3/payment/create', {
      body: JSON.stringify({ merOrderNo: `n-${Math.random().toString(36).slice(2)}`, currency: 'MXN', amount: 10, payMethod: 'spei', notifyUrl: r.url }),
      headers: { authorization: `Bearer ${token}` },
    });
    const pending = created.json.data.orderNo as string;
    const other = await gw.merchant(['MXN']);
    const resend = async (who: Credentials, orderNo: string) =>
      gw.call('POST', '/api/v3/notify/resend', { body: JSON.stringify({ orderNo }), headers: { authorization: `Bearer ${await gw.token(who)}` } });
    // An app of the same merchant whose scope does not cover pay-ins learns nothing of them either.
    const payoutOnly = await createApp(gw.core.db, { box: gw.core.box, now: gw.clock.now(), actor: 'test' }, { merchantId: creds.merchantId, scopes: ['payout'] });
    const answers = [await resend(creds, 'PI_NO_SUCH_ORDER'), await resend(other, paid), await resend(creds, pending), await resend({ merchantId: creds.merchantId, ...payoutOnly }, paid)];
    assert.deepEqual(
      answers.map((a) => [a.status, a.json.error]),
      [
        [404, 'order PI_NO_SUCH_ORDER does not exist'],
        [404, `order ${paid} does not exist`],
        [404, `order ${pending} has no notification to resend`],
        [404, `order ${paid} does not exist`],
      ],
    );
    assert.equal((await gw.core.db.selectFrom('audit_log').select('id').where('action', '=', 'notify.resend').where('subject', '=', paid).execute()).length, 0, 'nothing was resent');
  });

  test('v3 payload is the order object signed over all fields, with Standard Webhooks headers', async () => {
    const r = await receiver([{ status: 200, body: 'SUCCESS' }]);
    const orderNo = await paidOrder(r.url, { attach: 'a&b=c' });
    await eventually(async () => r.received.length === 1);
    const got = r.received[0]!;
    const body = JSON.parse(got.body);
    assert.equal(body.orderNo, orderNo);
    assert.equal(body.status, 'PAID');
    assert.equal(body.paidAmount, 1250.5);
    assert.equal(body.sign, referenceSign(body, creds.appSecret));
    const key = createHmac('sha256', creds.appSecret).update('pagoda-webhook-signature').digest();
    const expected = createHmac('sha256', key).update(`${got.headers['webhook-id']}.${got.headers['webhook-timestamp']}.${got.body}`).digest('base64');
    assert.equal(got.headers['webhook-signature'], `v1,${expected}`);
  });

  test("during a rotation's grace the webhook-signature header verifies under the old and the new secret; the body is signed with the new", async () => {
    const m = await gw.merchant(['MXN']);
    const rotated = await rotateApp(gw.core.db, { box: gw.core.box, now: gw.clock.now(), actor: 'test' }, m.appId, H);
    gw.clock.advance(gw.config.appCacheTtlMs + 1);
    const r = await receiver([{ status: 200, body: 'SUCCESS' }]);
    await paidOrder(r.url, {}, m);
    await eventually(async () => r.received.length === 1);
    const got = r.received[0]!;
    const nowSec = Math.floor(gw.clock.now() / 1000);
    assert.equal(String(got.headers['webhook-signature']).split(' ').length, 2);
    for (const secret of [rotated.appSecret, m.appSecret]) assert.deepEqual(verifyWebhook(got.headers, got.body, secret, { nowSec }), { ok: true });
    assert.equal(JSON.parse(got.body).sign, referenceSign(JSON.parse(got.body), rotated.appSecret));
  });

  test('v2 payload: exactly the core fields signed, realAmount unsigned, no message; status 3 once acknowledged', async () => {
    const r = await receiver([{ status: 500, body: 'busy' }, { status: 200, body: 'SUCCESS' }]);
    const body: Record<string, unknown> = { appId: creds.appId, merOrderNo: 'v2-n-1', currency: 'IDR', amount: '150000', payMethod: 'ID_QRIS', notifyUrl: r.url, attach: 'x' };
    body.sign = referenceSign(body, creds.appSecret);
    const created = await gw.call('POST', '/api/v2/payment/order/create', { body: JSON.stringify(body) });
    assert.equal(created.status, 200, created.text);
    const orderNo = created.json.data.orderNo as string;
    const token = await gw.token(creds);
    await gw.call('POST', `/sandbox/v1/payins/${orderNo}/complete`, { body: '{"outcome":"PAID","paidAmount":"149000"}', headers: { authorization: `Bearer ${token}` } });
    await eventually(async () => r.received.length === 1);
    const got = JSON.parse(r.received[0]!.body);
    const { sign, realAmount, ...core } = got;
    assert.deepEqual(Object.keys(core).sort(), ['amount', 'attach', 'createTime', 'currency', 'merOrderNo', 'orderNo', 'orderStatus', 'updateTime']);
    assert.equal(core.orderStatus, 2);
    assert.equal(core.amount, 150000);
    assert.equal(realAmount, 149000);
    assert.equal(sign, referenceSign(core, creds.appSecret));
    assert.equal(got.message, undefined);
    // Acknowledged on the retry, minutes after PAID.
    await eventually(async () => (await attemptsOf(orderNo)).length === 1);
    await advanceToNext(orderNo);
    await eventually(async () => (await notificationOf(orderNo)).state === 'delivered');
    const q: Record<string, unknown> = { appId: creds.appId, orderNo, merOrderNo: '' };
    q.sign = referenceSign(q, creds.appSecret);
    const query = await gw.call('GET', `/api/v2/payment/order/query?${new URLSearchParams(q as Record<string, string>)}`);
    assert.equal(query.status, 200, query.text);
    assert.equal(query.json.data.orderStatus, 3);
    assert.equal(query.json.data.updateTime, core.updateTime, 'the acknowledgement is not a change of status: updateTime stays that of PAID');
  });

  test('private targets are refused unless allow-listed: loopback forms delivered, others still refused', async () => {
    const r = await receiver([{ status: 200, body: 'OK' }], '::');
    const port = new URL(r.url).port;
    for (const url of [`http://127.0.0.1:${port}/n`, `http://[::1]:${port}/n`, `http://[::ffff:127.0.0.1]:${port}/n`, `http://localhost:${port}/n`]) {
      const orderNo = await paidOrder(url);
      await eventually(async () => (await notificationOf(orderNo)).state === 'delivered');
    }
    assert.equal(r.received.length, 4);
    for (const url of ['http://10.0.0.1/n', 'http://169.254.169.254/latest']) {
      const orderNo = await paidOrder(url);
      const [attempt] = await eventually(async () => {
        const a = await attemptsOf(orderNo);
        return a.length === 1 && a;
      });
      assert.equal(attempt!.error_class, 'ssrf', url);
      assert.equal((await notificationOf(orderNo)).state, 'pending', 'a refused target is retried on the schedule');
    }
  });

  test('an answer with a NUL in it (UTF-16 "SUCCESS", "OK\\0") is recorded as a failure and retried on the schedule, on either database', async () => {
    const r = await receiver([
      { status: 200, body: Buffer.from('SUCCESS', 'utf16le').toString('latin1') },
      { status: 200, body: 'OK\0' },
      { status: 200, body: 'OK' },
    ]);
    const orderNo = await paidOrder(r.url);
    for (let k = 1; k <= 2; k++) {
      await eventually(async () => (await attemptsOf(orderNo)).length === k);
      await advanceToNext(orderNo);
    }
    await eventually(async () => (await notificationOf(orderNo)).state === 'delivered');
    const attempts = await attemptsOf(orderNo);
    assert.deepEqual(attempts.map((a) => a.outcome), ['failed', 'failed', 'delivered']);
    assert.ok(attempts.every((a) => !(a.response_body ?? '').includes('\0') && !(a.reason ?? '').includes('\0')));
    assert.equal(attempts[1]!.response_body, 'OK\uFFFD');
    assert.equal(r.received.length, 3, 'each attempt once: none sent again by a lease');
  });

  test('a notification damaged in the database is recorded as failed attempts on the schedule, then exhausted, never sent', async () => {
    const r = await receiver([{ status: 200, body: 'SUCCESS' }]);
    const orderNo = await paidOrder(r.url);
    const good = await eventually(async () => {
      const n = await notificationOf(orderNo);
      return n.state === 'delivered' && n;
    });
    const damaged = { ...good, id: `${good.id}x`, payload: '{"signed":', state: 'pending', attempts: 0n, next_attempt_at: gw.clock.now(), lease_until: null, last_error: null, delivered_at: null };
    await gw.core.db.insertInto('notifications').values(damaged).execute();
    worker.wake();
    const attemptsOfDamaged = () => gw.core.db.selectFrom('notification_attempts').selectAll().where('notification_id', '=', damaged.id).orderBy('attempt_no').execute();
    for (let k = 1; k <= 10; k++) {
      await eventually(async () => (await attemptsOfDamaged()).length === k);
      if (k < 10) {
        const n = await gw.core.db.selectFrom('notifications').selectAll().where('id', '=', damaged.id).executeTakeFirstOrThrow();
        assert.equal(n.state, 'pending');
        gw.clock.set(Number(n.next_attempt_at));
        worker.wake();
      }
    }
    const last = await eventually(async () => {
      const n = await gw.core.db.selectFrom('notifications').selectAll().where('id', '=', damaged.id).executeTakeFirstOrThrow();
      return n.state === 'exhausted' && n;
    });
    assert.match(last.last_error!, /could not be prepared/);
    const attempts = await attemptsOfDamaged();
    assert.deepEqual(attempts.map((a) => a.attempt_no), [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n]);
    assert.ok(attempts.every((a) => a.outcome !== 'delivered' && a.error_class === 'other' && /could not be prepared/.test(a.reason!)));
    assert.equal(r.received.length, 1, 'only the good notification reached the receiver');
  });

  test('the list is newest first, by merchant, state and order, up to its limit', async () => {
    const other = await gw.merchant(['MXN']);
    const r = await receiver([{ status: 503, body: 'down' }]);
    const orders: string[] = [];
    for (let i = 0; i < 3; i++) {
      orders.push(await paidOrder(r.url, {}, other));
      gw.clock.advance(1000);
    }
    await eventually(async () => r.received.length === 3);
    const list = (filter: Partial<Parameters<typeof listNotifications>[1]>) => listNotifications(gw.core.db, { limit: 10, ...filter }).then((rows) => rows.map((n) => n.order_no));
    assert.deepEqual(await list({ merchantId: other.merchantId }), [orders[2], orders[1], orders[0]]);
    assert.deepEqual(await list({ merchantId: other.merchantId, limit: 2 }), [orders[2], orders[1]]);
    assert.deepEqual(await list({ merchantId: other.merchantId, state: 'delivered' }), []);
    assert.deepEqual(await list({ merchantId: other.merchantId, state: 'pending', orderNo: orders[1] }), [orders[1]]);
    assert.deepEqual(await list({ limit: 1 }), [orders[2]], 'the newest of all merchants');
  });

  test('an app relaxed to any-2xx accepts a 204', async () => {
    const r = await receiver([{ status: 204, body: '' }]);
    await updateApp(gw.core.db, { box: gw.core.box, now: gw.clock.now(), actor: 'test' }, creds.appId, { ackMode: 'any-2xx' });
    // The worker remembers apps for the cache TTL, as the API does.
    gw.clock.advance(gw.config.appCacheTtlMs);
    try {
      const orderNo = await paidOrder(r.url);
      await eventually(async () => (await notificationOf(orderNo)).state === 'delivered');
    } finally {
      await updateApp(gw.core.db, { box: gw.core.box, now: gw.clock.now(), actor: 'test' }, creds.appId, { ackMode: 'strict' });
      gw.clock.advance(gw.config.appCacheTtlMs);
    }
  });

  test('metrics show outcomes and the backlog, to loopback clients', async () => {
    const res = await gw.call('GET', '/metrics');
    assert.equal(res.status, 200);
    assert.match(res.text, /pagoda_notify_attempts_total\{outcome="delivered"\} \d+/);
    assert.match(res.text, /pagoda_notify_backlog \d+/);
    assert.match(res.text, /pagoda_notify_oldest_due_age_seconds/);
    // And the process's own.
    for (const name of ['process_resident_memory_bytes', 'process_open_fds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes']) {
      assert.match(res.text, new RegExp(`^${name} \\d`, 'm'), name);
    }
  });
});

describe('notifications without an allow-list', () => {
  test('loopback, private, link-local and metadata targets are refused, recorded and never contacted', async () => {
    const gw = await startGateway({ PAGODA_NOTIFY_TIMEOUT: '2s' });
    const worker = startNotifyWorker(gw.app.services.notify, { pollMs: 50 });
    gw.app.services.wakeNotifier.wake = () => worker.wake();
    const r = await startReceiver([{ status: 200, body: 'OK' }], '::');
    try {
      const creds = await gw.merchant(['MXN']);
      const auth = { authorization: `Bearer ${await gw.token(creds)}` };
      const port = new URL(r.url).port;
      const urls = [`http://127.0.0.1:${port}/n`, `http://[::1]:${port}/n`, `http://[::ffff:127.0.0.1]:${port}/n`, `http://localhost:${port}/n`, 'http://10.0.0.1/n', 'http://169.254.169.254/latest'];
      for (const [i, notifyUrl] of urls.entries()) {
        const created = await gw.call('POST', '/api/v3/payment/create', {
          body: JSON.stringify({ merOrderNo: `g-${i}`, currency: 'MXN', amount: 10, payMethod: 'spei', notifyUrl }),
          headers: auth,
        });
        await gw.call('POST', `/sandbox/v1/payins/${created.json.data.orderNo}/complete`, { body: '{"outcome":"PAID"}', headers: auth });
        const n = await eventually(async () => {
          const row = await gw.core.db.selectFrom('notifications').selectAll().where('order_no', '=', created.json.data.orderNo).executeTakeFirst();
          return row && row.attempts === 1n && row;
        });
        assert.equal(n.state, 'pending', notifyUrl);
        assert.match(n.last_error ?? '', /loopback|private|link-local|linkLocal|reserved|not allowed|refused/i, notifyUrl);
      }
      assert.equal(r.received.length, 0);
    } finally {
      await worker.stop();
      await r.close();
      await gw.close();
    }
  });
});

describe('notifications waiting for a busy destination', () => {
  test('a claimed row whose lease would run out before its turn is given back unsent, then delivered once', async () => {
    const gw = await startGateway({ PAGODA_NOTIFY_ALLOW_HOSTS: '127.0.0.1', PAGODA_NOTIFY_TIMEOUT: '2s' });
    const r = await startReceiver(['hang', { status: 200, body: 'SUCCESS' }]);
    let worker: NotifyWorker | undefined;
    try {
      const creds = await gw.merchant(['MXN']);
      const auth = { authorization: `Bearer ${await gw.token(creds)}` };
      const orders: string[] = [];
      // Both due before the worker starts, so one claim takes both: one goes out, one waits.
      for (const merOrderNo of ['w-1', 'w-2']) {
        const created = await gw.call('POST', '/api/v3/payment/create', {
          body: JSON.stringify({ merOrderNo, currency: 'MXN', amount: 10, payMethod: 'spei', notifyUrl: r.url }),
          headers: auth,
        });
        orders.push(created.json.data.orderNo);
        await gw.call('POST', `/sandbox/v1/payins/${created.json.data.orderNo}/complete`, { body: '{"outcome":"PAID"}', headers: auth });
      }
      const row = (orderNo: string) => gw.core.db.selectFrom('notifications').selectAll().where('order_no', '=', orderNo).executeTakeFirstOrThrow();
      worker = startNotifyWorker(gw.app.services.notify, { pollMs: 50, perOrigin: 1 });
      gw.app.services.wakeNotifier.wake = () => worker!.wake();
      await eventually(async () => r.received.length === 1);
      const sentFirst = JSON.parse(r.received[0]!.body).orderNo as string;
      const waiter = orders.find((o) => o !== sentFirst)!;
      assert.notEqual((await row(waiter)).lease_until, null, 'the second row is claimed and waiting');

      // Lease = 2 × 2 s + 5 s; an attempt needs 2 s + 2 s of it left. Past that point the waiting row goes back.
      gw.clock.advance(5_001);
      const released = await eventually(async () => {
        const n = await row(waiter);
        return n.lease_until === null && n;
      });
      assert.equal(released.attempts, 0n, 'given back without an attempt');
      assert.equal(released.state, 'pending');
      assert.equal(r.received.length, 1, 'never sent while its lease could run out mid-attempt');

      // The first attempt times out (2 s); the freed slot takes the given-back row.
      const delivered = await eventually(async () => {
        const n = await row(waiter);
        return n.state === 'delivered' && n;
      });
      assert.equal(delivered.attempts, 1n);
      assert.equal((await row(sentFirst)).attempts, 1n);
      assert.equal(r.received.length, 2);
    } finally {
      await worker?.stop();
      await r.close();
      await gw.close();
    }
  });
});

/**
 * The gateway out of file descriptors (its soft limit lowered to what it holds, by a shell started
 * before, since spawning needs descriptors too): the kernel refuses the worker's connect with EMFILE.
 */
// SQLite only: the gateway and the test read their database through files already open, while a
// PostgreSQL pool may need a new connection (a descriptor) at any moment; the rule under test is the worker's.
describe('notifications while the gateway is out of file descriptors', { skip: (process.platform !== 'linux' && 'Linux only (prlimit)') || (TEST_DB !== 'sqlite' && 'SQLite only') }, () => {
  test('an attempt the gateway could not make uses up none of the receiver\'s: made again, counted once', async () => {
    const gw = await startGateway({ PAGODA_NOTIFY_ALLOW_HOSTS: '127.0.0.1', PAGODA_NOTIFY_TIMEOUT: '2s' });
    const r = await startReceiver([{ status: 200, body: 'OK' }]);
    const shell = spawn('bash', [], { stdio: ['pipe', 'ignore', 'ignore'] });
    const hard = /Max open files\s+\d+\s+(\d+)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'))![1]!;
    const canOpen = () => {
      try {
        fs.closeSync(fs.openSync('/dev/null', 'r'));
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EMFILE') throw err;
        return false;
      }
    };
    let worker: NotifyWorker | undefined;
    try {
      const creds = await gw.merchant(['MXN']);
      const orderNo = await paidPayin(gw, creds, r.url);
      const notification = () => gw.core.db.selectFrom('notifications').selectAll().where('order_no', '=', orderNo).executeTakeFirstOrThrow();
      const attempts = async () => gw.core.db.selectFrom('notification_attempts').selectAll().where('notification_id', '=', (await notification()).id).orderBy('started_at').execute();
      // The limit bounds descriptor numbers: at the lowest free one, no new descriptor can be made.
      const lowestFree = fs.openSync('/dev/null', 'r');
      fs.closeSync(lowestFree);
      shell.stdin.write(`prlimit --pid ${process.pid} --nofile=${lowestFree}:${hard}\n`);
      await eventually(async () => !canOpen());
      worker = startNotifyWorker(gw.app.services.notify, { pollMs: 50 });
      const [refused] = await eventually(async () => {
        const rows = await attempts();
        return rows.length > 0 && rows;
      });
      shell.stdin.write(`prlimit --pid ${process.pid} --nofile=${hard}:${hard}\n`);
      await eventually(async () => canOpen());
      assert.equal(refused!.error_class, 'local');
      assert.match(refused!.reason ?? '', /the gateway ran out of file descriptors \(EMFILE\); not counted as an attempt/);
      const waiting = await notification();
      assert.deepEqual([waiting.state, waiting.attempts], ['pending', 0n], 'no attempt of the receiver used up');
      assert.equal(Number(waiting.next_attempt_at) - Number(refused!.started_at) >= LOCAL_RETRY_MS, true);
      assert.equal(r.received.length, 0);
      gw.clock.set(Number(waiting.next_attempt_at));
      worker.wake();
      const delivered = await eventually(async () => {
        const n = await notification();
        return n.state === 'delivered' && n;
      });
      assert.equal(delivered.attempts, 1n, 'the delivery is the first attempt');
      assert.equal(r.received.length, 1);
    } finally {
      shell.stdin.write(`prlimit --pid ${process.pid} --nofile=${hard}:${hard}\n`);
      shell.stdin.end();
      await once(shell, 'close');
      await worker?.stop();
      await r.close();
      await gw.close();
    }
  });
});
