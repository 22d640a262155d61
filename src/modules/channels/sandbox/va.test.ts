import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_VA_BANK, VA_FORMATS, makeVaNumber, vaBankFor } from './va.ts';

const ROWS: ReadonlyArray<readonly [string | undefined, string, number]> = [
  ['BCA', '39358', 16],
  ['bca', '39358', 16],
  ['BRI', '26215', 15],
  ['MANDIRI', '89608', 16],
  ['PERMATA', '8625', 16],
  [undefined, '8808', 16],
  ['OVO', '8808', 16], // a wallet has no VA: the default bank
];

for (const [bank, prefix, length] of ROWS) {
  test(`VA for ${bank ?? 'no bank'}`, () => {
    const va = makeVaNumber(bank, 'PI20240101000001');
    assert.match(va, /^\d+$/);
    assert.equal(va.length, length);
    assert.ok(va.startsWith(prefix));
  });
}

test('VA is deterministic per order and differs between orders', () => {
  assert.equal(makeVaNumber('BCA', 'A1'), makeVaNumber('BCA', 'A1'));
  assert.notEqual(makeVaNumber('BCA', 'A1'), makeVaNumber('BCA', 'A2'));
  const seen = new Set<string>();
  for (let i = 0; i < 1_000; i++) seen.add(makeVaNumber('BNI', `PI${i}`));
  assert.equal(seen.size, 1_000);
});

test('default bank is a VA bank', () => {
  assert.ok(DEFAULT_VA_BANK in VA_FORMATS);
  assert.equal(vaBankFor('xyz'), DEFAULT_VA_BANK);
});
