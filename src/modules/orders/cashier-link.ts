import { createHmac } from 'node:crypto';
import { safeEqual } from '../../platform/constant-time.ts';

/**
 * A pay-in's hosted cashier page. Its address holds a key only the gateway can
 * make (an HMAC of the order number): order numbers are shown to consumers and
 * support staff, and are sortable, so the number alone must open nothing.
 */
export type CashierLink = (orderNo: string) => string;

const KEY_CHARS = 22; // 132 bits of the HMAC, base64url

/** What the master key derives the links' secret for (SecretBox.derive). */
export const CASHIER_LINK_PURPOSE = 'cashier:link';

export function cashierKey(secret: Buffer, orderNo: string): string {
  return createHmac('sha256', secret).update(`cashier:${orderNo}`).digest('base64url').slice(0, KEY_CHARS);
}

/** Whether `given` is the order's cashier key (constant time). */
export function isCashierKey(secret: Buffer, orderNo: string, given: unknown): boolean {
  return typeof given === 'string' && safeEqual(given, cashierKey(secret, orderNo));
}

/** The path of the order's page, with its key: for redirects within the cashier. */
export function cashierPath(secret: Buffer, orderNo: string): string {
  return `/cashier/${encodeURIComponent(orderNo)}?k=${cashierKey(secret, orderNo)}`;
}

export function cashierLinks(publicUrl: string, secret: Buffer): CashierLink {
  return (orderNo) => `${publicUrl}${cashierPath(secret, orderNo)}`;
}
