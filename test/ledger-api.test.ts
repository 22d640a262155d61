/**
 * The merchant balance endpoints (merchant-api.md "Balance") answer from the
 * ledger: payinValue, payoutValue and disableValue in major units, v3 and signed v2.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
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

  // A balance is a sum of amounts of up to 15 digits each, so it can have more significant
  // digits than a double keeps: 99999999999999.99 would come out as 99999999999999.98.
  it('writes balances beyond a double\'s precision digit for digit, v3 and v2; the v2 sign verifies as the algorithm says', async () => {
    const big = await gw.merchant(['IDR']);
    const op = { now: gw.clock.now(), actor: 'test' };
    await gw.core.db.transaction().execute(async (tx) => {
      for (let i = 0; i < 10; i++) await adjust(tx, op, { merchantId: big.merchantId, currency: 'IDR', account: 'payout', amount: 999_999_999_999_999n, reason: 'funds' });
      await adjust(tx, op, { merchantId: big.merchantId, currency: 'IDR', account: 'payout', amount: 9n, reason: 'funds' });
    });
    const v3 = await gw.call('GET', '/api/v3/merchant/balance', { headers: { authorization: `Bearer ${await gw.token(big)}` } });
    assert.equal(v3.status, 200, v3.text);
    assert.match(String(v3.headers['content-type']), /^application\/json; charset=utf-8/);
    assert.equal(v3.text, '{"code":0,"msg":"success","data":{"currency":"IDR","payinValue":0,"payoutValue":99999999999999.99,"disableValue":0}}');
    const v2 = await gw.call('GET', `/api/v2/merchant/balance?appId=${big.appId}&sign=${signParams({ appId: big.appId }, big.appSecret)}`);
    assert.equal(v2.status, 200, v2.text);
    // The sign algorithm renders a number in JavaScript's shortest form: what a merchant's JSON.parse gives.
    const expected = `currency=IDR&disableValue=0&payinValue=0&payoutValue=${JSON.parse('99999999999999.99')}`;
    assert.equal(expected.endsWith('99999999999999.98'), true);
    assert.match(v2.text, /"payoutValue":99999999999999\.99,/);
    assert.equal(v2.json.data.sign, createHash('sha256').update(`${expected}&key=${big.appSecret}`).digest('hex'));
  });

  it('v2 signed', async () => {
    const params = { appId: creds.appId, currency: 'IDR' };
    const res = await gw.call('GET', `/api/v2/merchant/balance?appId=${creds.appId}&currency=IDR&sign=${signParams(params, creds.appSecret)}`);
    assert.equal(res.status, 200, res.text);
    const { sign, ...data } = res.json.data;
    assert.deepEqual(data, { currency: 'IDR', payinValue: 130_000.5, payoutValue: 10_000, disableValue: 10_000 });
    assert.equal(sign, signParams(data, creds.appSecret));
    // HEAD reads its parameters from the query, as GET does.
    const head = await gw.call('HEAD', `/api/v2/merchant/balance?appId=${creds.appId}&currency=IDR&sign=${signParams(params, creds.appSecret)}`);
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
  });
});
