import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DIRECTIONS,
  NOTIFIABLE,
  ORDER_STATUSES,
  decideTransition,
  isFinal,
  isOrderStatus,
  isTerminal,
  v2StatusCode,
} from './order.ts';
import type { Direction, OrderStatus } from './order.ts';

type Kind = 'apply' | 'noop' | 'refuse';

// Every (direction, from, to) triple, written out by hand from spec section 4.
const TRANSITIONS: ReadonlyArray<readonly [Direction, OrderStatus, OrderStatus, Kind]> = [
  ['payin', 'CREATED', 'CREATED', 'noop'],
  ['payin', 'CREATED', 'PENDING', 'apply'],
  ['payin', 'CREATED', 'PAID', 'apply'],
  ['payin', 'CREATED', 'FAILED', 'apply'],
  ['payin', 'CREATED', 'EXPIRED', 'apply'],
  ['payin', 'CREATED', 'REFUNDED', 'refuse'],
  ['payin', 'CREATED', 'EXCEPTION', 'apply'],
  ['payin', 'PENDING', 'CREATED', 'refuse'],
  ['payin', 'PENDING', 'PENDING', 'noop'],
  ['payin', 'PENDING', 'PAID', 'apply'],
  ['payin', 'PENDING', 'FAILED', 'apply'],
  ['payin', 'PENDING', 'EXPIRED', 'apply'],
  ['payin', 'PENDING', 'REFUNDED', 'refuse'],
  ['payin', 'PENDING', 'EXCEPTION', 'apply'],
  ['payin', 'PAID', 'CREATED', 'refuse'],
  ['payin', 'PAID', 'PENDING', 'refuse'],
  ['payin', 'PAID', 'PAID', 'noop'],
  ['payin', 'PAID', 'FAILED', 'refuse'],
  ['payin', 'PAID', 'EXPIRED', 'refuse'],
  ['payin', 'PAID', 'REFUNDED', 'apply'],
  ['payin', 'PAID', 'EXCEPTION', 'refuse'],
  ['payin', 'FAILED', 'CREATED', 'refuse'],
  ['payin', 'FAILED', 'PENDING', 'refuse'],
  ['payin', 'FAILED', 'PAID', 'refuse'],
  ['payin', 'FAILED', 'FAILED', 'noop'],
  ['payin', 'FAILED', 'EXPIRED', 'refuse'],
  ['payin', 'FAILED', 'REFUNDED', 'refuse'],
  ['payin', 'FAILED', 'EXCEPTION', 'refuse'],
  ['payin', 'EXPIRED', 'CREATED', 'refuse'],
  ['payin', 'EXPIRED', 'PENDING', 'refuse'],
  ['payin', 'EXPIRED', 'PAID', 'refuse'],
  ['payin', 'EXPIRED', 'FAILED', 'refuse'],
  ['payin', 'EXPIRED', 'EXPIRED', 'noop'],
  ['payin', 'EXPIRED', 'REFUNDED', 'refuse'],
  ['payin', 'EXPIRED', 'EXCEPTION', 'apply'],
  ['payin', 'REFUNDED', 'CREATED', 'refuse'],
  ['payin', 'REFUNDED', 'PENDING', 'refuse'],
  ['payin', 'REFUNDED', 'PAID', 'refuse'],
  ['payin', 'REFUNDED', 'FAILED', 'refuse'],
  ['payin', 'REFUNDED', 'EXPIRED', 'refuse'],
  ['payin', 'REFUNDED', 'REFUNDED', 'noop'],
  ['payin', 'REFUNDED', 'EXCEPTION', 'refuse'],
  ['payin', 'EXCEPTION', 'CREATED', 'refuse'],
  ['payin', 'EXCEPTION', 'PENDING', 'refuse'],
  ['payin', 'EXCEPTION', 'PAID', 'apply'],
  ['payin', 'EXCEPTION', 'FAILED', 'apply'],
  ['payin', 'EXCEPTION', 'EXPIRED', 'refuse'],
  ['payin', 'EXCEPTION', 'REFUNDED', 'apply'],
  ['payin', 'EXCEPTION', 'EXCEPTION', 'noop'],
  ['payout', 'CREATED', 'CREATED', 'noop'],
  ['payout', 'CREATED', 'PENDING', 'apply'],
  ['payout', 'CREATED', 'PAID', 'apply'],
  ['payout', 'CREATED', 'FAILED', 'apply'],
  ['payout', 'CREATED', 'EXPIRED', 'refuse'],
  ['payout', 'CREATED', 'REFUNDED', 'refuse'],
  ['payout', 'CREATED', 'EXCEPTION', 'apply'],
  ['payout', 'PENDING', 'CREATED', 'refuse'],
  ['payout', 'PENDING', 'PENDING', 'noop'],
  ['payout', 'PENDING', 'PAID', 'apply'],
  ['payout', 'PENDING', 'FAILED', 'apply'],
  ['payout', 'PENDING', 'EXPIRED', 'refuse'],
  ['payout', 'PENDING', 'REFUNDED', 'refuse'],
  ['payout', 'PENDING', 'EXCEPTION', 'apply'],
  ['payout', 'PAID', 'CREATED', 'refuse'],
  ['payout', 'PAID', 'PENDING', 'refuse'],
  ['payout', 'PAID', 'PAID', 'noop'],
  ['payout', 'PAID', 'FAILED', 'refuse'],
  ['payout', 'PAID', 'EXPIRED', 'refuse'],
  ['payout', 'PAID', 'REFUNDED', 'apply'],
  ['payout', 'PAID', 'EXCEPTION', 'refuse'],
  ['payout', 'FAILED', 'CREATED', 'refuse'],
  ['payout', 'FAILED', 'PENDING', 'refuse'],
  ['payout', 'FAILED', 'PAID', 'refuse'],
  ['payout', 'FAILED', 'FAILED', 'noop'],
  ['payout', 'FAILED', 'EXPIRED', 'refuse'],
  ['payout', 'FAILED', 'REFUNDED', 'refuse'],
  ['payout', 'FAILED', 'EXCEPTION', 'refuse'],
  ['payout', 'EXPIRED', 'CREATED', 'refuse'],
  ['payout', 'EXPIRED', 'PENDING', 'refuse'],
  ['payout', 'EXPIRED', 'PAID', 'refuse'],
  ['payout', 'EXPIRED', 'FAILED', 'refuse'],
  ['payout', 'EXPIRED', 'EXPIRED', 'noop'],
  ['payout', 'EXPIRED', 'REFUNDED', 'refuse'],
  ['payout', 'EXPIRED', 'EXCEPTION', 'refuse'],
  ['payout', 'REFUNDED', 'CREATED', 'refuse'],
  ['payout', 'REFUNDED', 'PENDING', 'refuse'],
  ['payout', 'REFUNDED', 'PAID', 'refuse'],
  ['payout', 'REFUNDED', 'FAILED', 'refuse'],
  ['payout', 'REFUNDED', 'EXPIRED', 'refuse'],
  ['payout', 'REFUNDED', 'REFUNDED', 'noop'],
  ['payout', 'REFUNDED', 'EXCEPTION', 'refuse'],
  ['payout', 'EXCEPTION', 'CREATED', 'refuse'],
  ['payout', 'EXCEPTION', 'PENDING', 'refuse'],
  ['payout', 'EXCEPTION', 'PAID', 'apply'],
  ['payout', 'EXCEPTION', 'FAILED', 'apply'],
  ['payout', 'EXCEPTION', 'EXPIRED', 'refuse'],
  ['payout', 'EXCEPTION', 'REFUNDED', 'refuse'],
  ['payout', 'EXCEPTION', 'EXCEPTION', 'noop'],
];

