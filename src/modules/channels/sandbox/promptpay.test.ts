import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasValidCrc, parseTlv } from './emv.ts';
import { promptPayMobile, promptPayPayload } from './promptpay.ts';
import type { PromptPayInput } from './promptpay.ts';

// Published outputs of the php-promptpay-qr / promptpay-qr libraries.
const KNOWN: ReadonlyArray<readonly [string, PromptPayInput, string]> = [
  [
    'mobile, no amount',
    { proxy: { type: 'mobile', value: '0899999999' } },
    '00020101021129370016A000000677010111011300668999999995802TH53037646304FE29',
  ],
  [
    'formatted mobile, 420 baht',
    { proxy: { type: 'mobile', value: '089-999-9999' }, amountText: '420.00' },
    '00020101021229370016A000000677010111011300668999999995802TH53037645406420.006304CF9E',
  ],
  [
    'mobile, 100 baht',
    { proxy: { type: 'mobile', value: '0812345678' }, amountText: '100.00' },
    '00020101021229370016A000000677010111011300668123456785802TH53037645406100.006304BB8A',
  ],
  [
    'national ID, 214.20 baht',
    { proxy: { type: 'taxId', value: '1234567890123' }, amountText: '214.20' },
    '00020101021229370016A000000677010111021312345678901235802TH53037645406214.20630465AD',
  ],
];

for (const [name, input, expected] of KNOWN) {
  test(`promptPayPayload: ${name}`, () => {
    const payload = promptPayPayload(input);
    assert.equal(payload, expected);
    assert.equal(hasValidCrc(payload), true);
  });
}

test('e-wallet proxy uses sub-field 03 and the structure parses back', () => {
  const payload = promptPayPayload({ proxy: { type: 'eWallet', value: '004999000288505' }, amountText: '5' });
  assert.equal(hasValidCrc(payload), true);
  const top = parseTlv(payload);
  assert.deepEqual(
    top.map((f) => f.id),
    ['00', '01', '29', '58', '53', '54', '63'],
  );
  const account = parseTlv(top.find((f) => f.id === '29')?.value ?? '');
  assert.deepEqual(account, [
    { id: '00', value: 'A000000677010111' },
    { id: '03', value: '004999000288505' },
  ]);
});

test('a reference goes to field 62/05 after the amount', () => {
  const payload = promptPayPayload({ proxy: { type: 'mobile', value: '0812345678' }, amountText: '1.00', reference: 'PI-0001' });
  assert.equal(hasValidCrc(payload), true);
  const top = parseTlv(payload);
  assert.deepEqual(top.map((f) => f.id), ['00', '01', '29', '58', '53', '54', '62', '63']);
  assert.deepEqual(parseTlv(top.find((f) => f.id === '62')?.value ?? ''), [{ id: '05', value: 'PI-0001' }]);
});

const MOBILES: ReadonlyArray<readonly [string, string]> = [
  ['0812345678', '0066812345678'],
  ['+66812345678', '0066812345678'],
  ['66 81 234 5678', '0066812345678'],
  ['081-234-5678', '0066812345678'],
];

for (const [input, expected] of MOBILES) {
  test(`promptPayMobile(${input})`, () => assert.equal(promptPayMobile(input), expected));
}

test('refuses malformed proxies', () => {
  assert.throws(() => promptPayMobile('12345'), RangeError);
  assert.throws(() => promptPayPayload({ proxy: { type: 'taxId', value: '123' } }), RangeError);
  assert.throws(() => promptPayPayload({ proxy: { type: 'eWallet', value: '123' } }), RangeError);
  assert.throws(() => promptPayPayload({ proxy: { type: 'mobile', value: '0812345678' }, amountText: 'x' }), RangeError);
});
