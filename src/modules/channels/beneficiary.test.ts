import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Country } from './banks.ts';
import { isValidBankAccount, isValidCnpj, isValidCpf, isValidIban, isValidMobile, pixKeyType } from './beneficiary.ts';
import type { PixKeyType } from './beneficiary.ts';

const MOBILES: ReadonlyArray<readonly [Country, string, boolean]> = [
  ['ID', '081234567890', true],
  ['ID', '+6281234567890', true],
  ['ID', '6281234567890', true],
  ['ID', '0212345678', false], // Jakarta landline
  ['TH', '0812345678', true],
  ['TH', '+66 81 234 5678', true],
  ['TH', '021234567', false],
  ['PH', '09171234567', true],
  ['PH', '+639171234567', true],
  ['PH', '0917123456', false],
  ['PK', '03001234567', true],
  ['PK', '+92 300 1234567', true],
  ['PK', '0300123456', false],
  ['BD', '01712345678', true],
  ['BD', '+8801712345678', true],
  ['BD', '01212345678', false], // no 012 operator
  ['IN', '9876543210', true],
  ['IN', '+91 98765-43210', true],
  ['IN', '5876543210', false],
];

for (const [country, mobile, ok] of MOBILES) {
  test(`mobile ${country} ${mobile}: ${ok}`, () => assert.equal(isValidMobile(country, mobile), ok));
}

const ACCOUNTS: ReadonlyArray<readonly [Country, string, boolean]> = [
  ['ID', '1234567890', true],
  ['ID', '12345', false],
  ['ID', '12345-67890', false],
  ['TH', '1234567890', true],
  ['TH', '123456789', false],
  ['PH', '001234567890', true],
  ['PK', '0123456789012', true],
  ['PK', 'PK36SCBL0000001123456702', true], // the IBAN registry's example
  ['PK', 'PK36SCBL0000001123456703', false],
  ['BD', '1234567890123', true],
  ['IN', '50100012345678', true],
  ['IN', '12345678', false],
];

for (const [country, account, ok] of ACCOUNTS) {
  test(`account ${country} ${account}: ${ok}`, () => assert.equal(isValidBankAccount(country, account), ok));
}

test('IBAN mod 97 on other registry examples', () => {
  assert.equal(isValidIban('GB82WEST12345698765432', 'GB', 22), true);
  assert.equal(isValidIban('DE89370400440532013000', 'DE', 22), true);
  assert.equal(isValidIban('DE89370400440532013001', 'DE', 22), false);
  assert.equal(isValidIban('DE89370400440532013000', 'PK', 22), false);
});

test('CPF and CNPJ check digits', () => {
  assert.equal(isValidCpf('52998224725'), true);
  assert.equal(isValidCpf('52998224726'), false);
  assert.equal(isValidCpf('11111111111'), false);
  assert.equal(isValidCpf('529.982.247-25'), false); // keys are bare digits
  assert.equal(isValidCnpj('11222333000181'), true);
  assert.equal(isValidCnpj('11222333000182'), false);
  assert.equal(isValidCnpj('00000000000000'), false);
});

const PIX_KEYS: ReadonlyArray<readonly [string, PixKeyType | undefined]> = [
  ['52998224725', 'cpf'],
  ['11222333000181', 'cnpj'],
  ['+5511987654321', 'phone'],
  ['+551133334444', 'phone'],
  ['fulano@example.com.br', 'email'],
  ['123e4567-e12b-12d1-a456-426655440000', 'evp'],
  ['123E4567-E12B-12D1-A456-426655440000', 'evp'],
  ['52998224726', undefined], // bad CPF check digit
  ['11987654321', undefined], // phone without +55
  ['5511987654321', undefined],
  ['not a key', undefined],
  ['a@b', undefined],
  [`${'x'.repeat(70)}@example.com`, undefined], // over 77
  ['', undefined],
];

for (const [key, type] of PIX_KEYS) {
  test(`pixKeyType(${key.slice(0, 30)}) = ${type}`, () => assert.equal(pixKeyType(key), type));
}