test('transition table covers every (direction, from, to) exactly once', () => {
  assert.equal(TRANSITIONS.length, DIRECTIONS.length * ORDER_STATUSES.length * ORDER_STATUSES.length);
  const keys = new Set(TRANSITIONS.map(([d, f, t]) => `${d} ${f} ${t}`));
  assert.equal(keys.size, TRANSITIONS.length);
});

for (const [direction, from, to, kind] of TRANSITIONS) {
  test(`${direction} ${from} → ${to}: ${kind}`, () => {
    const decision = decideTransition(direction, from, to);
    assert.equal(decision.kind, kind);
    if (decision.kind === 'refuse') {
      assert.equal(decision.reason, `${direction} ${from} → ${to} is not allowed`);
    }
  });
}

test('v2 status codes', () => {
  const rows: ReadonlyArray<readonly [OrderStatus, boolean, number]> = [
    ['CREATED', false, 0],
    ['PENDING', false, 1],
    ['PAID', false, 2],
    ['PAID', true, 3],
    ['FAILED', false, -1],
    ['FAILED', true, -1],
    ['EXPIRED', false, -2],
    ['REFUNDED', false, -3],
    ['REFUNDED', true, -3],
    ['EXCEPTION', false, -4],
  ];
  for (const [status, ack, code] of rows) {
    assert.equal(v2StatusCode(status, ack), code, `${status} ack=${ack}`);
  }
});

test('final and terminal statuses', () => {
  const rows: ReadonlyArray<readonly [Direction, OrderStatus, boolean, boolean]> = [
    // direction, status, final, terminal
    ['payin', 'CREATED', false, false],
    ['payin', 'PENDING', false, false],
    ['payin', 'PAID', true, false],
    ['payin', 'FAILED', true, true],
    ['payin', 'EXPIRED', true, false],
    ['payin', 'REFUNDED', true, true],
    ['payin', 'EXCEPTION', false, false],
    ['payout', 'CREATED', false, false],
    ['payout', 'PENDING', false, false],
    ['payout', 'PAID', true, false],
    ['payout', 'FAILED', true, true],
    ['payout', 'EXPIRED', false, true],
    ['payout', 'REFUNDED', true, true],
    ['payout', 'EXCEPTION', false, false],
  ];
  for (const [direction, status, final, terminal] of rows) {
    assert.equal(isFinal(direction, status), final, `final ${direction} ${status}`);
    assert.equal(isTerminal(direction, status), terminal, `terminal ${direction} ${status}`);
  }
});

test('notifiable statuses are the five of section 7', () => {
  assert.deepEqual([...NOTIFIABLE].sort(), ['EXCEPTION', 'EXPIRED', 'FAILED', 'PAID', 'REFUNDED']);
  assert.equal(isOrderStatus('PAID'), true);
  assert.equal(isOrderStatus('paid'), false);
});
