import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BANKS, bankKind, banksOf, findBank, isValidBankCode, isValidIfsc } from './banks.ts';
import type { BankKind, Country } from './banks.ts';

const CODES: ReadonlyArray<readonly [Country, string, BankKind | undefined]> = [
  ['ID', 'BCA', 'bank'],
  ['ID', 'bni', 'bank'],
  ['ID', 'MANDIRI', 'bank'],
  ['ID', 'BSI', 'bank'],
  ['ID', 'DANA', 'wallet'],
  ['ID', 'GOPAY', 'wallet'],
  ['ID', 'SHOPEEPAY', 'wallet'],
  ['ID', 'KBANK', undefined],
  ['TH', 'KBANK', 'bank'],
  ['TH', 'TMB', 'bank'],
  ['TH', 'TTB', 'bank'],
  ['TH', 'BAY', 'bank'],
  ['TH', 'PROMPTPAY', 'wallet'],
  ['PH', 'BDO', 'bank'],
  ['PH', 'MBTC', 'bank'],
  ['PH', 'GCASH', 'wallet'],
  ['PH', 'PAYMAYA', 'wallet'],
  ['PH', 'maya', 'wallet'],
  ['MX', '002', 'bank'],
  ['MX', '012', 'bank'],
  ['MX', 'BBVA', 'bank'],
  ['MX', '646', 'bank'],
  ['MX', '999', undefined],
  ['PK', 'HBL', 'bank'],
  ['PK', 'MEEZAN', 'bank'],
  ['PK', 'JAZZCASH', 'wallet'],
  ['PK', 'EASYPAISA', 'wallet'],
  ['BD', 'BKASH', 'wallet'],
  ['BD', 'NAGAD', 'wallet'],
  ['BD', 'DBBL', 'bank'],
  ['BD', 'BRAC', 'bank'],
  ['BD', 'CITY', 'bank'],
  ['IN', 'HDFC', undefined],
  ['BR', '001', undefined],
  ['ID', '', undefined],
  ['ID', ' bca ', 'bank'],
];

for (const [country, code, kind] of CODES) {
  test(`${country} ${JSON.stringify(code)} → ${kind ?? 'unknown'}`, () => {
    assert.equal(bankKind(country, code), kind);
    assert.equal(isValidBankCode(country, code), kind !== undefined);
  });
}

test('aliases resolve to the canonical entry', () => {
  assert.equal(findBank('TH', 'tmb')?.code, 'TTB');
  assert.equal(findBank('MX', 'bancomer')?.code, '012');
  assert.equal(findBank('MX', '137')?.name, 'BANCOPPEL');
  assert.equal(findBank('MX', '072')?.name, 'BANORTE');
  assert.equal(findBank('ID', '014')?.code, 'BCA');
  assert.equal(findBank('ID', '213')?.code, 'BTPN');
  assert.equal(findBank('ID', '008')?.code, 'MANDIRI');
  assert.equal(findBank('ID', '999'), undefined);
});

test('tables are well-formed: unique codes and aliases, Mexico 3-digit', () => {
  for (const [country, defs] of Object.entries(BANKS)) {
    for (const d of defs) {
      assert.match(d.code, /^[A-Z0-9]+$/, `${country} ${d.code}`);
      // Every code, alias and name leads back to its own entry: nothing shadows anything.
      for (const id of [d.code, ...(d.aliases ?? []), d.name]) {
        assert.equal(findBank(country as Country, id), d, `${country} ${id}`);
      }
    }
  }
  for (const d of BANKS.MX) assert.match(d.code, /^\d{3}$/);
  assert.ok(banksOf('PH', 'wallet').every((d) => d.kind === 'wallet'));
  assert.ok(banksOf('PH', 'wallet').length >= 4);
});

test('IFSC', () => {
  for (const good of ['HDFC0001234', 'SBIN0000691', 'ICIC0ABC123']) assert.equal(isValidIfsc(good), true, good);
  for (const bad of ['HDFC1001234', 'HDF00001234', 'hdfc0001234', 'HDFC000123', '']) assert.equal(isValidIfsc(bad), false, bad);
});

test('findBank matches ASCII only: letters that upper-case to ASCII do not alias a bank', () => {
  assert.equal(findBank('ID', 'bni')?.code, 'BNI');
  assert.equal(findBank('ID', 'bn\u0131'), undefined); // dotless i
  assert.equal(findBank('ID', '\u017Feabank'), undefined); // long s
  assert.equal(findBank('ID', 'seabank')?.code, 'SEABANK');
  assert.equal(findBank('ID', ' bca\t')?.code, 'BCA');
  assert.equal(findBank('ID', 'B\u00A0CA'), undefined); // whitespace inside splits a code
});
