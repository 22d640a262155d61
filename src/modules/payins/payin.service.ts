import type { Db } from '../../platform/db/database.ts';
import type { OrderRow } from '../../platform/db/schema.ts';
import { notFound, unprocessable } from '../../platform/errors.ts';
import { formatMajor } from '../../platform/money.ts';
import { resolveMethod, validateExtra, type MethodDef } from '../channels/catalogue.ts';
import { channelOrderOf, checkChannelRef, storedExtra, withDeadline, type Channel, type ChannelCreateResult, type ChannelEvent } from '../channels/channel.ts';
import { checkAmountAllowed, methodSettings, payableMethods, type MethodSettings } from '../channels/method-settings.ts';
import type { MerchantFacts } from '../merchants/merchant.service.ts';
import { computeFee } from '../orders/fee.ts';
import type { Direction, OrderStatus } from '../orders/order.ts';
import { newOrderRow, parseOrderRequest, requestHash, sameRequest, type Caller } from '../orders/order.request.ts';
import {
  chooseMethod,
  findOrder,
  findExpiredPayins,
  findOrderByRef,
  findOrderForUpdate,
  listOrderEvents,
  recordChannelEvent,
  transitionKnownOrder,
  type NewOrder,
  type OrderRef,
  type OrderDeps,
  type Transition,
  type TransitionResult,
} from '../orders/order.service.ts';

/** What creating orders needs, pay-ins and payouts alike. */
export interface CreateDeps extends OrderDeps {
  db: Db;
  requireHttpsNotify: boolean;
  channelTimeoutMs: number;
  channel: (name: string) => Channel | undefined;
  /** The merchant's name and currencies, as recently read (see services.ts). */
  merchantOf: (merchantId: string) => Promise<MerchantFacts>;
  /** The merchant's settings for a method, as recently read. */
  settingsOf: (merchantId: string, direction: Direction, method: string) => Promise<MethodSettings>;
  /** The order a merchant made with this merOrderNo, if any (committed state; lookups of concurrent creates batched). */
  knownOrder: (ref: OrderRef) => Promise<OrderRow | undefined>;
  /** transitionKnownOrder in a transaction of its own (on PostgreSQL, concurrent ones share one). */
  commitTransition: (order: OrderRow, t: Transition) => Promise<TransitionResult>;
}

export interface PayinDeps extends CreateDeps {
  orderTtlMs: number;
  /** Writes a new order (createOrders, with the orders of concurrent creates batched). */
  newOrder: (order: NewOrder) => Promise<OrderRow | undefined>;
}

export type { Caller };

/**
 * Creates a pay-in, idempotently on `merOrderNo`: the unique constraint decides
 * which of concurrent identical requests creates the order; the others answer
 * it. With a method, the channel is asked first, never inside a transaction,
 * and the order is written once with its answer: accepted (PENDING), or
 * refused or unanswered (FAILED with the reason). A process that dies while
 * waiting for the channel leaves no order; the consumer never saw the
 * payment instructions, and the merchant's retry creates the order afresh.
 */
export async function createPayin(deps: PayinDeps, caller: Caller, body: Record<string, unknown>): Promise<OrderRow> {
  const req = parseOrderRequest(body, 'payin', { requireHttps: deps.requireHttpsNotify });
  const hash = requestHash(req);
  // A retry answers the order it made even if the merchant's settings changed since.
  const known = await deps.knownOrder({ merchantId: caller.merchantId, direction: 'payin', merOrderNo: req.merOrderNo });
  if (known) return sameRequest(known, hash, req);
  const merchant = await deps.merchantOf(caller.merchantId);
  if (!merchant.currencies.includes(req.currency)) throw unprocessable(`currency: ${req.currency} is not enabled for this merchant`);
  const settings = req.method ? await deps.settingsOf(caller.merchantId, 'payin', req.method.code) : null;
  if (req.method && settings) checkAmountAllowed(settings, req.method.code, 'payin', req.amount, req.currency);
  // Without a method the consumer picks one on the cashier page: there must be one to pick.
  if (!req.method && (await payableMethods((method) => deps.settingsOf(caller.merchantId, 'payin', method), req.currency, req.amount, req.extra ?? undefined)).length === 0) {
    throw unprocessable(`payMethod: no payment method is available to this merchant for ${formatMajor(req.amount, req.currency)} ${req.currency}`);
  }

  const now = deps.clock.now();
  const row = newOrderRow('payin', caller, req, hash, now, { channel: settings?.channel ?? null, expiresAt: now + deps.orderTtlMs });
  const answered = req.method ? answerOf(row.channel!, await askChannel(deps, row, req.method, merchant.name)) : undefined;
  const order = await deps.newOrder({ row, actor: `merchant:${caller.appId}`, ...(answered ? { answered } : {}) });
  // Lost the race to a concurrent identical request: the unique constraint decided.
  if (!order) return sameRequest((await findOrderByRef(deps.db, caller.merchantId, 'payin', req.merOrderNo))!, hash, req);
  return order;
}

