import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import {
  bearer,
  countOrders,
  createV3,
  emvFields,
  hasValidEmvCrc,
  isValidClabe,
  newRef,
  PARAM_KINDS,
  payinBody,
  V3_FIELDS,
} from './helpers/payins.ts';
import type { Credentials } from '../src/modules/merchants/merchant.service.ts';

describe('v3 pay-in create: the order object and method params', () => {
  let gw: TestGateway;
  let creds: Credentials;
  let token: string;
  before(async () => {
    gw = await startGateway();
    creds = await gw.merchant(['MXN', 'BRL', 'INR', 'IDR']);
    token = await gw.token(creds);
  });
  after(() => gw.close());

  test('MX_SPEI: PENDING order with exactly the documented fields and a valid CLABE', async () => {
    const body = payinBody({ attach: 'order 42' });
    const res = await createV3(gw, token, body);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.code, 0);
    assert.equal(res.json.msg, 'success');
    assert.equal(res.json.error, undefined);
    const o = res.json.data;
    assert.deepEqual(Object.keys(o).sort(), [...V3_FIELDS].sort());
    assert.match(o.orderNo, /^\S{8,64}$/);
    assert.equal(o.merOrderNo, body.merOrderNo);
    assert.equal(o.status, 'PENDING');
    assert.equal(o.amount, 1250.5);
    assert.equal(o.paidAmount, 0);
    assert.equal(o.tradeCharge, 0);
    assert.equal(o.currency, 'MXN');
    assert.equal(o.payMethod, 'MX_SPEI');
    assert.equal(o.attach, 'order 42');
    assert.equal(o.createTime, gw.clock.now());
    assert.equal(o.updateTime, gw.clock.now());
    assert.equal(o.message, undefined);
    // params: the cashier page twice, plus what the method has
    assert.equal(o.params.url, o.params.paymentLink);
    assert.equal(o.params.url, `${gw.config.publicUrl}${gw.cashierPath(o.orderNo)}`);
    assert.match(o.params.url, /\/cashier\/PI[0-9A-Z]+\?k=[\w-]{22}$/);
    for (const k of Object.keys(o.params)) assert.ok(PARAM_KINDS.has(k), `undocumented param ${k}`);
    assert.match(o.params.clabe, /^\d{18}$/);
    assert.ok(isValidClabe(o.params.clabe), `CLABE check digit: ${o.params.clabe}`);
    assert.ok(!isValidClabe(o.params.clabe.slice(0, 17) + String((Number(o.params.clabe[17]) + 1) % 10)), 'the checker can fail');
  });

  test('BR_PIX: qrCode is an EMV payload with a correct CRC16-CCITT and the amount in field 54', async () => {
    const res = await createV3(gw, token, payinBody({ currency: 'BRL', payMethod: 'BR_PIX', amount: '1250.50' }));
    assert.equal(res.status, 200, res.text);
    const qr: string = res.json.data.params.qrCode;
    assert.equal(res.json.data.status, 'PENDING');
    assert.ok(hasValidEmvCrc(qr), `CRC of ${qr}`);
    const fields = emvFields(qr);
    assert.equal(fields.get('00'), '01');
    assert.equal(fields.get('53'), '986');
    assert.equal(fields.get('54'), '1250.50');
    assert.match(fields.get('26') ?? '', /br\.gov\.bcb\.pix/i);
    // a flipped digit breaks the CRC check: the check can fail
    assert.ok(!hasValidEmvCrc(qr.replace('1250.50', '1250.51')));
  });

  test('IN_UPI: deeplink starts upi://pay? and carries the amount with 2 decimals', async () => {
    const res = await createV3(gw, token, payinBody({ currency: 'INR', payMethod: 'IN_UPI', amount: 100 }));
    assert.equal(res.status, 200, res.text);
    const link: string = res.json.data.params.deeplink;
    assert.ok(link.startsWith('upi://pay?'), link);
    const q = new URLSearchParams(link.slice('upi://pay?'.length));
    assert.equal(q.get('am'), '100.00');
    assert.equal(q.get('cu'), 'INR');
    assert.match(q.get('pa') ?? '', /^[\w.-]+@\w+$/);
  });

  test('ID_QRIS has a qrCode (EMV, valid CRC); ID_VA has a vaNumber', async () => {
    const qris = await createV3(gw, token, payinBody({ currency: 'IDR', payMethod: 'ID_QRIS', amount: 50000 }));
    assert.equal(qris.status, 200, qris.text);
    assert.equal(typeof qris.json.data.params.qrCode, 'string');
    assert.ok(hasValidEmvCrc(qris.json.data.params.qrCode));
    const va = await createV3(gw, token, payinBody({ currency: 'IDR', payMethod: 'ID_VA', amount: 50000 }));
    assert.equal(va.status, 200, va.text);
    assert.match(va.json.data.params.vaNumber, /^\d{8,20}$/);
    // The bank by name or by its Bank Indonesia code: the same bank's account.
    for (const bankCode of ['BCA', 'bca', '014']) {
      const atBca = await createV3(gw, token, payinBody({ currency: 'IDR', payMethod: 'ID_VA', amount: 50000, extra: { bankCode } }));
      assert.equal(atBca.status, 200, atBca.text);
      assert.match(atBca.json.data.params.vaNumber, /^39358\d{11}$/, bankCode);
      assert.equal(atBca.json.data.params.vaBank, 'BCA');
    }
    // A bank the sandbox issues no virtual accounts at: the account is at BNI, and params say so.
    const elsewhere = await createV3(gw, token, payinBody({ currency: 'IDR', payMethod: 'ID_VA', amount: 50000, extra: { bankCode: 'SEABANK' } }));
    assert.equal(elsewhere.json.data.params.vaBank, 'BNI');
    assert.match(elsewhere.json.data.params.vaNumber, /^8808\d{12}$/);
    const page = await gw.call('GET', gw.cashierPath(elsewhere.json.data.orderNo), { headers: { 'accept-language': 'id' } });
    assert.match(page.text, /<span class="field-label">Bank<\/span> <strong>Bank Negara Indonesia<\/strong>/);
  });

  test('without payMethod: params still have the cashier page and the expiry, until the consumer picks a method', async () => {
    const res = await createV3(gw, token, payinBody({ payMethod: undefined }));
    assert.equal(res.status, 200, res.text);
    const o = res.json.data;
    assert.equal(o.status, 'CREATED');
    assert.equal(o.payMethod, undefined);
    assert.deepEqual(Object.keys(o.params).sort(), ['expireTime', 'paymentLink', 'url']);
    assert.equal(o.params.expireTime, gw.clock.now() + gw.config.orderTtlMs);
    const q = await gw.call('GET', `/api/v3/payment/query?orderNo=${o.orderNo}`, { headers: bearer(token) });
    assert.deepEqual(q.json.data.params, o.params);
  });

  test('payMethod is matched case-insensitively without country prefix: qris on IDR is ID_QRIS', async () => {
    const res = await createV3(gw, token, payinBody({ currency: 'IDR', payMethod: 'qris', amount: 10000 }));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.data.payMethod, 'ID_QRIS');
  });

  test('ID_QRIS on an MXN order answers 422 and creates nothing', async () => {
    const before = await countOrders(gw, creds.merchantId);
    const res = await createV3(gw, token, payinBody({ payMethod: 'ID_QRIS' }));
    assert.equal(res.status, 422);
    assert.equal(res.json.code, 422);
    assert.match(res.json.error, /payMethod/);
    assert.equal(res.json.data, undefined);
    assert.equal(await countOrders(gw, creds.merchantId), before);
  });
});

