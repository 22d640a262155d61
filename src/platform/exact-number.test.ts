import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ExactNumber, stringifyJson } from './exact-number.ts';

describe('ExactNumber', () => {
  for (const text of ['0', '7', '-7', '12.5', '-0.01', '99999999999999.99', '123456789012345678901234567890.123']) {
    it(`keeps ${text}`, () => assert.equal(new ExactNumber(text).text, text));
  }
  for (const text of ['', '-0', '01', '1.', '.5', '1.50', '1e3', '+1', ' 1', '1 ', 'NaN', 'Infinity', '0x10', '1_000', '١']) {
    it(`refuses ${JSON.stringify(text)}`, () => assert.throws(() => new ExactNumber(text), TypeError));
  }
  it('falls back to the nearest double under JSON.stringify', () => {
    assert.equal(JSON.stringify({ v: new ExactNumber('99999999999999.99') }), '{"v":99999999999999.98}');
  });
});

describe('stringifyJson', () => {
  const cases: Array<[string, unknown, string]> = [
    ['a large decimal digit for digit', { v: new ExactNumber('99999999999999.99') }, '{"v":99999999999999.99}'],
    ['members in insertion order', { b: 1, a: 'x' }, '{"b":1,"a":"x"}'],
    ['strings escaped as JSON.stringify does', { 's"\\\n</': '"\u2028\u0000' }, JSON.stringify({ 's"\\\n</': '"\u2028\u0000' })],
    ['nested objects and arrays', { a: [1, { b: null }, [true, false]], c: {} }, '{"a":[1,{"b":null},[true,false]],"c":{}}'],
    ['undefined members left out, undefined items as null', { a: undefined, b: [undefined] }, '{"b":[null]}'],
    ['numbers in shortest form', { a: 100, b: 0.1, c: -0 }, '{"a":100,"b":0.1,"c":0}'],
    ['a top-level string', 'x', '"x"'],
  ];
  for (const [name, value, expected] of cases) {
    it(name, () => assert.equal(stringifyJson(value), expected));
  }
  it('agrees with JSON.parse on what it writes', () => {
    const value = { code: 0, msg: 'success', data: { currency: 'IDR', payinValue: new ExactNumber('12.5'), list: [1, 'two'] } };
    assert.deepEqual(JSON.parse(stringifyJson(value)), { code: 0, msg: 'success', data: { currency: 'IDR', payinValue: 12.5, list: [1, 'two'] } });
  });
  for (const [name, value] of [['NaN', { a: NaN }], ['Infinity', [Infinity]], ['a bigint', { a: 1n }], ['a function', { a: () => 1 }], ['a symbol', Symbol('s')]] as const) {
    it(`refuses ${name}`, () => assert.throws(() => stringifyJson(value), TypeError));
  }
});
