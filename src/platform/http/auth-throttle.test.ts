import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAuthThrottle, throttleKey } from './auth-throttle.ts';

function setup(limit: number, maxAddresses?: number) {
  let now = 1_000_000;
  const throttle = createAuthThrottle({ limit, windowMs: 60_000, now: () => now, ...(maxAddresses ? { maxAddresses } : {}) });
  return { throttle, advance: (ms: number) => (now += ms) };
}

test('an address is refused after `limit` failures in a window, until the window ends', () => {
  const { throttle, advance } = setup(3);
  for (let i = 0; i < 2; i++) throttle.failed('10.0.0.1');
  assert.equal(throttle.blockedFor('10.0.0.1'), 0, '2 of 3');
  advance(10_000);
  throttle.failed('10.0.0.1');
  assert.equal(throttle.blockedFor('10.0.0.1'), 50_000, 'blocked for the rest of the window that began at the first failure');
  assert.equal(throttle.blockedFor('10.0.0.2'), 0, 'other addresses are not affected');
  advance(49_999);
  assert.equal(throttle.blockedFor('10.0.0.1'), 1);
  advance(1);
  assert.equal(throttle.blockedFor('10.0.0.1'), 0, 'a new window');
  throttle.failed('10.0.0.1');
  assert.equal(throttle.blockedFor('10.0.0.1'), 0, 'counting starts again');
});

test('failures in an old window do not count in the next', () => {
  const { throttle, advance } = setup(2);
  throttle.failed('a');
  advance(60_000);
  throttle.failed('a');
  assert.equal(throttle.blockedFor('a'), 0);
  throttle.failed('a');
  assert.equal(throttle.blockedFor('a'), 60_000);
});

test('a limit of 0 turns the throttle off', () => {
  const { throttle } = setup(0);
  for (let i = 0; i < 1000; i++) throttle.failed('a');
  assert.equal(throttle.blockedFor('a'), 0);
});

test('memory stays bounded: past maxAddresses, expired windows and then the oldest are dropped', () => {
  const { throttle, advance } = setup(1, 3);
  throttle.failed('old');
  advance(60_000);
  for (const a of ['b', 'c']) throttle.failed(a);
  throttle.failed('d');
  assert.equal(throttle.blockedFor('old'), 0, 'expired, dropped');
  for (const a of ['b', 'c', 'd']) assert.ok(throttle.blockedFor(a) > 0, a);
  throttle.failed('e');
  assert.equal(throttle.blockedFor('b'), 0, 'the oldest live window gave way');
  for (const a of ['c', 'd', 'e']) assert.ok(throttle.blockedFor(a) > 0, a);
});

test('at capacity only the front of the map is visited: the oldest live window goes, a later one stays', () => {
  const { throttle, advance } = setup(1, 3);
  throttle.failed('10.0.0.1');
  advance(1);
  throttle.failed('10.0.0.2');
  advance(1);
  throttle.failed('10.0.0.3');
  throttle.failed('10.0.0.4');
  assert.equal(throttle.blockedFor('10.0.0.1'), 0);
  for (const a of ['10.0.0.2', '10.0.0.3', '10.0.0.4']) assert.ok(throttle.blockedFor(a) > 0, a);
});

const KEYS: Array<[string, string]> = [
  ['203.0.113.9', '203.0.113.9'],
  ['::ffff:203.0.113.9', '203.0.113.9'],
  ['2001:db8:1:2:aaaa::1', '2001:db8:1:2::/64'],
  ['2001:0db8:0001:0002:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
  ['2001:db8:1:3::1', '2001:db8:1:3::/64'],
  ['not-an-ip', 'not-an-ip'],
];
for (const [address, key] of KEYS) {
  test(`throttleKey(${address}) = ${key}`, () => assert.equal(throttleKey(address), key));
}

test('the addresses of one IPv6 /64 share a window', () => {
  const { throttle } = setup(2);
  throttle.failed('2001:db8:1:2::1');
  throttle.failed('2001:db8:1:2::2');
  assert.ok(throttle.blockedFor('2001:db8:1:2::ffff') > 0);
  assert.equal(throttle.blockedFor('2001:db8:1:3::1'), 0);
});
