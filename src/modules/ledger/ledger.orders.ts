/**
 * Which ledger event an order's state change implies. Pure: the caller posts
 * the event in the transaction that changes the order.
 */
import type { OrderRow } from '../../platform/db/schema.ts';
import type { LedgerEvent } from './ledger.ts';

type OrderFacts = Pick<OrderRow, 'order_no' | 'direction' | 'merchant_id' | 'status' | 'amount' | 'paid_amount' | 'fee'>;

/** Money a payout takes from the merchant at creation: amount + fee. */
export function payoutFreezeEvent(order: OrderFacts): LedgerEvent {
  return { kind: 'payout.freeze', merchantId: order.merchant_id, amount: order.amount, fee: order.fee };
}

function payinEvent(before: OrderFacts, after: OrderFacts): LedgerEvent | null {
  // A consumer may pay a different amount than asked; the merchant is credited what arrived.
  const paid = after.paid_amount ?? after.amount;
  if (after.status === 'PAID') return { kind: 'payin.paid', merchantId: after.merchant_id, paid, fee: after.fee };
  // EXCEPTION → REFUNDED moves nothing: that money was never credited.
  if (before.status === 'PAID' && after.status === 'REFUNDED') {
    return { kind: 'payin.refunded', merchantId: after.merchant_id, paid, fee: after.fee };
  }
  return null;
}

function payoutEvent(before: OrderFacts, after: OrderFacts): LedgerEvent | null {
  const base = { merchantId: after.merchant_id, amount: after.amount, fee: after.fee };
  if (after.status === 'PAID') return { kind: 'payout.paid', ...base };
  if (after.status === 'FAILED') return { kind: 'payout.released', ...base };
  if (before.status === 'PAID' && after.status === 'REFUNDED') return { kind: 'payout.returned', ...base };
  // CREATED, PENDING, EXCEPTION: the funds stay frozen until the outcome is known.
  return null;
}

/**
 * pay-in →PAID: payin.paid; PAID→REFUNDED: payin.refunded.
 * payout →PAID: payout.paid; →FAILED: payout.released; PAID→REFUNDED: payout.returned.
 * Creation is not a change (a payout's freeze is posted by its creator); EXCEPTION
 * and EXPIRED move nothing.
 */
export function orderChangeEvent(before: OrderFacts, after: OrderFacts): LedgerEvent | null {
  if (before.order_no !== after.order_no) throw new Error(`orderChangeEvent: ${before.order_no} vs ${after.order_no}`);
  if (before.status === after.status) return null;
  return after.direction === 'payin' ? payinEvent(before, after) : payoutEvent(before, after);
}
