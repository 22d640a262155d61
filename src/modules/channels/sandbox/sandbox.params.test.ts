import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CATALOGUE, findMethod } from '../catalogue.ts';
import { isValidClabe } from './clabe.ts';
import { hasValidCrc, parseTlv } from './emv.ts';
import { sandboxParams, twoDecimals } from './sandbox.params.ts';
import type { SandboxOrder } from './sandbox.params.ts';

const CURRENCY_AMOUNT: Readonly<Record<string, string>> = {
  MXN: '250.5',
  BRL: '99.90',
  INR: '499',
  IDR: '150000',
  THB: '100.00',
  PHP: '250.75',
  PKR: '1000',
  BDT: '500',
};

const orderFor = (currency: string, orderNo = 'PI20240101000001'): SandboxOrder => ({
  orderNo,
  amountText: CURRENCY_AMOUNT[currency] ?? '1',
  currency,
  merchantName: 'Toko Sandbox Ñandú',
  expireTime: 1_704_070_800_000,
  extra: { payType: 'PK_WALLET_EASYPAISA', mobile: '03001234567' },
});

for (const method of CATALOGUE.filter((m) => m.directions.includes('payin'))) {
  test(`${method.code}: returns exactly its paramKinds, deterministically`, () => {
    const params = sandboxParams(method, orderFor(method.currency));
    assert.deepEqual(Object.keys(params).sort(), [...method.paramKinds].sort());
    assert.equal(params.expireTime, '1704070800000');
    assert.equal('url' in params || 'paymentLink' in params, false);
    assert.deepEqual(sandboxParams(method, orderFor(method.currency)), params);
    const other = sandboxParams(method, orderFor(method.currency, 'PI20240101000002'));
    assert.notDeepEqual(other, params, 'another order gets other params');
    for (const [key, value] of Object.entries(params)) assert.ok(value.length > 0, key);
  });
}

test('MX_SPEI: a valid STP CLABE', () => {
  const { clabe } = sandboxParams(findMethod('MX_SPEI')!, orderFor('MXN'));
  assert.ok(clabe !== undefined && isValidClabe(clabe));
  assert.ok(clabe.startsWith('646180'));
});

const EMV_METHODS: ReadonlyArray<readonly [string, string, string, string]> = [
  // method, currency, field 53, field 54
  ['BR_PIX', 'BRL', '986', '99.90'],
  ['ID_QRIS', 'IDR', '360', '150000'],
  ['PROMPTPAY', 'THB', '764', '100.00'],
  ['PH_QRIS', 'PHP', '608', '250.75'],
];

for (const [code, currency, numeric, amount] of EMV_METHODS) {
  test(`${code}: an EMV QR with valid CRC, currency ${numeric}, amount ${amount}`, () => {
    const { qrCode } = sandboxParams(findMethod(code)!, orderFor(currency));
    assert.ok(qrCode !== undefined && hasValidCrc(qrCode));
    const fields = parseTlv(qrCode);
    assert.equal(fields.find((f) => f.id === '53')?.value, numeric);
    assert.equal(fields.find((f) => f.id === '54')?.value, amount);
  });
}

test('BR_PIX: content is the copy-and-paste code, carrying the order number as txid', () => {
  const params = sandboxParams(findMethod('BR_PIX')!, orderFor('BRL'));
  assert.equal(params.content, params.qrCode);
  const additional = parseTlv(params.qrCode ?? '').find((f) => f.id === '62')?.value ?? '';
  assert.deepEqual(parseTlv(additional), [{ id: '05', value: 'PI20240101000001' }]);
});

test('IN_UPI: a upi://pay intent for the order', () => {
  const { deeplink, qrCode } = sandboxParams(findMethod('IN_UPI')!, orderFor('INR'));
  assert.equal(qrCode, deeplink);
  const url = new URL(deeplink ?? '');
  assert.equal(url.protocol, 'upi:');
  assert.match(url.searchParams.get('pa') ?? '', /^sandbox\.\d{8}@pagoda$/);
  assert.equal(url.searchParams.get('am'), '499.00');
  assert.equal(url.searchParams.get('cu'), 'INR');
  assert.equal(url.searchParams.get('tr'), 'PI20240101000001');
});

test('ID_VA: the bank of extra.bankCode, else the default', () => {
  const def = findMethod('ID_VA')!;
  const bca = sandboxParams(def, { ...orderFor('IDR'), extra: { bankCode: 'BCA' } });
  assert.match(bca.vaNumber ?? '', /^39358\d{11}$/);
  const none = sandboxParams(def, { ...orderFor('IDR'), extra: {} });
  assert.match(none.vaNumber ?? '', /^8808\d{12}$/);
});

test('PK_WALLET: the instruction names the wallet and the mobile', () => {
  const { content } = sandboxParams(findMethod('PK_WALLET')!, orderFor('PKR'));
  assert.equal(content, 'Approve the Easypaisa payment request for order PI20240101000001, PKR 1000.00 to Toko Sandbox Ñandú sent to 03001234567.');
});

test('wallet deeplinks are app links carrying the order', () => {
  const { deeplink } = sandboxParams(findMethod('PH_GCASH')!, orderFor('PHP'));
  const url = new URL(deeplink ?? '');
  assert.equal(url.protocol, 'gcash:');
  assert.equal(url.searchParams.get('ref'), 'PI20240101000001');
  assert.equal(url.searchParams.get('amount'), '250.75');
});

test('payout-only methods have no params', () => {
  assert.deepEqual(sandboxParams(findMethod('ID_DF')!, orderFor('IDR')), {});
});

const AMOUNTS: ReadonlyArray<readonly [string, string | null]> = [
  ['100', '100.00'],
  ['100.5', '100.50'],
  ['100.55', '100.55'],
  ['0.01', '0.01'],
  ['100.555', null],
  ['1e3', null],
  ['-1', null],
];

for (const [input, expected] of AMOUNTS) {
  test(`twoDecimals(${input})`, () => {
    if (expected === null) assert.throws(() => twoDecimals(input), RangeError);
    else assert.equal(twoDecimals(input), expected);
  });
}
