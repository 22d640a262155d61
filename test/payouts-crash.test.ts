/**
 * Crash safety of payouts with real `node bin/pagoda.mjs serve` processes
 * (SQLite in the workspace, or PostgreSQL with PAGODA_TEST_DB=postgres).
 *
 * How the crashes are made deterministic:
 * - "killed between our commit and the channel call": the state such a crash
 *   leaves is the committed creating transaction of createPayout and nothing
 *   else. The test commits exactly that transaction with the service's own
 *   writeNewPayouts, the row built as createPayout builds it, dated a minute ago (the crash happened
 *   earlier; recovery only looks at orders older than the channel timeout + 5 s).
 *   A second test does it for real: an `--role api` process is SIGKILLed while
 *   its create request waits on the sandbox, which never answers an amount
 *   ending in .98, so the kill always lands after the commit and before any
 *   channel answer.
 * - "killed between the channel's answer and our commit": the bank has the
 *   order (a sandbox_bank row, as the sandbox writes when it accepts a payout)
 *   while our order is still CREATED and old.
 * Then a `--role worker` process runs; its recovery job runs at start (and
 * every 10 s after), its sandbox job every second.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { Agent, request } from 'undici';
import { loadConfig } from '../src/config.ts';
import { openCore, type Core } from '../src/core.ts';
import type { Db } from '../src/platform/db/database.ts';
import { methodSettings } from '../src/modules/channels/method-settings.ts';
import { adjust } from '../src/modules/ledger/ledger.service.ts';
import { checkLedger } from '../src/modules/ledger/ledger.check.ts';
import { createMerchant, type Credentials } from '../src/modules/merchants/merchant.service.ts';
import { computeFee } from '../src/modules/orders/fee.ts';
import { newOrderRow, parseOrderRequest, requestHash } from '../src/modules/orders/order.request.ts';
import { findOrder, listOrderEvents } from '../src/modules/orders/order.service.ts';
import { createPayout, writeNewPayouts } from '../src/modules/payouts/payout.service.ts';
import { buildServices } from '../src/services.ts';
import { TEST_MASTER_KEY } from './helpers/gateway.ts';
import { balancesOf, entryKinds, payoutBody } from './helpers/money.ts';
import { createWorkspace, freePort, waitUntil, type Workspace } from './helpers/process.ts';

const FUNDS = 100_000n;
const CHILD_ENV = { PAGODA_MASTER_KEY: TEST_MASTER_KEY, PAGODA_DEMO_MERCHANT: '0', PAGODA_LOG_LEVEL: 'warn' };

interface Setup {
  ws: Workspace;
  creds: Credentials;
  /** A connection of the test's own to the workspace database, for setup and assertions. */
  db: Db;
}

/** A workspace with a merchant whose payout balance holds 1,000.00 MXN. */
async function setup(t: TestContext): Promise<Setup & { core: Core }> {
  const ws = await createWorkspace();
  const core = await openCore(loadConfig({ ...ws.env, ...CHILD_ENV }));
  t.after(async () => {
    await core.db.destroy();
    await ws.cleanup();
  });
  const creds = await core.db.transaction().execute(async (tx) => {
    const c = await createMerchant(tx, { box: core.box, now: Date.now(), actor: 'test' }, { name: 'Crash Merchant', currencies: ['MXN'] });
    await adjust(tx, { now: Date.now(), actor: 'test:funding' }, { merchantId: c.merchantId, currency: 'MXN', account: 'payout', amount: FUNDS, reason: 'test funding' });
    return c;
  });
  return { ws, creds, db: core.db, core };
}

/** Commits what createPayout commits before it calls the channel, dated `at`; nothing else. */
async function commitCreatedPayout(db: Db, creds: Credentials, amount: number, at: number): Promise<string> {
  const req = parseOrderRequest(payoutBody({ amount: amount.toFixed(2) }), 'payout', { requireHttps: false });
  const settings = await methodSettings(db, creds.merchantId, 'payout', req.method!.code);
  const caller = { merchantId: creds.merchantId, appId: creds.appId, generation: 'v3' as const };
  const row = newOrderRow('payout', caller, req, requestHash(req), at, { channel: settings.channel, fee: computeFee(req.amount, settings.fee), expiresAt: null });

  // A new order without a channel answer has no state change, so no effects to write.
  const noEffects = { effects: { writes: () => false, write: () => Promise.reject(new Error('a new payout has no effects')) } };
  assert.ok((await db.transaction().execute((tx) => writeNewPayouts(tx, noEffects, [{ row, actor: `merchant:${creds.appId}` }])))[0]);
  return row.order_no;
}

function startWorker(ws: Workspace, extra: Record<string, string> = {}) {
  return ws.spawn(['serve', '--role', 'worker'], { ...CHILD_ENV, PAGODA_CHANNEL_TIMEOUT: '500ms', PAGODA_SANDBOX_PAYOUT_DELAY: '1s', ...extra });
}

