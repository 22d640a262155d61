import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../../platform/errors.ts';
import { checkCredential, isSecretValid, parseAckMode, parseCurrencies, parseIpAllowList, parseMerchantName, parseScopes } from './merchant.ts';

const refusesWith = (fn: () => unknown, field: RegExp) =>
  assert.throws(fn, (err: unknown) => err instanceof AppError && err.status === 400 && field.test(err.detail ?? ''));

test('parseScopes', () => {
  assert.deepEqual(parseScopes('payin'), ['payin']);
  assert.deepEqual(parseScopes('payout, payin'), ['payin', 'payout']);
  assert.deepEqual(parseScopes('payin,payin'), ['payin']);
  for (const bad of ['', 'admin', 'payin,refund', ' , ']) refusesWith(() => parseScopes(bad), /scope/);
});

test('parseCurrencies normalises, dedupes and checks ISO 4217', () => {
  assert.deepEqual(parseCurrencies('mxn,BRL, mxn'), ['MXN', 'BRL']);
  for (const bad of ['', 'XXX1', 'MXN,ZZZ', 'EURO']) refusesWith(() => parseCurrencies(bad), /currencies/);
});

test('checkCredential accepts exactly 32 lowercase hex', () => {
  assert.equal(checkCredential('appId', 'af37752d8bfc9c23ce9a39e6cf44d135'), 'af37752d8bfc9c23ce9a39e6cf44d135');
  for (const bad of ['AF37752D8BFC9C23CE9A39E6CF44D135', 'af37752d8bfc9c23ce9a39e6cf44d13', 'af37752d8bfc9c23ce9a39e6cf44d135x', 'zf37752d8bfc9c23ce9a39e6cf44d135', '']) {
    refusesWith(() => checkCredential('appSecret', bad), /appSecret/);
  }
});

test('parseIpAllowList', () => {
  assert.equal(parseIpAllowList(''), null);
  assert.deepEqual(parseIpAllowList('10.0.0.0/8, 2001:db8::/32,198.51.100.7'), ['10.0.0.0/8', '2001:db8::/32', '198.51.100.7']);
  for (const bad of ['10.0.0.0/33', 'example.com', '300.1.1.1', '10.0.0.0/x']) refusesWith(() => parseIpAllowList(bad), /ip-allow/);
});

test('parseAckMode and parseMerchantName', () => {
  assert.equal(parseAckMode('strict'), 'strict');
  assert.equal(parseAckMode('any-2xx'), 'any-2xx');
  refusesWith(() => parseAckMode('lenient'), /ack/);
  assert.equal(parseMerchantName('  Acme  '), 'Acme');
  refusesWith(() => parseMerchantName('   '), /name/);
  refusesWith(() => parseMerchantName('x'.repeat(129)), /name/);
  // Printed on terminals and pages: line breaks, escapes and bidi overrides are refused; joiners inside words are not.
  for (const bad of ['a\nb', 'a\u001b[31mb', 'Acme\u202egnp.exe', 'a\u0000b', 'Line\u2028Break', 'Para\u2029Break']) refusesWith(() => parseMerchantName(bad), /control or format characters/);
  assert.equal(parseMerchantName('می\u200cخواهم'), 'می\u200cخواهم');
  for (const blank of ['\u3164', '\u2800', '\u200d']) refusesWith(() => parseMerchantName(blank), /not all blank/);
  refusesWith(() => parseMerchantName('a' + '\u0301'.repeat(120)), /pile combining marks/);
  // Counted in characters, not UTF-16 units: 128 emoji fit.
  assert.equal(Array.from(parseMerchantName('🏪'.repeat(128))).length, 128);
  refusesWith(() => parseMerchantName('🏪'.repeat(129)), /1 to 128 characters/);
});

test('isSecretValid: open secrets are valid, expired ones are not', () => {
  assert.equal(isSecretValid(null, 1000), true);
  assert.equal(isSecretValid(1001n, 1000), true);
  assert.equal(isSecretValid(1000n, 1000), false);
});
