import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seedDigits, seedHex } from './seed.ts';

test('seedDigits is deterministic, sized, and label-separated', () => {
  const a = seedDigits('PI20240101000001', 'clabe', 11);
  assert.match(a, /^\d{11}$/);
  assert.equal(seedDigits('PI20240101000001', 'clabe', 11), a);
  assert.notEqual(seedDigits('PI20240101000001', 'va', 11), a);
  assert.notEqual(seedDigits('PI20240101000002', 'clabe', 11), a);
  assert.match(seedDigits('x', 'long', 200), /^\d{200}$/);
  assert.equal(seedDigits('x', 'none', 0), '');
});

test('seedDigits is roughly uniform', () => {
  const counts = new Array<number>(10).fill(0);
  for (const d of seedDigits('uniform', 't', 20_000)) counts[Number(d)]! += 1;
  for (const c of counts) assert.ok(c > 1_800 && c < 2_200, `count ${c}`);
});

test('seedHex', () => {
  assert.match(seedHex('a', 'b', 100), /^[0-9a-f]{100}$/);
  assert.equal(seedHex('a', 'b', 32), seedHex('a', 'b', 32));
});
