import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatAmount, formatRemaining, groupClabe, groupDigits, groupVa, safeDeeplink, safeHttpUrl } from './format.ts';
import type { Lang } from './i18n.ts';

describe('formatAmount', () => {
  const table: Array<[string, Lang, string]> = [
    ['1250.50', 'en', '1,250.50'],
    ['1250.50', 'es', '1,250.50'],
    ['1250.50', 'pt', '1.250,50'],
    ['1250.50', 'id', '1.250,50'],
    ['1500000', 'id', '1.500.000'],
    ['999', 'en', '999'],
    ['1000', 'en', '1,000'],
    ['0.01', 'pt', '0,01'],
    ['12.50', 'en', '12.50'],
    ['1.234', 'pt', '1,234'],
    ['123456789012345678901234.99', 'en', '123,456,789,012,345,678,901,234.99'],
    ['-1250.50', 'en', '-1,250.50'],
    ['abc', 'en', 'abc'],
    ['1e5', 'en', '1e5'],
  ];
  for (const [text, lang, expected] of table) {
    it(`${text} (${lang}) → ${expected}`, () => assert.equal(formatAmount(text, lang), expected));
  }

  it('never goes through a float', () => {
    assert.equal(formatAmount('90071992547409931.07', 'en'), '90,071,992,547,409,931.07');
  });
});

describe('digit groups', () => {
  it('splits by sizes and keeps the rest', () => {
    assert.equal(groupDigits('1234567', [3, 2]), '123 45 67');
    assert.equal(groupDigits('12', [3, 3]), '12');
  });

  it('groups a CLABE 3-3-4-4-4 and leaves anything else alone', () => {
    assert.equal(groupClabe('646180157000000004'), '646 180 1570 0000 0004');
    assert.equal(groupClabe('64618015700000000'), '64618015700000000');
  });

  it('groups a VA number by 4', () => {
    assert.equal(groupVa('8808672564527964'), '8808 6725 6452 7964');
    assert.equal(groupVa('88086'), '8808 6');
    assert.equal(groupVa('VA-1'), 'VA-1');
  });
});

describe('formatRemaining', () => {
  const table: Array<[number, string]> = [
    [0, '00:00'],
    [-5000, '00:00'],
    [1, '00:01'],
    [59_000, '00:59'],
    [60_000, '01:00'],
    [29 * 60_000 + 41_500, '29:42'],
    [3_600_000, '1:00:00'],
    [26 * 3_600_000 + 61_000, '26:01:01'],
  ];
  for (const [ms, expected] of table) {
    it(`${ms} ms → ${expected}`, () => assert.equal(formatRemaining(ms), expected));
  }
});

describe('safeDeeplink', () => {
  const allowed = [
    'upi://pay?pa=a@b&am=1.00',
    'https://wallet.example/pay?x=1',
    'gojek://gopay/pay?ref=1',
    'shopeeid://pay',
    'dana://pay',
    'gcash://pay',
    'bkash://pay',
    'UPI://pay?pa=a@b',
  ];
  for (const url of allowed) it(`allows ${url}`, () => assert.equal(safeDeeplink(url), url));

  const refused = [
    'javascript:alert(1)',
    'JavaScript:alert(1)',
    ' javascript:alert(1)',
    'java\tscript:alert(1)',
    'javascript\n:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'vbscript:msgbox(1)',
    'file:///etc/passwd',
    'http://wallet.example/pay',
    'intent://pay#Intent;scheme=upi;end',
    'unknownapp://pay',
    '//evil.example/',
    '/relative',
    '',
  ];
  for (const url of refused) it(`refuses ${JSON.stringify(url)}`, () => assert.equal(safeDeeplink(url), null));
});

describe('safeHttpUrl', () => {
  it('allows absolute http(s) only', () => {
    assert.equal(safeHttpUrl('https://shop.example/r?a=1&b=2'), 'https://shop.example/r?a=1&b=2');
    assert.equal(safeHttpUrl('http://localhost:3000/r'), 'http://localhost:3000/r');
    assert.equal(safeHttpUrl('javascript:alert(1)'), null);
    assert.equal(safeHttpUrl('\njavascript:alert(1)'), null);
    assert.equal(safeHttpUrl('upi://pay'), null);
    assert.equal(safeHttpUrl('/cashier'), null);
  });
});
