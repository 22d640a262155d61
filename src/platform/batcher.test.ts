import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBatcher } from './batcher.ts';

test('items added in one turn share a batch; items added while it is written share the next', async () => {
  const batches: number[][] = [];
  let release: () => void = () => undefined;
  const add = createBatcher<number>(async (items) => {
    batches.push(items);
    if (batches.length === 1) await new Promise<void>((r) => (release = r));
  });
  const first = [add(1), add(2)];
  await new Promise((r) => setImmediate(r));
  const second = [add(3), add(4), add(5)];
  release();
  await Promise.all([...first, ...second]);
  assert.deepEqual(batches, [[1, 2], [3, 4, 5]]);
});

test('a failing batch is written again item by item: only the bad item fails', async () => {
  const written: number[][] = [];
  const add = createBatcher<number>(async (items) => {
    written.push(items);
    if (items.includes(2)) throw new Error('bad item 2');
  });
  const results = await Promise.allSettled([add(1), add(2), add(3)]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  assert.match(String((results[1] as PromiseRejectedResult).reason), /bad item 2/);
  assert.deepEqual(written, [[1, 2, 3], [1], [2], [3]]);
});

test('a lone item is written on the next turn and a later one starts a new batch', async () => {
  const batches: string[][] = [];
  const add = createBatcher<string>(async (items) => void batches.push(items));
  await add('a');
  await add('b');
  assert.deepEqual(batches, [['a'], ['b']]);
});

test('each item gets its own result; batches never exceed maxBatch', async () => {
  const batches: number[][] = [];
  const square = createBatcher<number, number>(
    async (items) => {
      batches.push(items);
      return items.map((n) => n * n);
    },
    { maxBatch: 2 },
  );
  assert.deepEqual(await Promise.all([square(1), square(2), square(3), square(4), square(5)]), [1, 4, 9, 16, 25]);
  assert.deepEqual(batches, [[1, 2], [3, 4], [5]]);
});
