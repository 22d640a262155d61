import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clabeBank, clabeCheckDigit, isValidClabe, makeClabe } from './clabe.ts';

// Published examples (Banxico / bank documentation); each verified by hand:
// 002010077777777771: products mod 10 = 0,0,2,0,7,0,0,9,7,1,9,7,1,9,7,1,9 → sum 69 → (10−9)%10 = 1.
const VALID: readonly string[] = [
  '002010077777777771', // Banamex
  '032180000118359719', // the CLABE example on Wikipedia (IXE)
  '646180157000000004', // STP
  // Products mod 10 sum to 2+3+6+9 = 20, a multiple of 10: the check digit is (10 − 0) mod 10 = 0, not 10.
  '002180000000000070',
];

for (const clabe of VALID) {
  test(`valid CLABE ${clabe}`, () => {
    assert.equal(isValidClabe(clabe), true);
    assert.equal(clabeCheckDigit(clabe.slice(0, 17)), clabe[17]);
  });
}

const INVALID: ReadonlyArray<readonly [string, string]> = [
  ['002010077777777772', 'wrong check digit'],
  ['00201007777777777', '17 digits'],
  ['0020100777777777711', '19 digits'],
  ['00201007777777777a', 'letter'],
  ['002 010077777777771', 'space'],
  ['', 'empty'],
];

for (const [clabe, why] of INVALID) {
  test(`invalid CLABE (${why})`, () => {
    assert.equal(isValidClabe(clabe), false);
  });
}

test('makeClabe appends the check digit', () => {
  assert.equal(makeClabe('002', '010', '07777777777'), '002010077777777771');
  const made = makeClabe('646', '180', '12345678901');
  assert.equal(made.length, 18);
  assert.equal(isValidClabe(made), true);
  assert.equal(clabeBank(made), '646');
});

test('makeClabe and clabeCheckDigit refuse malformed parts', () => {
  assert.throws(() => makeClabe('02', '010', '07777777777'), RangeError);
  assert.throws(() => makeClabe('002', '010', '0777777777x'), RangeError);
  assert.throws(() => clabeCheckDigit('1234'), RangeError);
});

test('every single-digit change is detected', () => {
  const base = '002010077777777771';
  for (let i = 0; i < 18; i++) {
    const d = Number(base[i]);
    const changed = base.slice(0, i) + String((d + 1) % 10) + base.slice(i + 1);
    assert.equal(isValidClabe(changed), false, `position ${i}`);
  }
});
