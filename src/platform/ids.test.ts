import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId, randomHex32 } from './ids.ts';

test('ids made in one millisecond sort in the order they were made', () => {
  const ids = Array.from({ length: 1000 }, () => newId('x_', 1_700_000_000_000));
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
});

test('ids sort by time across milliseconds and keep their shape', () => {
  const a = newId('', 1_700_000_000_000);
  const b = newId('', 1_700_000_000_001);
  assert.ok(a < b);
  assert.match(a, /^[0-9A-HJKMNP-TV-Z]{26}$/);
});

test('randomHex32 is 32 lowercase hex', () => {
  assert.match(randomHex32(), /^[0-9a-f]{32}$/);
});
