import type { OrderRow } from '../../platform/db/schema.ts';
import { v2Order, v3Order } from '../orders/order.wire.ts';
import type { CashierLink } from '../orders/cashier-link.ts';

/** The v2 fields merchant libraries re-sign (merchant-api.md §7). */
const V2_CORE = ['orderStatus', 'orderNo', 'merOrderNo', 'amount', 'currency', 'attach', 'createTime', 'updateTime'] as const;

export interface NotificationPayload {
  /** Signed with the app's secret at delivery. */
  signed: Record<string, unknown>;
  /** Added after signing, outside the signature (v2 only). */
  unsigned: Record<string, unknown>;
}

/**
 * What the merchant is told about a change, in the generation the order was
 * created with: v3 signs the whole order object; v2 signs exactly the core
 * fields and adds `realAmount` (when it differs) and `receiptUrl` unsigned.
 */
export function notificationPayload(order: OrderRow, cashierLink: CashierLink): NotificationPayload {
  if (order.generation === 'v3') return { signed: v3Order(order, cashierLink), unsigned: {} };
  const full = v2Order(order, cashierLink);
  const signed: Record<string, unknown> = {};
  for (const key of V2_CORE) {
    const value = full[key];
    if (value !== undefined && value !== null && value !== '') signed[key] = value;
  }
  const unsigned: Record<string, unknown> = {};
  if (order.paid_amount !== null && order.paid_amount !== order.amount) unsigned.realAmount = full.realAmount;
  if (typeof full.receiptUrl === 'string') unsigned.receiptUrl = full.receiptUrl;
  return { signed, unsigned };
}
