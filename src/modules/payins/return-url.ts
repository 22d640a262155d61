import type { OrderRow } from '../../platform/db/schema.ts';
import { toMajorNumber } from '../../platform/money.ts';
import { signParams } from '../../platform/sign.ts';
import { v2StatusCode, type OrderStatus } from '../orders/order.ts';

/**
 * The synchronous callback (merchant-api.md §8): the merchant's returnUrl with
 * the order's outcome appended as signed, URL-encoded query parameters, keeping
 * any query the URL already had. A hint for the merchant; the notification or a
 * query is the truth.
 */
export function signedReturnUrl(order: OrderRow, secret: string): string | null {
  if (!order.return_url) return null;
  const status = order.status as OrderStatus;
  const params: Record<string, string | number> = {
    orderNo: order.order_no,
    merOrderNo: order.mer_order_no,
    ...(order.generation === 'v2' ? { orderStatus: v2StatusCode(status, order.acknowledged === 1n) } : { status }),
    amount: toMajorNumber(order.amount, order.currency),
    currency: order.currency,
    ...(order.attach ? { attach: order.attach } : {}),
  };
  const url = new URL(order.return_url);
  for (const [key, value] of Object.entries(params)) url.searchParams.append(key, String(value));
  url.searchParams.append('sign', signParams(params, secret));
  return url.toString();
}
