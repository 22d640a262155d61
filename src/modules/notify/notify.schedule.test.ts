import assert from 'node:assert/strict';
import { test } from 'node:test';
import { afterFailure, maxAttempts } from './notify.schedule.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const DEFAULT = [30 * S, 2 * M, 4 * M, 10 * M, 30 * M, 1 * H, 2 * H, 6 * H, 15 * H];

test('the default schedule makes ten attempts, the last about 24 h 47 min after the first', () => {
  assert.equal(maxAttempts(DEFAULT), 10);
  let t = 0;
  const times = [t];
  for (let made = 1; ; made++) {
    const next = afterFailure(made, DEFAULT, t);
    if (next.state === 'exhausted') break;
    t = next.nextAttemptAt;
    times.push(t);
  }
  assert.equal(times.length, 10);
  assert.deepEqual(times, [0, 30 * S, 150 * S, 390 * S, 990 * S, 2790 * S, 6390 * S, 13590 * S, 35190 * S, 89190 * S]);
  assert.equal(times[9], 24 * H + 46 * M + 30 * S);
});

const rows: Array<[number, number, ReturnType<typeof afterFailure>]> = [
  [1, 1000, { state: 'pending', nextAttemptAt: 1000 + 30 * S }],
  [2, 1000, { state: 'pending', nextAttemptAt: 1000 + 2 * M }],
  [9, 1000, { state: 'pending', nextAttemptAt: 1000 + 15 * H }],
  [10, 1000, { state: 'exhausted' }],
  [11, 1000, { state: 'exhausted' }],
];
for (const [made, at, expected] of rows) {
  test(`after ${made} failed attempts`, () => assert.deepEqual(afterFailure(made, DEFAULT, at), expected));
}

test('an empty schedule means one attempt only', () => {
  assert.equal(maxAttempts([]), 1);
  assert.deepEqual(afterFailure(1, [], 5), { state: 'exhausted' });
});

test('zero attempts made is a bug', () => assert.throws(() => afterFailure(0, DEFAULT, 0), RangeError));
