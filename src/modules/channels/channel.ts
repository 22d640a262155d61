import type { OrderRow } from '../../platform/db/schema.ts';
import { badRequest } from '../../platform/errors.ts';
import { formatMajor, MAX_MINOR } from '../../platform/money.ts';
import type { Direction, OrderStatus } from '../orders/order.ts';
import { channelExtra, type MethodDef } from './catalogue.ts';

/** An order's `extra` as the merchant sent it, or undefined without one. */
export function storedExtra(order: Pick<OrderRow, 'extra'>): Record<string, string> | undefined {
  return order.extra ? (JSON.parse(order.extra) as Record<string, string>) : undefined;
}

/** What a channel is told about an order when it is asked to start it. */
export interface ChannelOrder {
  orderNo: string;
  direction: Direction;
  currency: string;
  amount: bigint;
  /** Exact major-unit text of the amount, e.g. "1250.5". */
  amountText: string;
  method: MethodDef;
  extra: Readonly<Record<string, string>> | null;
  merchantName: string;
  expiresAt: number | null;
}

/** What a channel is told of a stored order. */
export function channelOrderOf(order: OrderRow, method: MethodDef, merchantName: string): ChannelOrder {
  return {
    orderNo: order.order_no,
    direction: order.direction as Direction,
    currency: order.currency,
    amount: order.amount,
    amountText: formatMajor(order.amount, order.currency),
    method,
    extra: channelExtra(method, storedExtra(order) ?? null),
    merchantName,
    expiresAt: order.expires_at === null ? null : Number(order.expires_at),
  };
}

/** Expected outcomes of a channel call are values; exceptions are bugs. */
export type ChannelCreateResult =
  | { kind: 'accepted'; channelRef: string; params: Record<string, string> }
  | { kind: 'refused'; reason: string }
  /** No answer: the channel may or may not have the order. */
  | { kind: 'unknown'; reason: string };

export type ChannelQueryResult =
  | { kind: 'status'; status: OrderStatus; paidAmount?: bigint; message?: string }
  /** The channel has never received this order: submitting it is safe. */
  | { kind: 'absent' }
  | { kind: 'unknown'; reason: string };

/** An upstream report, verified by the channel's own rule. */
export interface ChannelEvent {
  orderNo: string;
  channelRef: string | null;
  outcome: Extract<OrderStatus, 'PENDING' | 'PAID' | 'FAILED' | 'EXCEPTION' | 'REFUNDED'>;
  /** What the consumer actually paid, when the provider says so. */
  paidAmount: bigint | null;
  message: string | null;
  /** The provider's id of this report; a repeated report carries the same one. */
  eventId: string;
}

const MAX_EVENT_TEXT = 256;

function eventText(field: string, value: unknown, required: boolean): string | null {
  if (value === null || value === undefined) {
    if (required) throw badRequest(`${field}: is required`);
    return null;
  }
  if (typeof value !== 'string' || (required && value === '')) throw badRequest(`${field}: must be a${required ? ' non-empty' : ''} string`);
  if ([...value].length > MAX_EVENT_TEXT) throw badRequest(`${field}: at most ${MAX_EVENT_TEXT} characters`);
  // Format characters too (a bidi override makes a message read otherwise on a merchant's screen).
  if (/[\p{Cc}\p{Cs}\p{Cf}]/u.test(value)) throw badRequest(`${field}: must be text without control characters`);
  return value;
}

/**
 * The rules every channel's report must meet, whatever its own format: a
 * provider's report is input like any other. Amounts are positive and within
 * what the gateway keeps exact; texts are bounded (a message reaches the
 * merchant's order and the operator's terminal).
 */
export function checkChannelEvent(event: ChannelEvent): ChannelEvent {
  eventText('orderNo', event.orderNo, true);
  eventText('eventId', event.eventId, true);
  eventText('channelRef', event.channelRef, false);
  eventText('message', event.message, false);
  if (event.paidAmount !== null && (typeof event.paidAmount !== 'bigint' || event.paidAmount <= 0n || event.paidAmount > MAX_MINOR)) {
    throw badRequest(`paidAmount: must be more than 0 and at most ${MAX_MINOR} minor units`);
  }
  return event;
}

/** A report naming a channel reference other than the order's is about another payment. */
export function checkChannelRef(order: Pick<OrderRow, 'order_no' | 'channel_ref'>, event: ChannelEvent): void {
  if (event.channelRef !== null && order.channel_ref !== null && event.channelRef !== order.channel_ref) {
    throw badRequest(`channelRef: ${event.channelRef} is not the reference of order ${order.order_no}`);
  }
}

/**
 * A channel call's deadline. Its `signal` aborts when the deadline passes; it
 * is made when first read (an AbortSignal costs microseconds to make, and a
 * channel that answers in-process never needs one).
 */
export interface CallDeadline {
  readonly signal: AbortSignal;
}

export interface Channel {
  readonly name: string;
  /**
   * Submits the order upstream, keyed by its order number: a second create of an
   * order number the upstream already has must not move money again, only answer
   * as the first did. Payout recovery relies on it: it submits a payout left
   * CREATED past the channel timeout, and the process that made it may only have
   * stalled in its own call.
   */
  create(order: ChannelOrder, deadline: CallDeadline): Promise<ChannelCreateResult>;
  query(order: { orderNo: string; channelRef: string | null; direction: Direction }, deadline: CallDeadline): Promise<ChannelQueryResult>;
  /** Verifies and parses a callback; throws an AppError (401/400) for one that is not genuine. */
  parseCallback(raw: Buffer, headers: Readonly<Record<string, string | string[] | undefined>>): ChannelEvent;
}

/**
 * Runs a channel call with a deadline. A call that does not answer in time is
 * `unknown`: the channel may have acted on it.
 */
export async function withDeadline<T>(ms: number, call: (deadline: CallDeadline) => Promise<T>, onTimeout: (reason: string) => T): Promise<T> {
  // An AbortController makes its signal on first read of `signal`, or on abort.
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => {
      // Settled before the abort, whose listeners run at once: the deadline's outcome wins.
      resolve(onTimeout(`channel did not answer within ${ms} ms`));
      controller.abort();
    }, ms);
  });
  try {
    return await Promise.race([call(controller), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
