import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { bearer, countOrders, createV3, hasValidEmvCrc, newRef, payinBody } from './helpers/payins.ts';
import type { Credentials } from '../src/modules/merchants/merchant.service.ts';

/** A create body as raw JSON text, with `amount` spliced in verbatim (e.g. `1e2`, `100.00`). */
const rawAmountBody = (amountJson: string) =>
  `{"merOrderNo":"${newRef()}","currency":"MXN","payMethod":"MX_SPEI","notifyUrl":"https://merchant.example/n","amount":${amountJson}}`;

describe('v3 pay-in create: amounts', () => {
  let gw: TestGateway;
  let creds: Credentials;
  let token: string;
  before(async () => {
    gw = await startGateway();
    creds = await gw.merchant(['MXN', 'IDR', 'BRL']);
    token = await gw.token(creds);
  });
  after(() => gw.close());

  const accepted: Array<[string, number]> = [
    ['1250.5', 1250.5],
    ['"1250.50"', 1250.5],
    ['1250.50', 1250.5],
    ['100', 100],
    ['"100.00"', 100],
    ['100.00', 100],
    ['"0.01"', 0.01],
  ];
  for (const [json, shown] of accepted) {
    test(`amount ${json} is accepted and rendered back as ${shown}`, async () => {
      const res = await createV3(gw, token, rawAmountBody(json));
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.data.amount, shown);
      assert.ok(res.text.includes(`"amount":${shown}`), 'shortest form on the wire');
    });
  }

  const refused: Array<[string, string]> = [
    ['zero', '0'],
    ['zero with decimals', '"0.00"'],
    ['negative', '-1'],
    ['negative string', '"-1"'],
    ['"NaN"', '"NaN"'],
    ['exponent number 1e2', '1e2'],
    ['exponent string "1e2"', '"1e2"'],
    ['three decimals 12.345', '12.345'],
    ['three decimals "12.345"', '"12.345"'],
    ['empty string', '""'],
    ['boolean true', 'true'],
    ['null', 'null'],
    ['object', '{}'],
    ['array', '[100]'],
    ['leading zero string', '"0100"'],
    ['space-padded string', '" 100"'],
    ['15 digits of minor units exceeded (string)', '"10000000000000.00"'],
    ['15 digits of minor units exceeded (number)', '10000000000000'],
    ['16 significant digits, inexact as a double', '"89999999999999.99"'],
    ['huge integer', '123456789012345678901234567890'],
    ['trailing dot', '"100."'],
    ['no integer part', '".5"'],
    ['plus sign', '"+100"'],
    ['thousands separator', '"1,000.00"'],
    ['full-width digits', '"１００"'],
    ['hex', '"0x64"'],
    ['Infinity', '"Infinity"'],
  ];
  for (const [name, json] of refused) {
    test(`amount refused with 400, nothing created: ${name}`, async () => {
      const before = await countOrders(gw);
      const res = await createV3(gw, token, rawAmountBody(json));
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json.code, 400);
      assert.equal(typeof res.json.msg, 'string');
      assert.match(res.json.error, /amount/);
      assert.equal(res.json.data, undefined);
      assert.equal(await countOrders(gw), before);
    });
  }

  test('the largest amount (15 digits of minor units) is accepted and echoed exactly', async () => {
    const res = await createV3(gw, token, payinBody({ amount: '9999999999999.99' }));
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, /"amount":9999999999999\.99,/);
    assert.equal(res.json.data.status, 'PENDING');
  });

  // An EMV QR code carries the amount in at most 13 characters ("9999999999.99"): a QR method refuses
  // more at the create (422, nothing made), and the cashier does not offer it; other methods take it.
  test('a QR method takes at most 9,999,999,999.99; above, 422 and nothing created, and the picker leaves it out', async () => {
    const top = await createV3(gw, token, payinBody({ amount: '9999999999.99', currency: 'IDR', payMethod: 'ID_QRIS' }));
    assert.equal(top.status, 200, top.text);
    assert.equal(top.json.data.status, 'PENDING');
    assert.ok(hasValidEmvCrc(top.json.data.params.qrCode));
    for (const [currency, payMethod] of [['IDR', 'ID_QRIS'], ['BRL', 'BR_PIX']]) {
      const body = payinBody({ amount: '10000000000', currency, payMethod });
      const before = await countOrders(gw, creds.merchantId);
      const res = await createV3(gw, token, body);
      assert.equal(res.status, 422, res.text);
      assert.equal(res.json.error, `amount: above the maximum of 9999999999.99 ${currency} that a ${payMethod} QR code carries`);
      assert.equal(await countOrders(gw, creds.merchantId), before, 'a refused create creates nothing');
    }
    const va = await createV3(gw, token, payinBody({ amount: '10000000000', currency: 'IDR', payMethod: 'ID_VA' }));
    assert.equal(va.status, 200, va.text);
    const picker = await createV3(gw, token, payinBody({ amount: '10000000000', currency: 'IDR', payMethod: undefined }));
    assert.equal(picker.status, 200, picker.text);
    const page = await gw.call('GET', gw.cashierPath(picker.json.data.orderNo));
    assert.match(page.text, /name="method" value="ID_VA"/);
    assert.doesNotMatch(page.text, /name="method" value="ID_QRIS"/);
  });

  const currencyCases: Array<[string, Record<string, unknown>, number, RegExp]> = [
    ['unknown currency', { currency: 'XYZ' }, 400, /currency/],
    ['currency of the wrong type', { currency: 484 }, 400, /currency/],
    ['currency missing', { currency: undefined }, 400, /currency/],
    ['currency not enabled for the merchant', { currency: 'THB', payMethod: 'PROMPTPAY' }, 422, /currency: THB is not enabled/],
    ['unknown payMethod', { payMethod: 'NO_SUCH_METHOD' }, 400, /payMethod/],
    // Unicode upper case makes "ı" an I and "ſ" an S: a code is ASCII, matched in ASCII case only.
    ['currency with a dotless i', { currency: 'ıdr', payMethod: 'ID_QRIS' }, 400, /currency: ıDR is not an ISO 4217/],
    ['currency with a long s', { currency: 'mxſ' }, 400, /currency: MXſ is not an ISO 4217/],
    ['payMethod with dotless i', { currency: 'MXN', payMethod: 'ſpeı' }, 400, /payMethod ſPEı is not a known method/],
    ['payMethod of another currency', { currency: 'MXN', payMethod: 'id_qris' }, 422, /payMethod ID_QRIS is for IDR, not MXN/],
  ];
  for (const [name, over, status, detail] of currencyCases) {
    test(`${name} → ${status}, nothing created`, async () => {
      const before = await countOrders(gw);
      const res = await createV3(gw, token, payinBody(over));
      assert.equal(res.status, status, res.text);
      assert.equal(res.json.code, status);
      assert.match(res.json.error, detail);
      assert.equal(await countOrders(gw), before);
    });
  }
});