/** Asks the order's channel to start the payment; a channel that throws or does not answer is an answer too. */
async function askChannel(deps: PayinDeps, order: OrderRow, method: MethodDef, merchantName: string): Promise<ChannelCreateResult> {
  const channel = order.channel ? deps.channel(order.channel) : undefined;
  if (!channel) return { kind: 'refused', reason: `channel ${order.channel} is not configured` };
  return withDeadline(
    deps.channelTimeoutMs,
    async (deadline) => channel.create(channelOrderOf(order, method, merchantName), deadline),
    (reason) => ({ kind: 'unknown' as const, reason }),
  ).catch((err: unknown): ChannelCreateResult => {
    // A channel that throws is a bug in it; the order must still not be left half-made.
    deps.log.error({ err, orderNo: order.order_no, channel: order.channel }, 'channel create threw');
    return { kind: 'refused', reason: `channel ${order.channel} failed to create the payment` };
  });
}

/** The state change a channel's answer to a new pay-in makes. */
function answerOf(channel: string, result: ChannelCreateResult): Transition {
  const actor = `channel:${channel}`;
  return result.kind === 'accepted'
    ? { to: 'PENDING', cause: 'channel', actor, changes: { channel_ref: result.channelRef, params: JSON.stringify(result.params) } }
    : { to: 'FAILED', cause: 'channel', actor, changes: { message: result.reason, fee: 0n }, detail: { channelAnswer: result.kind } };
}

/** Starts the payment of an order that exists without a method yet (the cashier's picker). */
async function startWithChannel(deps: PayinDeps, order: OrderRow, method: MethodDef): Promise<OrderRow> {
  const result = await askChannel(deps, order, method, (await deps.merchantOf(order.merchant_id)).name);
  const outcome = await deps.commitTransition(order, answerOf(order.channel!, result));
  return outcome.order;
}

const EXPIRY: Transition = { to: 'EXPIRED', cause: 'expiry', actor: 'system:expiry', changes: { fee: 0n } };

/** An open pay-in whose time is up, whether or not the expiry job has come by. */
function isDue(order: OrderRow, now: number): boolean {
  return (order.status === 'CREATED' || order.status === 'PENDING') && order.expires_at !== null && order.expires_at <= BigInt(now);
}

/** The pay-in as it is now: expired if its time is up, whether or not the expiry job came by (the cashier page shows it so). */
export async function currentPayin(deps: PayinDeps, order: OrderRow): Promise<OrderRow> {
  return isDue(order, deps.clock.now()) ? expireNow(deps, order.order_no) : order;
}

/** Expires the pay-in if its time is up (re-checked in the transaction); the order as it then is. */
async function expireNow(deps: PayinDeps, orderNo: string): Promise<OrderRow> {
  return deps.transact(async (tx) => {
    const order = (await findOrderForUpdate(tx, orderNo))!;
    return isDue(order, deps.clock.now()) ? (await transitionKnownOrder(tx, deps, order, EXPIRY)).order : order;
  });
}

/** The consumer picks a method on the cashier page of an order created without one. */
export async function choosePayinMethod(deps: PayinDeps, orderNo: string, methodText: string): Promise<OrderRow> {
  const found = await findOrder(deps.db, orderNo);
  if (!found || found.direction !== 'payin') throw notFound(`order ${orderNo} does not exist`);
  // Its time is up (the expiry job has not come by yet): it expires, and no payment starts.
  const order = await currentPayin(deps, found);
  if (order.method !== null || order.status !== 'CREATED') return order;
  const method = resolveMethod(methodText, order.currency, 'payin');
  // The page offers only methods the order's extra suits; a forged form gets the create's 400.
  validateExtra(method, 'payin', storedExtra(order));
  const settings = await deps.settingsOf(order.merchant_id, 'payin', method.code);
  checkAmountAllowed(settings, method.code, 'payin', order.amount, order.currency);
  const claimed = await chooseMethod(deps.db, order, method.code, settings.channel, deps.clock.now());
  // Two taps at once: only the one that set the method starts the payment.
  if (!claimed) return (await findOrder(deps.db, orderNo))!;
  return startWithChannel(deps, claimed, method);
}

/** The message of an order the consumer cancelled on the cashier page. */
export const CANCELLED_BY_CONSUMER = 'cancelled by the consumer';

/**
 * The consumer cancels on the cashier page. Without a method no channel was
 * ever asked: FAILED. With one, payment instructions were shown and money may
 * still arrive: EXPIRED at once, so that late money is an EXCEPTION for an
 * operator, as after any expiry, rather than refused on a FAILED order. An
 * order no longer open is left as it is (a stale page).
 */
