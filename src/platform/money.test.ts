import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AppError } from './errors.ts';
import { parseJsonBody, rawNumberText } from './json.ts';
import type { AmountOptions } from './money.ts';
import { MAX_MINOR, currencyCodes, currencyInfo, formatMajor, parseAmount, parseMajorText, toMajorNumber } from './money.ts';

function assertRefused(fn: () => unknown, detail: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof AppError, `expected AppError, got ${String(err)}`);
    assert.equal(err.code, 'BAD_REQUEST');
    assert.match(err.detail ?? '', detail);
    return true;
  });
}

describe('currencyInfo', () => {
  const cases: Array<[string, number]> = [
    ['JPY', 0], ['KRW', 0], ['CLP', 0], ['VND', 0], ['ISK', 0], ['XOF', 0], ['UGX', 0], ['PYG', 0],
    ['IDR', 2], ['MXN', 2], ['THB', 2], ['BRL', 2], ['INR', 2], ['PHP', 2], ['PKR', 2], ['BDT', 2],
    ['USD', 2], ['EUR', 2], ['HUF', 2], ['COP', 2], ['XCG', 2], ['ZWG', 2], ['SLE', 2], ['VES', 2],
    ['KWD', 3], ['BHD', 3], ['OMR', 3], ['JOD', 3], ['TND', 3], ['LYD', 3], ['IQD', 3],
    ['CLF', 4], ['UYW', 4],
  ];
  for (const [code, minorUnits] of cases) {
    it(`${code} has ${minorUnits} minor units`, () => {
      assert.deepStrictEqual(currencyInfo(code), { code, minorUnits });
    });
  }
  for (const code of ['jpy', 'Mxn', ' USD', 'XAU', 'XDR', 'XXX', 'HRK', '', 'US', 'toString', '__proto__']) {
    it(`does not know ${JSON.stringify(code)}`, () => assert.equal(currencyInfo(code), undefined));
  }
  it('lists well-formed unique codes', () => {
    const codes = currencyCodes();
    assert.ok(codes.length >= 150, `${codes.length} codes`);
    assert.equal(new Set(codes).size, codes.length);
    for (const code of codes) assert.match(code, /^[A-Z]{3}$/);
  });
});

describe('parseAmount: accepted', () => {
  // [value, currency, expected minor units, options]
  const cases: Array<[unknown, string, bigint, AmountOptions?]> = [
    ['100', 'MXN', 10000n],
    ['100.00', 'MXN', 10000n],
    ['12.5', 'MXN', 1250n],
    ['12.500', 'MXN', 1250n],
    ['12.50000000000000000000', 'MXN', 1250n],
    ['0.01', 'MXN', 1n],
    ['0.1', 'IDR', 10n],
    ['150000', 'IDR', 15000000n],
    ['100', 'JPY', 100n],
    ['100.0', 'JPY', 100n],
    ['1', 'KRW', 1n],
    ['1.234', 'KWD', 1234n],
    ['0.001', 'BHD', 1n],
    ['5', 'KWD', 5000n],
    ['0.0001', 'CLF', 1n],
    ['9999999999999.99', 'MXN', 999_999_999_999_999n],
    ['999999999999999', 'JPY', 999_999_999_999_999n],
    ['999999999999.999', 'KWD', 999_999_999_999_999n],
    ['0', 'MXN', 0n, { allowZero: true }],
    ['0.00', 'MXN', 0n, { allowZero: true }],
    ['-5', 'MXN', -500n, { allowNegative: true }],
    ['-0.01', 'MXN', -1n, { allowNegative: true }],
    ['-9999999999999.99', 'MXN', -999_999_999_999_999n, { allowNegative: true }],
    ['1.23', 'KWD', 1230n, { maxDecimals: 2 }],
    [100, 'MXN', 10000n],
    [7, 'JPY', 7n],
  ];
  for (const [value, currency, expected, opts] of cases) {
    it(`${JSON.stringify(value)} ${currency} → ${expected}`, () => {
      assert.equal(parseAmount(value, undefined, currency, opts), expected);
    });
  }

  const fromTokens: Array<[string, string, bigint]> = [
    ['100.00', 'MXN', 10000n],
    ['12.5', 'MXN', 1250n],
    ['0.10', 'IDR', 10n],
    ['1.005', 'KWD', 1005n],
    ['1000', 'JPY', 1000n],
    ['9999999999999.93', 'MXN', 999999999999993n],
  ];
  for (const [token, currency, expected] of fromTokens) {
    it(`number token ${token} ${currency} → ${expected}`, () => {
      const body = parseJsonBody(Buffer.from(`{"amount":${token}}`)) as { amount: unknown };
      assert.equal(parseAmount(body.amount, rawNumberText(body, 'amount'), currency), expected);
    });
  }
});

