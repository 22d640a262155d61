import type { OrderRow } from '../../platform/db/schema.ts';
import { toMajorNumber } from '../../platform/money.ts';
import { signParams } from '../../platform/sign.ts';
import { v2StatusCode, type OrderStatus } from '../orders/order.ts';

/**
 * The names signedReturnUrl appends, in lower case. A returnUrl whose own query uses one (in any case) is
 * refused at create: the redirect would carry the name twice, and a merchant
 * whose framework reads the first value would verify the wrong one.
 */
export const RETURN_PARAMS: ReadonlySet<string> = new Set(['orderno', 'merorderno', 'status', 'orderstatus', 'amount', 'currency', 'attach', 'sign']);

/**
 * The synchronous callback (merchant-api.md §8): the merchant's returnUrl with
 * the order's outcome appended as signed query parameters, each value
 * percent-encoded as UTF-8 (a space is %20, never +), keeping the query the URL
 * already had as it was. A hint for the merchant; the notification or a
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
  let appended = '';
  for (const [key, value] of Object.entries(params)) appended += `&${key}=${encodeURIComponent(String(value))}`;
  appended += `&sign=${signParams(params, secret)}`;
  // The merchant's own query is kept byte for byte (it may be signed by the merchant):
  // the parser only validates and percent-encodes what a URL cannot carry raw.
  const url = new URL(order.return_url);
  const fragment = url.hash;
  url.hash = '';
  const base = url.href;
  const separator = !url.search ? (base.endsWith('?') ? '' : '?') : base.endsWith('&') ? '' : '&';
  return base + separator + appended.slice(1) + fragment;
}