const statusOf = async (db: Db, orderNo: string) => (await findOrder(db, orderNo))?.status;
const bankRows = (db: Db, orderNo: string) => db.selectFrom('sandbox_bank').selectAll().where('order_no', '=', orderNo).execute();

async function waitForStatus(db: Db, orderNo: string, status: string, timeoutMs: number, child: { stderr(): string }) {
  const reached = await waitUntil(async () => (await statusOf(db, orderNo)) === status, timeoutMs);
  assert.ok(reached, `order ${orderNo} is ${await statusOf(db, orderNo)}, not ${status}, after ${timeoutMs} ms\nworker stderr: ${child.stderr()}`);
}

/** The settled end state: one freeze, one payout.paid, nothing frozen, the ledger consistent. */
async function assertPaidOnce(db: Db, creds: Credentials, orderNo: string, total: bigint) {
  assert.deepEqual(await entryKinds(db, orderNo), ['payout.freeze', 'payout.paid']);
  assert.deepEqual(await balancesOf(db, creds.merchantId), { payin: 0n, payout: FUNDS - total, frozen: 0n });
  assert.equal((await bankRows(db, orderNo)).length, 1);
  assert.deepEqual(await checkLedger(db), []);
}

describe('payout crash recovery (child processes)', () => {
  it('killed between commit and channel call: the recovery job submits it once; PENDING, then PAID', { timeout: 60_000 }, async (t) => {
    const { ws, creds, db } = await setup(t);
    const orderNo = await commitCreatedPayout(db, creds, 250, Date.now() - 60_000);
    assert.deepEqual(await balancesOf(db, creds.merchantId), { payin: 0n, payout: FUNDS - 25_000n, frozen: 25_000n });
    assert.equal((await bankRows(db, orderNo)).length, 0, 'the bank has not seen it');

    const worker = startWorker(ws);
    await waitForStatus(db, orderNo, 'PAID', 25_000, worker);
    const history = await listOrderEvents(db, orderNo);
    assert.deepEqual(history.map((e) => [e.from_status, e.to_status, e.actor]), [
      [null, 'CREATED', `merchant:${creds.appId}`],
      ['CREATED', 'PENDING', 'channel:sandbox'],
      ['PENDING', 'PAID', 'channel:sandbox'],
    ]);
    assert.equal(JSON.parse(history[1]!.detail!).submittedBy, 'payout-recovery', 'the history says who submitted it');
    // As the operator sees it.
    const shown = await ws.run(['order', 'show', orderNo, '--json'], CHILD_ENV);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(JSON.parse(shown.stdout).history[1].detail.submittedBy, 'payout-recovery');
    assert.match((await ws.run(['order', 'show', orderNo], CHILD_ENV)).stdout, /CREATED→PENDING \(channel, channel:sandbox\) \{"submittedBy":"payout-recovery"\}/);
    assert.equal((await findOrder(db, orderNo))!.channel_ref, `sbx_${orderNo}`);
    await assertPaidOnce(db, creds, orderNo, 25_000n);
    const notes = await db.selectFrom('notifications').select('status').where('order_no', '=', orderNo).execute();
    assert.deepEqual(notes.map((n) => n.status), ['PAID']);
  });

  it('the same with two worker processes recovering at once: one submission takes effect, funds frozen and paid once', { timeout: 60_000 }, async (t) => {
    const { ws, creds, db } = await setup(t);
    const orderNo = await commitCreatedPayout(db, creds, 123.45, Date.now() - 60_000);
    const workers = [startWorker(ws), startWorker(ws)];
    await waitForStatus(db, orderNo, 'PAID', 25_000, { stderr: () => workers.map((w) => w.stderr()).join('\n') });
    const history = await listOrderEvents(db, orderNo);
    assert.deepEqual(history.map((e) => e.to_status), ['CREATED', 'PENDING', 'PAID']);
    await assertPaidOnce(db, creds, orderNo, 12_345n);
  });

  it('killed between the channel\'s answer and our commit: recovery adopts PENDING without a second submission, then PAID', { timeout: 60_000 }, async (t) => {
    const { ws, creds, db } = await setup(t);
    const orderNo = await commitCreatedPayout(db, creds, 77.7, Date.now() - 60_000);
    // The bank accepted it (the sandbox's own record) and will pay it an hour from now.
    const due = BigInt(Date.now() + 3_600_000);
    await db.insertInto('sandbox_bank').values({ order_no: orderNo, direction: 'payout', status: 'PENDING', amount: 7_770n, paid_amount: null, event_id: null, due_at: due, updated_at: Date.now() - 59_000 }).execute();
    const bankBefore = (await bankRows(db, orderNo))[0]!;

    const worker = startWorker(ws);
    await waitForStatus(db, orderNo, 'PENDING', 25_000, worker);
    const history = await listOrderEvents(db, orderNo);
    assert.deepEqual(history.map((e) => [e.from_status, e.to_status, e.actor]), [
      [null, 'CREATED', `merchant:${creds.appId}`],
      ['CREATED', 'PENDING', 'system:payout-recovery'],
    ]);
    assert.equal(JSON.parse(history[1]!.detail!).recovered, true);
    // Not submitted again: the submission path records the channel's reference; the bank's record is untouched.
    assert.equal((await findOrder(db, orderNo))!.channel_ref, null);
    assert.deepEqual(await bankRows(db, orderNo), [bankBefore]);
    assert.deepEqual(await balancesOf(db, creds.merchantId), { payin: 0n, payout: FUNDS - 7_770n, frozen: 7_770n });
    assert.deepEqual(await entryKinds(db, orderNo), ['payout.freeze']);

    // The bank pays it now.
    await db.updateTable('sandbox_bank').set({ due_at: BigInt(Date.now()) }).where('order_no', '=', orderNo).execute();
    await waitForStatus(db, orderNo, 'PAID', 15_000, worker);
    await assertPaidOnce(db, creds, orderNo, 7_770n);
  });

  it('a real kill -9 of the API process while the channel call is in flight: the worker resubmits once; no answer → EXCEPTION, funds frozen once', { timeout: 90_000 }, async (t) => {
    const { ws, creds, db, core } = await setup(t);
    const port = await freePort();
    // The API process waits up to a minute on the channel: it is certainly in flight when killed.
    const api = ws.spawn(['serve', '--role', 'api'], { ...CHILD_ENV, PAGODA_PORT: String(port), PAGODA_CHANNEL_TIMEOUT: '60s' });
    await api.waitFor(/listening/, 30_000);
    const agent = new Agent({ connect: { rejectUnauthorized: false } });
    t.after(() => agent.close());
    const base = `https://127.0.0.1:${port}`;
    const tokenRes = await request(`${base}/api/v3/oauth/token`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', app_id: creds.appId, app_secret: creds.appSecret }),
    });
    const token = ((await tokenRes.body.json()) as { data: { token: string } }).data.token;
    const body = payoutBody({ amount: 40.98 });
    const inFlight = request(`${base}/api/v3/payout/create`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    }).then(
      (r) => `answered ${r.statusCode}`,
      (err: Error) => `failed: ${err.message}`,
    );
    const committed = await waitUntil(async () => {
      const row = await db.selectFrom('orders').select(['status']).where('mer_order_no', '=', body.merOrderNo as string).executeTakeFirst();
      return row?.status === 'CREATED';
    }, 15_000);
    assert.ok(committed, `the create was not committed: ${api.stderr()}`);
    api.proc.kill('SIGKILL');
    await api.exited;
    assert.match(await inFlight, /^failed/, 'the merchant saw no answer');
    const order = (await db.selectFrom('orders').selectAll().where('mer_order_no', '=', body.merOrderNo as string).executeTakeFirstOrThrow())!;
    assert.equal(order.status, 'CREATED');
    const total = 4_098n;
    assert.deepEqual(await balancesOf(db, creds.merchantId), { payin: 0n, payout: FUNDS - total, frozen: total });

    // Recovery considers CREATED orders older than the channel timeout (500 ms) + 5 s: wait that long, then start the worker.
    const age = Date.now() - Number(order.updated_at);
    if (age < 6_000) await new Promise((r) => setTimeout(r, 6_000 - age));
    const worker = startWorker(ws);
    await waitForStatus(db, order.order_no, 'EXCEPTION', 25_000, worker);
    // A moment later nothing more has happened: an EXCEPTION is left to an operator.
    await new Promise((r) => setTimeout(r, 1_500));
    const history = await listOrderEvents(db, order.order_no);
    assert.deepEqual(history.map((e) => [e.from_status, e.to_status, e.actor]), [
      [null, 'CREATED', `merchant:${creds.appId}`],
      ['CREATED', 'EXCEPTION', 'channel:sandbox'],
    ]);
    assert.deepEqual(await entryKinds(db, order.order_no), ['payout.freeze']);
    assert.deepEqual(await balancesOf(db, creds.merchantId), { payin: 0n, payout: FUNDS - total, frozen: total });
    assert.deepEqual(await checkLedger(db), []);
    // The merchant's retry of the create answers the same order: nothing is frozen twice.
    const services = buildServices(core, pino({ level: 'silent' }) as unknown as FastifyBaseLogger);
    t.after(() => services.close());
    const retry = await createPayout(services.payouts, { merchantId: creds.merchantId, appId: creds.appId, generation: 'v3' }, { ...body, amount: '40.98' });
    assert.deepEqual([retry.order_no, retry.status], [order.order_no, 'EXCEPTION']);
    assert.deepEqual(await balancesOf(db, creds.merchantId), { payin: 0n, payout: FUNDS - total, frozen: total });
  });
});
