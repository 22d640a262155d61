/**
 * The merchant balance endpoints (merchant-api.md "Balance") answer from the
 * ledger: payinValue, payoutValue and disableValue in major units, v3 and signed v2.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { signParams } from '../src/platform/sign.ts';
import type { Credentials } from '../src/modules/merchants/merchant.service.ts';
import { adjust, transfer } from '../src/modules/ledger/ledger.service.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { createOrder } from './ledger.fixtures.ts';

describe('balance endpoints read the ledger', () => {
  let gw: TestGateway;
  let creds: Credentials;
  before(async () => {
    gw = await startGateway();
    creds = await gw.merchant(['IDR', 'MXN']);
    const op = { now: gw.clock.now(), actor: 'test' };
    await gw.core.db.transaction().execute(async (tx) => {
      await adjust(tx, op, { merchantId: creds.merchantId, currency: 'IDR', account: 'payin', amount: 15_000_050n, reason: 'funds' });
      await transfer(tx, op, { merchantId: creds.merchantId, currency: 'IDR', from: 'payin', to: 'payout', amount: 2_000_000n });
      await createOrder(tx, { merchantId: creds.merchantId, direction: 'payout', amount: 995_000n, fee: 5_000n });
      await adjust(tx, op, { merchantId: creds.merchantId, currency: 'MXN', account: 'payout', amount: 1_250n, reason: 'funds' });
    });
  });
  after(() => gw?.close());

  it('v3 GET and POST', async () => {
    const auth = { authorization: `Bearer ${await gw.token(creds)}` };
    const idr = await gw.call('GET', '/api/v3/merchant/balance', { headers: auth });
    assert.deepEqual(idr.json, { code: 0, msg: 'success', data: { currency: 'IDR', payinValue: 130_000.5, payoutValue: 10_000, disableValue: 10_000 } });
    const mxn = await gw.call('POST', '/api/v3/merchant/balance', { body: '{"currency":"MXN"}', headers: auth });
    assert.deepEqual(mxn.json.data, { currency: 'MXN', payinValue: 0, payoutValue: 12.5, disableValue: 0 });
  });

  it('v2 signed', async () => {
    const params = { appId: creds.appId, currency: 'IDR' };
    const res = await gw.call('GET', `/api/v2/merchant/balance?appId=${creds.appId}&currency=IDR&sign=${signParams(params, creds.appSecret)}`);
    assert.equal(res.status, 200, res.text);
    const { sign, ...data } = res.json.data;
    assert.deepEqual(data, { currency: 'IDR', payinValue: 130_000.5, payoutValue: 10_000, disableValue: 10_000 });
    assert.equal(sign, signParams(data, creds.appSecret));
  });
});