describe('parseAmount: refused', () => {
  const fmt = /^amount: must be a plain decimal number/;
  const cases: Array<[unknown, string | undefined, string, RegExp, AmountOptions?]> = [
    ['1e2', undefined, 'MXN', fmt],
    ['1E2', undefined, 'MXN', fmt],
    [100, '1e2', 'MXN', fmt],
    [100, '1E+2', 'MXN', fmt],
    [100, '100.0e0', 'MXN', fmt],
    ['NaN', undefined, 'MXN', fmt],
    ['Infinity', undefined, 'MXN', fmt],
    ['', undefined, 'MXN', fmt],
    [' 5', undefined, 'MXN', fmt],
    ['5 ', undefined, 'MXN', fmt],
    ['5\n', undefined, 'MXN', fmt],
    ['+5', undefined, 'MXN', fmt],
    ['0x10', undefined, 'MXN', fmt],
    ['012', undefined, 'MXN', fmt],
    ['00.5', undefined, 'MXN', fmt],
    ['.5', undefined, 'MXN', fmt],
    ['5.', undefined, 'MXN', fmt],
    ['1,000', undefined, 'MXN', fmt],
    ['1_000', undefined, 'MXN', fmt],
    ['--5', undefined, 'MXN', fmt],
    ['١٢', undefined, 'MXN', fmt],
    [12.5, undefined, 'MXN', fmt],
    [1e21, undefined, 'JPY', fmt],
    [true, undefined, 'MXN', /^amount: must be a number or a numeric string$/],
    [null, undefined, 'MXN', /^amount: must be a number or a numeric string$/],
    [undefined, undefined, 'MXN', /^amount: must be a number or a numeric string$/],
    [{}, undefined, 'MXN', /^amount: must be a number or a numeric string$/],
    [['5'], undefined, 'MXN', /^amount: must be a number or a numeric string$/],
    [5n, undefined, 'MXN', /^amount: must be a number or a numeric string$/],
    ['12.345', undefined, 'MXN', /^amount: must be a number of at most 2 decimals for MXN$/],
    ['0.001', undefined, 'IDR', /^amount: must be a number of at most 2 decimals for IDR$/],
    ['100.5', undefined, 'JPY', /^amount: must be a whole number for JPY$/],
    [100.5, '100.5', 'JPY', /^amount: must be a whole number for JPY$/],
    ['1.2345', undefined, 'KWD', /^amount: must be a number of at most 3 decimals for KWD$/],
    ['1.234', undefined, 'KWD', /^amount: must be a number of at most 2 decimals for KWD$/, { maxDecimals: 2 }],
    ['1.5', undefined, 'MXN', /^amount: must be a whole number for MXN$/, { maxDecimals: 0 }],
    ['0', undefined, 'MXN', /^amount: must be greater than 0$/],
    ['0.00', undefined, 'MXN', /^amount: must be greater than 0$/],
    [0, undefined, 'MXN', /^amount: must be greater than 0$/],
    ['-5', undefined, 'MXN', /^amount: must be greater than 0$/],
    ['-0', undefined, 'MXN', /^amount: must be greater than 0$/],
    ['-5', undefined, 'MXN', /^amount: must not be negative$/, { allowZero: true }],
    ['-0', undefined, 'MXN', /^amount: must not be negative$/, { allowZero: true }],
    ['0', undefined, 'MXN', /^amount: must not be 0$/, { allowNegative: true }],
    ['10000000000000', undefined, 'MXN', /^amount: is too large$/],
    ['89999999999999.99', undefined, 'MXN', /^amount: is too large$/],
    ['1000000000000000', undefined, 'JPY', /^amount: is too large$/],
    ['-1000000000000000', undefined, 'JPY', /^amount: is too large$/, { allowNegative: true }],
    ['1000000000000.000', undefined, 'KWD', /^amount: is too large$/],
    [1e20, '100000000000000000000', 'JPY', /^amount: is too large$/],
    ['9'.repeat(10_000), undefined, 'JPY', /^amount: is too large$/],
    ['5', undefined, 'XYZ', /^amount: unknown currency "XYZ"$/],
    ['5', undefined, 'mxn', /^amount: unknown currency "mxn"$/],
    ['12.345', undefined, 'MXN', /^payoutValue: must be a number of at most 2 decimals/, { field: 'payoutValue' }],
  ];
  for (const [value, token, currency, detail, opts] of cases) {
    const label = typeof value === 'bigint' ? `${value}n` : JSON.stringify(value)?.slice(0, 40);
    it(`${label}${token ? ` (token ${token})` : ''} ${currency}${opts ? ` ${JSON.stringify(opts)}` : ''}`, () => {
      assertRefused(() => parseAmount(value, token, currency, opts), detail);
    });
  }

  it('treats a token that does not match its value as a bug, not a 400', () => {
    assert.throws(() => parseAmount(5, '6', 'MXN'), (err: unknown) => err instanceof Error && !(err instanceof AppError));
  });
});