describe('v3 pay-in create: other fields', () => {
  let gw: TestGateway;
  let token: string;
  before(async () => {
    gw = await startGateway();
    token = await gw.token(await gw.merchant(['MXN', 'PKR']));
  });
  after(() => gw.close());

  const refused: Array<[string, Record<string, unknown> | string, RegExp]> = [
    ['merOrderNo missing', { merOrderNo: undefined }, /merOrderNo/],
    ['merOrderNo of 65 characters', { merOrderNo: 'a'.repeat(65) }, /merOrderNo: at most 64 characters/],
    ['merOrderNo of 300 characters', { merOrderNo: 'a'.repeat(300) }, /merOrderNo: at most 64 characters/],
    ['merOrderNo with a space', { merOrderNo: 'abc 123' }, /merOrderNo/],
    ["merOrderNo with a '", { merOrderNo: "abc'123" }, /merOrderNo/],
    ['merOrderNo not a string', { merOrderNo: 12345 }, /merOrderNo/],
    ['attach of 513 characters', { attach: 'x'.repeat(513) }, /attach/],
    ['attach of 513 emoji', { attach: '💸'.repeat(513) }, /attach: at most 512 characters/],
    ['attach with a lone surrogate', { attach: 'ok \ud800 no' }, /attach: must be valid Unicode/],
    ['merOrderNo with a lone surrogate', { merOrderNo: 'a\udc00' }, /merOrderNo/],
    ['notifyUrl missing', { notifyUrl: undefined }, /notifyUrl/],
    ['notifyUrl ftp://x', { notifyUrl: 'ftp://x' }, /notifyUrl/],
    ['notifyUrl javascript:', { notifyUrl: 'javascript:alert(1)' }, /notifyUrl/],
    ['notifyUrl relative', { notifyUrl: '/notify' }, /notifyUrl/],
    ['notifyUrl https:host (no //)', { notifyUrl: 'https:merchant.example/n' }, /notifyUrl: must be an absolute http or https URL/],
    ['notifyUrl with backslashes', { notifyUrl: 'https:\\\\merchant.example/n' }, /notifyUrl: contains characters that are not allowed/],
    ['notifyUrl with three slashes', { notifyUrl: 'https:///merchant.example/n' }, /notifyUrl: must be an absolute/],
    ['returnUrl https:host (no //)', { returnUrl: 'https:shop.example' }, /returnUrl: must be an absolute/],
    ['notifyUrl over 2048 characters', { notifyUrl: `https://merchant.example/${'n'.repeat(2048)}` }, /^notifyUrl: at most 2048 characters$/],
    ['notifyUrl of 2049 characters', { notifyUrl: `https://merchant.example/${'n'.repeat(2049 - 25)}` }, /^notifyUrl: at most 2048 characters$/],
    ['returnUrl over 2048 characters', { returnUrl: `https://shop.example/${'r'.repeat(3000)}` }, /^returnUrl: at most 2048 characters$/],
    ['return_url over 2048 characters', { return_url: `https://shop.example/${'r'.repeat(2100)}` }, /^return_url: at most 2048 characters$/],
    ['returnUrl javascript:', { returnUrl: 'javascript:alert(1)' }, /returnUrl/],
    ['notifyUrl with a control character', { notifyUrl: 'https://merchant.example/a\u0001b' }, /notifyUrl: contains characters that are not allowed/],
    ['returnUrl with DEL', { returnUrl: 'https://shop.example/a\u007fb' }, /returnUrl: contains characters that are not allowed/],
    ['notifyUrl with a backslash before @', { notifyUrl: 'http://merchant.example\\@evil.example/n' }, /notifyUrl: contains characters that are not allowed/],
    ['notifyUrl with a backslash in the host', { notifyUrl: 'http://evil.example\\.merchant.example/n' }, /notifyUrl: contains characters that are not allowed/],
    ['returnUrl with a backslash in the query', { returnUrl: 'https://shop.example/r?a=\\' }, /returnUrl: contains characters that are not allowed/],
    ['notifyUrl with empty credentials', { notifyUrl: 'http://:@merchant.example/n' }, /notifyUrl: must not carry credentials/],
    ['notifyUrl with an empty user', { notifyUrl: 'https://@merchant.example/n' }, /notifyUrl: must not carry credentials/],
    ['notifyUrl on port 0', { notifyUrl: 'https://merchant.example:0/n' }, /notifyUrl: port 0/],
    ['returnUrl with a right-to-left override', { returnUrl: 'https://shop.example/\u202egnp.exe' }, /returnUrl: contains characters that are not allowed/],
    ['notifyUrl with a zero-width space', { notifyUrl: 'https://merchant.example/n\u200b' }, /notifyUrl: contains characters that are not allowed/],
    ['attach with a NUL character', '{"merOrderNo":"nul-1","currency":"MXN","amount":100,"payMethod":"MX_SPEI","notifyUrl":"https://merchant.example/n","attach":"a\\u0000b"}', /NUL character/],
    ['return_url javascript:', { return_url: 'javascript:alert(1)' }, /return_url: must be an absolute/],
    ['returnUrl whose query has orderNo', { returnUrl: 'https://shop.example/r?cart=7&orderNo=123' }, /returnUrl: its query has "orderNo", a parameter the gateway appends/],
    ['returnUrl whose query has sign', { returnUrl: 'https://shop.example/r?sign=' }, /returnUrl: its query has "sign"/],
    ['returnUrl whose query has OrderNo in another case', { returnUrl: 'https://shop.example/r?OrderNo=zz' }, /returnUrl: its query has "OrderNo", a parameter the gateway appends/],
    ['returnUrl whose query has SIGN', { returnUrl: 'https://shop.example/r?SIGN=1' }, /returnUrl: its query has "SIGN"/],
    ['return_url whose query has status', { return_url: 'https://shop.example/r?x=1&status=PAID#top' }, /return_url: its query has "status"/],
    ['PK_WALLET without extra.payType', { currency: 'PKR', payMethod: 'PK_WALLET', amount: 500, extra: { mobile: '03001234567' } }, /payType/],
    ['PK_WALLET with an unknown payType', { currency: 'PKR', payMethod: 'PK_WALLET', amount: 500, extra: { payType: 'CASH', mobile: '03001234567' } }, /payType/],
    ['extra a string', { extra: 'accountName=x' }, /extra/],
    ['extra an array', { extra: ['x'] }, /extra/],
    ['extra a number', { extra: 5 }, /extra/],
    ['extra member not a string', { extra: { email: 5 } }, /extra/],
    ['extra member with a lone surrogate', { extra: { email: 'a\ud800@shop.example' } }, /extra\.email: must be valid Unicode/],
    ['extra member name with a lone surrogate', { extra: { ['n\udc00']: 'x' } }, /extra: a member name must be valid Unicode/],
    ['extra with 51 members', { extra: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }, /extra: at most 50 members/],
    ['extra member name of 65 characters', { extra: { ['n'.repeat(65)]: 'x' } }, /extra: a member name must be at most 64 characters/],
    ['extra member name with a newline', { extra: { 'a\nb': 'x' } }, /extra: a member name must be at most 64 characters, without control characters/],
    ['extra member with a newline', { extra: { email: 'a@shop.example\nBcc: x@evil.example' } }, /extra\.email: must be text without control characters/],
    ['extra member with an escape', { extra: { mobile: '0812\u001b[2J' } }, /extra\.mobile: must be text without control characters/],
    ['extra member over 256 characters', { extra: { email: `${'a'.repeat(250)}@x.example` } }, /extra\.email: at most 256 characters/],
    ['body an array', '[]', /./],
  ];
  for (const [name, over, detail] of refused) {
    test(`400, nothing created: ${name}`, async () => {
      const before = await countOrders(gw);
      const res = await createV3(gw, token, typeof over === 'string' ? over : payinBody(over));
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json.code, 400);
      assert.match(res.json.error, detail);
      assert.equal(res.json.data, undefined);
      assert.equal(await countOrders(gw), before);
    });
  }

  test('attach of 512 emoji (512 characters, 1024 UTF-16 units) is accepted and echoed', async () => {
    const attach = '💸'.repeat(512);
    const res = await createV3(gw, token, payinBody({ attach }));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.data.attach, attach);
  });

  test('merOrderNo of 64 characters of the allowed alphabet is accepted', async () => {
    const merOrderNo = ('Az09_-.:' + newRef()).padEnd(64, 'x');
    const res = await createV3(gw, token, payinBody({ merOrderNo }));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.data.merOrderNo, merOrderNo);
  });

  test('notifyUrl and returnUrl of exactly 2048 characters are accepted', async () => {
    const notifyUrl = `https://merchant.example/${'n'.repeat(2048 - 25)}`;
    const returnUrl = `https://shop.example/${'r'.repeat(2048 - 21)}`;
    assert.equal(notifyUrl.length, 2048);
    assert.equal(returnUrl.length, 2048);
    const res = await createV3(gw, token, payinBody({ notifyUrl, returnUrl }));
    assert.equal(res.status, 200, res.text);
  });

  test('PK_WALLET with payType and mobile is accepted', async () => {
    const res = await createV3(gw, token, payinBody({ currency: 'PKR', payMethod: 'PK_WALLET', amount: 500, extra: { payType: 'PK_WALLET_EASYPAISA', mobile: '03001234567' } }));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.data.payMethod, 'PK_WALLET');
    assert.match(res.json.data.params.content, /Easypaisa/);
  });

  test('attach of 512 characters with markup and SQL is stored and echoed verbatim (create and query)', async () => {
    const attach = `<script>alert(1)</script>' OR 1=1 -- "ünï" \\ ${'y'.repeat(100)}`.padEnd(512, 'z');
    const res = await createV3(gw, token, payinBody({ attach }));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.data.attach, attach);
    const q = await gw.call('GET', `/api/v3/payment/query?orderNo=${res.json.data.orderNo}`, { headers: bearer(token) });
    assert.equal(q.json.data.attach, attach);
    const row = await gw.core.db.selectFrom('orders').select('attach').where('order_no', '=', res.json.data.orderNo).executeTakeFirstOrThrow();
    assert.equal(row.attach, attach);
  });

  test('an IDN whose label holds a zero-width non-joiner is a URL like any other', async () => {
    const res = await createV3(gw, token, payinBody({ notifyUrl: 'https://\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645.ir/n' }));
    assert.equal(res.status, 200, res.text);
  });

  test('http and https notifyUrl and returnUrl are accepted by default', async () => {
    const res = await createV3(gw, token, payinBody({ notifyUrl: 'http://merchant.example/n?x=1', returnUrl: 'https://shop.example/back?o=1' }));
    assert.equal(res.status, 200, res.text);
  });

  test('another content type → 415 with an envelope, nothing created', async () => {
    const before = await countOrders(gw);
    const res = await gw.call('POST', '/api/v3/payment/create', { body: JSON.stringify(payinBody()), headers: { ...bearer(token), 'content-type': 'text/plain' } });
    assert.equal(res.status, 415, res.text);
    assert.equal(res.json.code, 415);
    assert.equal(await countOrders(gw), before);
  });

  test('a bare POST without body answers an error envelope (400 or 415), nothing created', async () => {
    const before = await countOrders(gw);
    const res = await gw.call('POST', '/api/v3/payment/create', { headers: bearer(token) });
    assert.ok(res.status === 400 || res.status === 415, `${res.status} ${res.text}`);
    assert.equal(res.json.code, res.status);
    assert.equal(typeof res.json.msg, 'string');
    assert.equal(typeof res.json.error, 'string');
    assert.equal(res.json.data, undefined);
    const empty = await gw.call('POST', '/api/v3/payment/create', { body: '', headers: bearer(token) });
    assert.ok(empty.status === 400 || empty.status === 415, `${empty.status} ${empty.text}`);
    assert.equal(empty.json.code, empty.status);
    assert.equal(await countOrders(gw), before);
  });
});

describe('v3 pay-in create with PAGODA_NOTIFY_REQUIRE_HTTPS=1', () => {
  let gw: TestGateway;
  let token: string;
  before(async () => {
    gw = await startGateway({ PAGODA_NOTIFY_REQUIRE_HTTPS: '1' });
    token = await gw.token(await gw.merchant(['MXN']));
  });
  after(() => gw.close());

  test('an http notifyUrl is refused (400, nothing created); https is accepted', async () => {
    const before = await countOrders(gw);
    const http = await createV3(gw, token, payinBody({ notifyUrl: 'http://merchant.example/notify' }));
    assert.equal(http.status, 400, http.text);
    assert.match(http.json.error, /notifyUrl/);
    assert.equal(await countOrders(gw), before);
    const https = await createV3(gw, token, payinBody({ notifyUrl: 'https://merchant.example/notify' }));
    assert.equal(https.status, 200, https.text);
    assert.equal(await countOrders(gw), before + 1);
  });
});
