/**
 * Order statuses and the state machine of spec section 4, shared by pay-ins and
 * payouts. Pure: callers load the order, ask `decideTransition`, and apply the
 * change (with its postings and notification) in one transaction.
 */

export type Direction = 'payin' | 'payout';

export const DIRECTIONS: readonly Direction[] = ['payin', 'payout'];

export type OrderStatus = 'CREATED' | 'PENDING' | 'PAID' | 'FAILED' | 'EXPIRED' | 'REFUNDED' | 'EXCEPTION';

export const ORDER_STATUSES: readonly OrderStatus[] = [
  'CREATED',
  'PENDING',
  'PAID',
  'FAILED',
  'EXPIRED',
  'REFUNDED',
  'EXCEPTION',
];

export function isOrderStatus(value: string): value is OrderStatus {
  return (ORDER_STATUSES as readonly string[]).includes(value);
}

export function isDirection(value: string): value is Direction {
  return value === 'payin' || value === 'payout';
}

const V2_CODES: Record<OrderStatus, number> = {
  CREATED: 0,
  PENDING: 1,
  PAID: 2,
  FAILED: -1,
  EXPIRED: -2,
  REFUNDED: -3,
  EXCEPTION: -4,
};

/** v2 `orderStatus`. v2 merchants read 3 as "paid and you already told me". */
export function v2StatusCode(status: OrderStatus, acknowledged: boolean): number {
  if (status === 'PAID' && acknowledged) return 3;
  return V2_CODES[status];
}

type Edges = Readonly<Partial<Record<OrderStatus, readonly OrderStatus[]>>>;

// Written out per direction rather than derived, so the table reads like the spec.
// Payouts have no EXPIRED (money only leaves when we send it) and EXCEPTION never
// goes to REFUNDED directly: an unknown outcome is resolved to PAID or FAILED first.
const ALLOWED: Readonly<Record<Direction, Edges>> = {
  payin: {
    CREATED: ['PENDING', 'PAID', 'FAILED', 'EXPIRED', 'EXCEPTION'],
    PENDING: ['PAID', 'FAILED', 'EXPIRED', 'EXCEPTION'],
    PAID: ['REFUNDED'],
    EXPIRED: ['EXCEPTION'],
    EXCEPTION: ['PAID', 'FAILED', 'REFUNDED'],
  },
  payout: {
    CREATED: ['PENDING', 'PAID', 'FAILED', 'EXCEPTION'],
    PENDING: ['PAID', 'FAILED', 'EXCEPTION'],
    PAID: ['REFUNDED'],
    EXCEPTION: ['PAID', 'FAILED'],
  },
};

export type TransitionDecision = { kind: 'apply' } | { kind: 'noop' } | { kind: 'refuse'; reason: string };

/**
 * Whether moving an order of `direction` from `from` to `to` is applied, ignored
 * (a repeated event: the order is already there) or refused (logged, never applied).
 */
export function decideTransition(direction: Direction, from: OrderStatus, to: OrderStatus): TransitionDecision {
  if (from === to) return { kind: 'noop' };
  if (ALLOWED[direction][from]?.includes(to)) return { kind: 'apply' };
  return { kind: 'refuse', reason: `${direction} ${from} → ${to} is not allowed` };
}

/**
 * Final = the outcome is decided (the fee is final, funds are settled one way or
 * the other). A final order can still move by a late correction (PAID→REFUNDED,
 * EXPIRED→EXCEPTION); EXCEPTION is not final because someone must resolve it.
 */
export function isFinal(direction: Direction, status: OrderStatus): boolean {
  if (status === 'EXPIRED') return direction === 'payin';
  return status === 'PAID' || status === 'FAILED' || status === 'REFUNDED';
}

/** Terminal = no transition leaves this status. */
export function isTerminal(direction: Direction, status: OrderStatus): boolean {
  return (ALLOWED[direction][status] ?? []).length === 0;
}

/** Entering one of these statuses queues a notification to the merchant (spec section 7). */
export const NOTIFIABLE: ReadonlySet<OrderStatus> = new Set<OrderStatus>([
  'PAID',
  'FAILED',
  'EXPIRED',
  'REFUNDED',
  'EXCEPTION',
]);

export function isNotifiable(status: OrderStatus): boolean {
  return NOTIFIABLE.has(status);
}
