import type { OrderRow } from '../../platform/db/schema.ts';
import type { CashierLink } from './cashier-link.ts';
import { toMajorNumber } from '../../platform/money.ts';
import { signParams } from '../../platform/sign.ts';
import { chargedFee } from './fee.ts';
import { v2StatusCode, type OrderStatus } from './order.ts';

/** Params that are times: epoch milliseconds, a JSON number like every other time on the wire. */
const TIME_PARAMS = ['expireTime'] as const;

function paramsOf(row: OrderRow, cashierLink: CashierLink): Record<string, string | number> | undefined {
  if (row.direction !== 'payin') return undefined;
  const url = cashierLink(row.order_no);
  const params: Record<string, string | number> = Object.assign({ url, paymentLink: url }, row.params ? (JSON.parse(row.params) as Record<string, string>) : {});
  for (const name of TIME_PARAMS) {
    const value = params[name];
    if (typeof value === 'string' && /^\d{1,15}$/.test(value)) params[name] = Number(value);
  }
  // An order whose method the consumer has yet to pick has no channel params: its expiry is still the order's.
  if (params.expireTime === undefined && row.expires_at !== null) params.expireTime = Number(row.expires_at);
  return params;
}

/** The fields both generations share, in wire order; the caller sets its own after them. */
function shared(row: OrderRow, cashierLink: CashierLink) {
  const money = (minor: bigint) => toMajorNumber(minor, row.currency);
  const status = row.status as OrderStatus;
  const out: Record<string, unknown> = {
    orderNo: row.order_no,
    merOrderNo: row.mer_order_no,
    amount: money(row.amount),
    tradeCharge: money(chargedFee(row)),
    currency: row.currency,
  };
  if (row.method !== null) out.payMethod = row.method;
  if (row.attach !== null) out.attach = row.attach;
  const params = paramsOf(row, cashierLink);
  if (params) out.params = params;
  out.createTime = Number(row.created_at);
  out.updateTime = Number(row.updated_at);
  if ((status === 'FAILED' || status === 'EXCEPTION') && row.message) out.message = row.message;
  return { out, paid: money(row.paid_amount ?? 0n), status };
}

/** The v3 order object (merchant-api.md §3). */
export function v3Order(row: OrderRow, cashierLink: CashierLink): Record<string, unknown> {
  const { out, paid, status } = shared(row, cashierLink);
  out.status = status;
  out.paidAmount = paid;
  return out;
}

/** The v2 order object, unsigned: `orderStatus` integer and `realAmount`. */
export function v2Order(row: OrderRow, cashierLink: CashierLink): Record<string, unknown> {
  const { out, paid, status } = shared(row, cashierLink);
  out.orderStatus = v2StatusCode(status, row.acknowledged === 1n);
  out.realAmount = paid;
  return out;
}

/** A v2 answer's `data`: the order with its `sign`, made with the secret that signed the request. */
export function signedV2(order: OrderRow, cashierLink: CashierLink, signingSecret: string): Record<string, unknown> {
  const data = v2Order(order, cashierLink);
  return { ...data, sign: signParams(data, signingSecret) };
}
