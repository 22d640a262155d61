import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asciiUpper } from './ascii.ts';

describe('asciiUpper', () => {
  const table: Array<[string, string]> = [
    ['idr', 'IDR'],
    ['Id_Qris', 'ID_QRIS'],
    ['IDR', 'IDR'],
    ['', ''],
    ['ıdr', 'ıDR'],
    ['ſ', 'ſ'],
    ['ﬀ', 'ﬀ'],
    ['ß', 'ß'],
    ['é1z', 'é1Z'],
    ['ｉｄｒ', 'ｉｄｒ'],
  ];
  for (const [input, expected] of table) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => assert.equal(asciiUpper(input), expected));
  }
});
