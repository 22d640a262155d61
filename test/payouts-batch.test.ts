/**
 * Payouts written together (the batched create of payouts on PostgreSQL, run
 * here on the test database of either kind): one transaction for several
 * payouts' orders, history and freezes; a duplicate loses alone; a balance
 * that cannot cover the batch refuses all of it and writes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { TEST_DB } from './helpers/db.ts';
import { balancesOf, countRows, entryKinds, fund, negativeAccounts, payoutBody } from './helpers/money.ts';
import { orderEvents } from './helpers/payins.ts';
import { AppError } from '../src/platform/errors.ts';
import type { Credentials } from '../src/modules/merchants/merchant.service.ts';
import { newOrderRow, parseOrderRequest, requestHash } from '../src/modules/orders/order.request.ts';
import { writeNewPayouts, type NewPayout } from '../src/modules/payouts/payout.service.ts';

describe(`writeNewPayouts: several payouts in one transaction (${TEST_DB})`, () => {
  let gw: TestGateway;
  let a: Credentials;
  let b: Credentials;
  before(async () => {
    gw = await startGateway();
    a = await gw.merchant(['MXN']);
    b = await gw.merchant(['MXN']);
    await fund(gw, a.merchantId, 10_000n);
    await fund(gw, b.merchantId, 5_000n);
  });
  after(() => gw.close());

  const payout = (creds: Credentials, body: Record<string, unknown>): NewPayout => {
    const req = parseOrderRequest({ ...body, amount: String(body.amount) }, 'payout', { requireHttps: false });
    const caller = { merchantId: creds.merchantId, appId: creds.appId, generation: 'v3' as const };
    return { row: newOrderRow('payout', caller, req, requestHash(req), gw.clock.now(), { channel: 'sandbox', expiresAt: null }), actor: `merchant:${creds.appId}` };
  };
  const write = (payouts: NewPayout[]) => gw.core.transact((tx) => writeNewPayouts(tx, gw.app.services.payouts, payouts));

  test('two merchants, two payouts each and a duplicate: each frozen once, the duplicate writes nothing', async () => {
    const twin = payoutBody({ amount: '10.00' });
    const batch = [
      payout(a, payoutBody({ amount: '30.00' })),
      payout(b, payoutBody({ amount: '12.34' })),
      payout(a, twin),
      payout(a, twin),
      payout(b, payoutBody({ amount: '0.66' })),
    ];
    const born = await write(batch);
    assert.deepEqual(
      born.map((o) => o && [o.order_no, o.status, o.amount]),
      [
        [batch[0]!.row.order_no, 'CREATED', 3_000n],
        [batch[1]!.row.order_no, 'CREATED', 1_234n],
        [batch[2]!.row.order_no, 'CREATED', 1_000n],
        undefined,
        [batch[4]!.row.order_no, 'CREATED', 66n],
      ],
    );
    assert.deepEqual(await balancesOf(gw.core.db, a.merchantId), { payin: 0n, payout: 6_000n, frozen: 4_000n });
    assert.deepEqual(await balancesOf(gw.core.db, b.merchantId), { payin: 0n, payout: 3_700n, frozen: 1_300n });
    for (const i of [0, 1, 2, 4]) {
      assert.deepEqual(await entryKinds(gw.core.db, batch[i]!.row.order_no), ['payout.freeze']);
      assert.deepEqual((await orderEvents(gw, batch[i]!.row.order_no)).map((e) => [e.seq, e.to_status]), [[0n, 'CREATED']]);
    }
    assert.equal(await countRows(gw.core.db, 'orders', { column: 'order_no', value: batch[3]!.row.order_no }), 0);
    assert.deepEqual(await entryKinds(gw.core.db, batch[3]!.row.order_no), []);
  });

  test('a batch one balance cannot cover is refused whole (422) and writes nothing', async () => {
    const before = { a: await balancesOf(gw.core.db, a.merchantId), b: await balancesOf(gw.core.db, b.merchantId) };
    // a has 60.00 left: 40.00 + 30.00 is more; b's 1.00 alone would fit.
    const batch = [payout(a, payoutBody({ amount: '40.00' })), payout(b, payoutBody({ amount: '1.00' })), payout(a, payoutBody({ amount: '30.00' }))];
    await assert.rejects(write(batch), (err: unknown) => err instanceof AppError && err.status === 422 && /the payout balance in MXN cannot cover 70/.test(err.detail ?? ''));
    assert.deepEqual({ a: await balancesOf(gw.core.db, a.merchantId), b: await balancesOf(gw.core.db, b.merchantId) }, before);
    for (const { row } of batch) assert.equal(await countRows(gw.core.db, 'orders', { column: 'order_no', value: row.order_no }), 0);
    assert.deepEqual(await negativeAccounts(gw.core.db), []);
  });
});
