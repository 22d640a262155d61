import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ttlCache } from './ttl-cache.ts';

test('loads once within the TTL, again after it; failures are not kept', async () => {
  let now = 0;
  let loads = 0;
  let fail = false;
  const get = ttlCache(
    async (key) => {
      loads++;
      if (fail) throw new Error('down');
      return `${key}:${loads}`;
    },
    { ttlMs: 1000, now: () => now },
  );
  assert.equal(await get('a'), 'a:1');
  assert.equal(await get('a'), 'a:1');
  now = 999;
  assert.equal(await get('a'), 'a:1');
  now = 1000;
  assert.equal(await get('a'), 'a:2');
  fail = true;
  now = 5000;
  await assert.rejects(get('a'));
  fail = false;
  assert.equal(await get('a'), 'a:4');
});

test('concurrent misses share one load; the size is bounded', async () => {
  let loads = 0;
  const get = ttlCache(async (key) => (loads++, key), { ttlMs: 1000, now: () => 0, maxSize: 2 });
  await Promise.all([get('x'), get('x'), get('x')]);
  assert.equal(loads, 1);
  await get('y');
  await get('z');
  await get('x');
  assert.equal(loads, 4);
});