describe('v3 pay-in query', () => {
  let gw: TestGateway;
  let creds: Credentials;
  let token: string;
  let created: Record<string, any>;
  before(async () => {
    gw = await startGateway();
    creds = await gw.merchant(['MXN']);
    token = await gw.token(creds);
    const res = await createV3(gw, token, payinBody({ attach: 'q' }));
    assert.equal(res.status, 200, res.text);
    created = res.json.data;
  });
  after(() => gw.close());

  test('POST and GET by orderNo and by merOrderNo answer the same order as create', async () => {
    const auth = bearer(token);
    const answers = [
      await gw.call('POST', '/api/v3/payment/query', { body: JSON.stringify({ orderNo: created.orderNo }), headers: auth }),
      await gw.call('POST', '/api/v3/payment/query', { body: JSON.stringify({ merOrderNo: created.merOrderNo }), headers: auth }),
      await gw.call('GET', `/api/v3/payment/query?orderNo=${created.orderNo}`, { headers: auth }),
      await gw.call('GET', `/api/v3/payment/query?merOrderNo=${encodeURIComponent(created.merOrderNo)}`, { headers: auth }),
      await gw.call('GET', `/api/v3/payment/query?orderNo=${created.orderNo}&merOrderNo=${encodeURIComponent(created.merOrderNo)}`, { headers: auth }),
    ];
    for (const res of answers) {
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, { code: 0, msg: 'success', data: created });
    }
  });

  test("another merchant's order is 404 by orderNo and by merOrderNo", async () => {
    const other = await gw.merchant(['MXN']);
    const auth = bearer(await gw.token(other));
    for (const res of [
      await gw.call('POST', '/api/v3/payment/query', { body: JSON.stringify({ orderNo: created.orderNo }), headers: auth }),
      await gw.call('GET', `/api/v3/payment/query?merOrderNo=${encodeURIComponent(created.merOrderNo)}`, { headers: auth }),
    ]) {
      assert.equal(res.status, 404, res.text);
      assert.equal(res.json.code, 404);
      assert.equal(res.json.data, undefined);
    }
  });

  test('neither number → 400; unknown numbers → 404; mismatched pair → 404', async () => {
    const auth = bearer(token);
    for (const res of [
      await gw.call('POST', '/api/v3/payment/query', { body: '{}', headers: auth }),
      await gw.call('GET', '/api/v3/payment/query', { headers: auth }),
      await gw.call('GET', '/api/v3/payment/query?orderNo=&merOrderNo=', { headers: auth }),
    ]) {
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json.code, 400);
      assert.match(res.json.error, /orderNo/);
    }
    for (const res of [
      await gw.call('POST', '/api/v3/payment/query', { body: JSON.stringify({ orderNo: 'PI00000000000000000000000000' }), headers: auth }),
      await gw.call('GET', `/api/v3/payment/query?merOrderNo=${newRef('nope')}`, { headers: auth }),
      await gw.call('GET', `/api/v3/payment/query?orderNo=${created.orderNo}&merOrderNo=${newRef('other')}`, { headers: auth }),
    ]) {
      assert.equal(res.status, 404, res.text);
      assert.equal(res.json.code, 404);
    }
  });

  test('query without a token is 401', async () => {
    const res = await gw.call('GET', `/api/v3/payment/query?orderNo=${created.orderNo}`);
    assert.equal(res.status, 401);
    assert.equal(res.json.code, 401);
  });
});
