/**
 * `pagoda ledger check` (checkLedger) must stay usable as the ledger grows:
 * its cost should grow about linearly with the number of entries. Measured as
 * a ratio (4× the orders may cost at most 8× the time, the fastest of five
 * checks each, the two databases checked in turn), so a slow or busy machine does
 * not make it fail, a quadratic plan (16×) does. Run with the
 * statistics a running database has (ANALYZE on PostgreSQL after each load).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { sql } from 'kysely';
import { checkLedger } from '../src/modules/ledger/ledger.check.ts';
import { dialectOf } from '../src/platform/db/database.ts';
import { newId } from '../src/platform/ids.ts';
import { insertOrderIfAbsent, recordCreation, transitionOrder } from '../src/modules/orders/order.service.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { newRef } from './helpers/payins.ts';

describe('ledger check scales with the ledger', () => {
  const gateways: TestGateway[] = [];
  after(() => Promise.all(gateways.map((gw) => gw.close())));

  /** A gateway whose database holds `n` PAID pay-ins, each with its payin.paid entry, made through the real state change and its effects. */
  async function withPaidPayins(n: number): Promise<TestGateway> {
    const gw = await startGateway();
    gateways.push(gw);
    const { merchantId, appId } = await gw.merchant(['MXN']);
    const deps = gw.app.services.payins;
    await gw.core.db.transaction().execute(async (tx) => {
      for (let i = 0; i < n; i++) {
        const now = gw.clock.now();
        const orderNo = newId('PI', now);
        const row = {
          order_no: orderNo, direction: 'payin', merchant_id: merchantId, app_id: appId, generation: 'v3', mer_order_no: newRef('scale'),
          request_hash: 'x', currency: 'MXN', amount: 10_000n, paid_amount: null, method: 'MX_SPEI', channel: 'sandbox', channel_ref: null,
          status: 'PENDING', attach: null, notify_url: 'https://merchant.example/n', return_url: null, extra: null, params: null, message: null,
          expires_at: BigInt(now + 1_800_000), created_at: now, updated_at: now,
        };
        await insertOrderIfAbsent(tx, row);
        await recordCreation(tx, now, (await tx.selectFrom('orders').selectAll().where('order_no', '=', orderNo).executeTakeFirstOrThrow()), 'test');
        const r = await transitionOrder(tx, deps, orderNo, { to: 'PAID', cause: 'channel', actor: 'test', changes: { paid_amount: 10_000n, fee: 100n } });
        assert.equal(r.kind, 'applied');
      }
    });
    // What autovacuum does after a bulk load: without fresh statistics PostgreSQL
    // plans for the empty tables it last saw, and the test would time the planner's guess.
    if (dialectOf(gw.core.db) === 'postgres') await sql`analyze`.execute(gw.core.db);
    return gw;
  }

  async function timeCheck(gw: TestGateway): Promise<number> {
    const started = performance.now();
    assert.deepEqual(await checkLedger(gw.core.db), []);
    return performance.now() - started;
  }

  test('4× the orders costs at most 8× the time', { timeout: 120_000 }, async () => {
    const smaller = await withPaidPayins(1000);
    const larger = await withPaidPayins(4000);
    // The fastest of five each, in turn: a busy machine only ever adds time, and it slows both alike.
    let small = Infinity;
    let large = Infinity;
    for (let i = 0; i < 5; i++) {
      small = Math.min(small, await timeCheck(smaller));
      large = Math.min(large, await timeCheck(larger));
    }
    const ratio = large / Math.max(small, 1);
    assert.ok(ratio < 8, `checkLedger took ${small.toFixed(0)} ms on 1000 paid pay-ins and ${large.toFixed(0)} ms on 4000 (×${ratio.toFixed(1)}): it grows quadratically`);
  });
});
