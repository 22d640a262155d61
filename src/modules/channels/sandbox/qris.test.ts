import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasValidCrc, parseTlv } from './emv.ts';
import type { TlvField } from './emv.ts';
import { luhnCheckDigit, qrPhPayload, qrisAmount, qrisPayload } from './qris.ts';

const value = (fields: TlvField[], id: string): string => fields.find((f) => f.id === id)?.value ?? '';

const LUHN: ReadonlyArray<readonly [string, string]> = [
  ['7992739871', '3'], // the textbook example
  ['401288888888188', '1'], // 4012888888881881, a published test card
  ['0', '0'],
];

for (const [digits, check] of LUHN) {
  test(`luhnCheckDigit(${digits}) = ${check}`, () => assert.equal(luhnCheckDigit(digits), check));
}

const AMOUNTS: ReadonlyArray<readonly [string, string]> = [
  ['10000', '10000'],
  ['10000.00', '10000'],
  ['10000.0', '10000'],
  ['10000.50', '10000.50'],
];

for (const [input, expected] of AMOUNTS) {
  test(`qrisAmount(${input})`, () => assert.equal(qrisAmount(input), expected));
}

const QRIS = {
  acquirerDomain: 'ID.CO.PAGODA.WWW',
  panWithoutCheck: '936009990012345678',
  merchantId: '000000012345678',
  nmid: 'ID1020000012345',
  merchantName: 'Toko Kopi Sejahtera Abadi Jaya',
  merchantCity: 'Jakarta Selatan',
  postalCode: '12190',
  amountText: '150000.00',
  billNumber: 'PI-20240101-0001',
};

test('QRIS payload: structure, currency, country, CRC', () => {
  const payload = qrisPayload(QRIS);
  assert.equal(hasValidCrc(payload), true);
  const top = parseTlv(payload);
  assert.deepEqual(
    top.map((f) => f.id),
    ['00', '01', '26', '51', '52', '53', '54', '58', '59', '60', '61', '62', '63'],
  );
  assert.equal(value(top, '01'), '12');
  assert.equal(value(top, '53'), '360');
  assert.equal(value(top, '54'), '150000');
  assert.equal(value(top, '58'), 'ID');
  assert.equal(value(top, '59'), 'Toko Kopi Sejahtera Abadi');
  const account = parseTlv(value(top, '26'));
  const pan = value(account, '01');
  assert.equal(pan.length, 19);
  assert.equal(luhnCheckDigit(pan.slice(0, -1)), pan.slice(-1));
  assert.equal(value(parseTlv(value(top, '51')), '00'), 'ID.CO.QRIS.WWW');
  assert.equal(value(parseTlv(value(top, '62')), '01'), 'PI-20240101-0001');
});

test('QRIS refuses malformed identifiers', () => {
  assert.throws(() => qrisPayload({ ...QRIS, panWithoutCheck: '123' }), RangeError);
  assert.throws(() => qrisPayload({ ...QRIS, nmid: 'XX1' }), RangeError);
  assert.throws(() => qrisPayload({ ...QRIS, amountText: '1,000' }), RangeError);
});

test('QR Ph payload', () => {
  const payload = qrPhPayload({
    acquirerBic: 'PAGOPHM1XXX',
    merchantId: '2024000123',
    merchantName: 'Sari-Sari Store ni Aling Nena',
    merchantCity: 'Quezon City',
    amountText: '250.75',
    reference: 'PI20240101PH0001',
  });
  assert.equal(hasValidCrc(payload), true);
  const top = parseTlv(payload);
  assert.equal(value(top, '53'), '608');
  assert.equal(value(top, '58'), 'PH');
  assert.equal(value(top, '54'), '250.75');
  assert.equal(value(parseTlv(value(top, '28')), '00'), 'ph.ppmi.p2m');
});
