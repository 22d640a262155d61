import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AppError } from './errors.ts';
import { MAX_DURATION_MS, parseDuration, parseDurationList } from './duration.ts';

describe('parseDuration', () => {
  const accepted: Array<[string, number]> = [
    ['0s', 0],
    ['250ms', 250],
    ['30s', 30_000],
    ['2m', 120_000],
    ['15h', 54_000_000],
    ['1d', 86_400_000],
    [' 10s ', 10_000],
    ['366d', MAX_DURATION_MS],
    ['8784h', MAX_DURATION_MS],
  ];
  for (const [text, ms] of accepted) it(`${JSON.stringify(text)} is ${ms} ms`, () => assert.equal(parseDuration(text), ms));

  const refused: Array<[string, RegExp]> = [
    ['', /is not a duration/],
    ['10', /is not a duration/],
    ['1.5h', /is not a duration/],
    ['-1s', /is not a duration/],
    ['1 h', /is not a duration/],
    ['1H', /is not a duration/],
    ['1w', /is not a duration/],
    ['367d', /longer than 366 days/],
    ['8785h', /longer than 366 days/],
    ['99999999999h', /longer than 366 days/],
    ['9'.repeat(400) + 'ms', /longer than 366 days/],
  ];
  for (const [text, message] of refused) {
    it(`${JSON.stringify(text.length > 20 ? `${text.slice(0, 20)}…` : text)} is refused`, () => {
      assert.throws(() => parseDuration(text), (err: AppError) => err.code === 'BAD_REQUEST' && message.test(err.detail ?? ''));
    });
  }

  it('a list is parsed item by item, and one bad item refuses the list', () => {
    assert.deepEqual(parseDurationList('30s,2m,15h'), [30_000, 120_000, 54_000_000]);
    assert.throws(() => parseDurationList('30s,400d'), (err: AppError) => /"400d" is longer than 366 days/.test(err.detail ?? ''));
  });
});