export async function cancelPayin(deps: PayinDeps, orderNo: string): Promise<OrderRow> {
  return deps.transact(async (tx) => {
    const order = await findOrderForUpdate(tx, orderNo);
    if (!order || order.direction !== 'payin') throw notFound(`order ${orderNo} does not exist`);
    if (order.status !== 'CREATED' && order.status !== 'PENDING') return order;
    if (isDue(order, deps.clock.now())) return (await transitionKnownOrder(tx, deps, order, EXPIRY)).order;
    const to: OrderStatus = order.method === null ? 'FAILED' : 'EXPIRED';
    const result = await transitionKnownOrder(tx, deps, order, { to, cause: 'cashier', actor: 'consumer', changes: { message: CANCELLED_BY_CONSUMER } });
    return result.order;
  });
}

/**
 * A verified upstream report. A report the channel sends again (same event id)
 * changes nothing. Money reported for an expired order makes it EXCEPTION,
 * which only an operator resolves; it never silently becomes PAID.
 */
export async function applyPayinEvent(deps: PayinDeps, channelName: string, event: ChannelEvent): Promise<TransitionResult> {
  return deps.transact(async (tx) => {
    let order = await findOrderForUpdate(tx, event.orderNo);
    if (!order || order.direction !== 'payin' || order.channel !== channelName) throw notFound(`order ${event.orderNo} is not a ${channelName} pay-in`);
    checkChannelRef(order, event);
    if (!(await recordChannelEvent(tx, channelName, event.eventId, order.order_no, deps.clock.now()))) return { kind: 'noop', order };
    // Its time ran out before the expiry job came by: it expires first, as the job would
    // have, so money that arrives now is an EXCEPTION as after any expiry, never PAID.
    if (isDue(order, deps.clock.now())) order = (await transitionKnownOrder(tx, deps, order, EXPIRY)).order;
    const actor = `channel:${channelName}`;
    const detail = { eventId: event.eventId, outcome: event.outcome, ...(event.paidAmount !== null ? { paidAmount: event.paidAmount } : {}) };
    const paid = event.paidAmount ?? order.amount;
    // Money that arrived after expiry is recorded; no later report of the channel settles it.
    if (order.status === 'EXCEPTION' && (await enteredFrom(tx, order.order_no, 'EXPIRED'))) {
      // PAID again, for the amount already recorded, is nothing new, as any repeated outcome; another amount is news for the operator.
      if (event.outcome === 'PAID' && paid === order.paid_amount) return { kind: 'noop', order };
      const reported = event.paidAmount === null ? {} : { paidAmount: formatMajor(event.paidAmount, order.currency) };
      deps.log.warn({ orderNo: order.order_no, eventId: event.eventId, outcome: event.outcome, ...reported }, 'late payment awaits an operator; channel report ignored');
      return { kind: 'refused', order, reason: 'a late payment is resolved by an operator' };
    }
    if (event.outcome === 'PAID') {
      if (order.status === 'EXPIRED') {
        const message = `payment of ${formatMajor(paid, order.currency)} ${order.currency} reported after the order expired`;
        return transitionKnownOrder(tx, deps, order, { to: 'EXCEPTION', cause: 'channel', actor, detail, changes: { paid_amount: paid, message } });
      }
      const settings = await methodSettings(tx, order.merchant_id, 'payin', order.method!);
      const fee = computeFee(paid, settings.fee);
      return transitionKnownOrder(tx, deps, order, { to: 'PAID', cause: 'channel', actor, detail, changes: { paid_amount: paid, fee, message: null } });
    }
    const to: OrderStatus = event.outcome;
    const message = event.message ?? `${to.toLowerCase()} reported by ${channelName}`;
    // An exception with money in it keeps the amount: a resolution to PAID credits what arrived.
    const changes =
      to === 'EXCEPTION' && event.paidAmount !== null
        ? { paid_amount: event.paidAmount, message: `${message}; ${formatMajor(event.paidAmount, order.currency)} ${order.currency} arrived` }
        : to === 'FAILED' || to === 'EXCEPTION'
          ? { message }
          : {};
    return transitionKnownOrder(tx, deps, order, { to, cause: 'channel', actor, detail, changes });
  });
}

/** Whether the order's latest state change came from `status`. */
async function enteredFrom(tx: Db, orderNo: string, status: OrderStatus): Promise<boolean> {
  const events = await listOrderEvents(tx, orderNo);
  return events[events.length - 1]?.from_status === status;
}

/** Pay-ins whose time ran out become EXPIRED. Safe to run in several processes at once. */
export async function expireDuePayins(deps: PayinDeps, batch = 100): Promise<number> {
  const due = await findExpiredPayins(deps.db, deps.clock.now(), batch);
  let expired = 0;
  for (const orderNo of due) {
    const result = await deps.transact(async (tx) => {
      const order = await findOrderForUpdate(tx, orderNo);
      // Re-checked inside the transaction: another process or a payment may have come first.
      if (!order || !isDue(order, deps.clock.now())) return undefined;
      return transitionKnownOrder(tx, deps, order, EXPIRY);
    });
    if (result?.kind === 'applied') expired++;
  }
  return expired;
}