describe('parseMajorText', () => {
  it('parses CLI input with the string rules', () => {
    assert.equal(parseMajorText('100.50', 'MXN'), 10050n);
    assert.equal(parseMajorText('-5', 'MXN', { allowNegative: true }), -500n);
    assertRefused(() => parseMajorText('-5', 'MXN'), /must be greater than 0/);
    assertRefused(() => parseMajorText('1e3', 'MXN'), /plain decimal/);
  });
});

describe('formatMajor and toMajorNumber', () => {
  const cases: Array<[bigint, string, string]> = [
    [1250n, 'MXN', '12.5'],
    [10000n, 'MXN', '100'],
    [-1n, 'MXN', '-0.01'],
    [0n, 'MXN', '0'],
    [1n, 'MXN', '0.01'],
    [10n, 'MXN', '0.1'],
    [100n, 'JPY', '100'],
    [-7n, 'JPY', '-7'],
    [0n, 'JPY', '0'],
    [1234n, 'KWD', '1.234'],
    [1200n, 'KWD', '1.2'],
    [1n, 'BHD', '0.001'],
    [1n, 'CLF', '0.0001'],
    [15000000n, 'IDR', '150000'],
    [999_999_999_999_999n, 'MXN', '9999999999999.99'],
    [-999_999_999_999_999n, 'KWD', '-999999999999.999'],
  ];
  for (const [minor, currency, text] of cases) {
    it(`${minor} ${currency} → ${text}`, () => {
      assert.equal(formatMajor(minor, currency), text);
      assert.equal(toMajorNumber(minor, currency), Number(text));
      assert.equal(String(toMajorNumber(minor, currency)), text);
    });
  }

  it('treats an unknown currency as a bug', () => {
    assert.throws(() => formatMajor(1n, 'XYZ'), RangeError);
    assert.throws(() => toMajorNumber(1n, 'usd'), RangeError);
  });

  const roundTrips: Array<[string, string]> = [
    ['12.5', 'MXN'], ['12.50', 'MXN'], ['100.00', 'MXN'], ['0.01', 'MXN'], ['999999.99', 'MXN'],
    ['1', 'JPY'], ['123456789', 'KRW'], ['0.1', 'IDR'], ['150000', 'IDR'], ['1.005', 'KWD'],
    ['0.001', 'BHD'], ['7.000', 'OMR'], ['1.2345', 'CLF'], ['9999999999999.99', 'THB'],
  ];
  for (const [text, currency] of roundTrips) {
    it(`round-trips ${text} ${currency}`, () => {
      const minor = parseAmount(text, undefined, currency);
      const shortest = formatMajor(minor, currency);
      assert.equal(parseAmount(shortest, undefined, currency), minor);
      assert.equal(Number(shortest), Number(text));
      const withoutTrailingZeros = text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
      assert.equal(shortest, withoutTrailingZeros);
    });
  }
});

describe('money properties', () => {
  const codes = currencyCodes();
  const currency = fc.constantFrom(...codes);
  const nonZero = (max: bigint) => fc.bigInt({ min: -max, max }).filter((m) => m !== 0n);
  const any = { allowNegative: true };

  it('parseAmount(formatMajor(m)) === m over the whole accepted range', () => {
    fc.assert(
      fc.property(nonZero(MAX_MINOR), currency, (m, code) => {
        assert.equal(parseAmount(formatMajor(m, code), undefined, code, any), m);
      }),
      { numRuns: 2000 },
    );
  });

  it('String(toMajorNumber(m)) === formatMajor(m) for |m| < 10^15, any currency', () => {
    fc.assert(
      fc.property(nonZero(10n ** 15n - 1n), currency, (m, code) => {
        assert.equal(String(toMajorNumber(m, code)), formatMajor(m, code));
      }),
      { numRuns: 2000 },
    );
  });

  it('String(toMajorNumber(m)) === formatMajor(m) for |m| < 2^53 in 0-decimal currencies', () => {
    const zeroDecimal = fc.constantFrom(...codes.filter((c) => currencyInfo(c)?.minorUnits === 0));
    fc.assert(
      fc.property(nonZero(2n ** 53n - 1n), zeroDecimal, (m, code) => {
        assert.equal(String(toMajorNumber(m, code)), formatMajor(m, code));
      }),
      { numRuns: 2000 },
    );
  });

  it('documents the limit: 16 significant digits need not survive a double', () => {
    assert.equal(formatMajor(7183868002999865n, 'MXN'), '71838680029998.65');
    assert.notEqual(String(toMajorNumber(7183868002999865n, 'MXN')), '71838680029998.65');
  });

  it('a JSON number token parses to the same minor units as its string form', () => {
    fc.assert(
      fc.property(nonZero(MAX_MINOR), currency, (m, code) => {
        const text = formatMajor(m, code);
        const body = parseJsonBody(Buffer.from(`{"a":${text},"s":"${text}"}`)) as { a: unknown; s: unknown };
        assert.equal(parseAmount(body.a, rawNumberText(body, 'a'), code, any), m);
        assert.equal(parseAmount(body.s, undefined, code, any), m);
      }),
      { numRuns: 1000 },
    );
  });
});
