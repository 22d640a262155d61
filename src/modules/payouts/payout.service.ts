import type { Db } from '../../platform/db/database.ts';
import type { OrderRow } from '../../platform/db/schema.ts';
import { AppError, notFound, unprocessable } from '../../platform/errors.ts';
import { findMethod } from '../channels/catalogue.ts';
import { channelOrderOf, checkChannelRef, withDeadline, type ChannelCreateResult, type ChannelEvent, type ChannelQueryResult } from '../channels/channel.ts';
import { checkAmountAllowed } from '../channels/method-settings.ts';
import { freezeForPayouts } from '../ledger/ledger.service.ts';
import { computeFee } from '../orders/fee.ts';
import type { OrderStatus } from '../orders/order.ts';
import { newOrderRow, parseOrderRequest, requestHash, sameRequest, type Caller, type OrderRequest } from '../orders/order.request.ts';
import { createOrders, findOrderByRef, findOrderForUpdate, recordChannelEvent, transitionKnownOrder, type NewOrder, type OrderDeps, type TransitionResult } from '../orders/order.service.ts';
import type { CreateDeps } from '../payins/payin.service.ts';

export interface PayoutDeps extends CreateDeps {
  /** Writes a new payout with its freeze (writeNewPayouts, with concurrent creates batched); undefined when its merOrderNo was taken. */
  newPayout: (payout: NewPayout) => Promise<OrderRow | undefined>;
}

/** A new payout's row as created, and who creates it. */
export type NewPayout = Omit<NewOrder, 'answered'>;

/**
 * Creates a payout: the order, its history and the freeze of `amount + fee`
 * commit together, the freeze checked by the database in the same statement
 * (a balance that would go negative refuses the whole create with 422). The
 * channel is called after the commit.
 */
export async function createPayout(deps: PayoutDeps, caller: Caller, body: Record<string, unknown>): Promise<OrderRow> {
  const req = parseOrderRequest(body, 'payout', { requireHttps: deps.requireHttpsNotify });
  const hash = requestHash(req);
  // A retry is told apart when its order is written (the merOrderNo is unique),
  // not by a read first: the channel is called only after that write. A retry
  // that the operator's rules would now refuse still answers its order.
  let row: OrderRow;
  try {
    row = await newPayoutRow(deps, caller, req, hash);
  } catch (err) {
    const known = err instanceof AppError ? await deps.knownOrder({ merchantId: caller.merchantId, direction: 'payout', merOrderNo: req.merOrderNo }) : undefined;
    if (known) return sameRequest(known, hash, req);
    throw err;
  }
  const order = await deps.newPayout({ row, actor: `merchant:${caller.appId}` });
  if (!order) return sameRequest((await findOrderByRef(deps.db, caller.merchantId, 'payout', req.merOrderNo))!, hash, req);
  return submitPayout(deps, order);
}

/** The row of a new payout, within the merchant's currencies and the method's settings and limits. */
async function newPayoutRow(deps: PayoutDeps, caller: Caller, req: OrderRequest, hash: string): Promise<OrderRow> {
  const method = req.method!;
  const { currencies } = await deps.merchantOf(caller.merchantId);
  if (!currencies.includes(req.currency)) throw unprocessable(`currency: ${req.currency} is not enabled for this merchant`);
  const settings = await deps.settingsOf(caller.merchantId, 'payout', method.code);
  checkAmountAllowed(settings, method.code, 'payout', req.amount, req.currency);
  return newOrderRow('payout', caller, req, hash, deps.clock.now(), { channel: settings.channel, fee: computeFee(req.amount, settings.fee), expiresAt: null });
}

/**
 * The creating transaction of payouts: the orders with their history, and the
 * freeze of their funds (a balance that cannot cover them refuses them all:
 * 422); for each, its order, or undefined when its merchant already had its
 * merOrderNo.
 */
export async function writeNewPayouts(tx: Db, deps: Pick<OrderDeps, 'effects'>, payouts: readonly NewPayout[]): Promise<(OrderRow | undefined)[]> {
  const born = await createOrders(tx, deps, payouts);
  await freezeForPayouts(
    tx,
    born.flatMap((order, i) => (order ? [{ order, actor: payouts[i]!.actor }] : [])),
  );
  return born;
}

async function callCreate(deps: PayoutDeps, order: OrderRow): Promise<ChannelCreateResult> {
  const channel = order.channel ? deps.channel(order.channel) : undefined;
  if (!channel) return { kind: 'refused', reason: `channel ${order.channel} is not configured` };
  const method = findMethod(order.method!)!;
  return withDeadline(
    deps.channelTimeoutMs,
    async (deadline) => channel.create(channelOrderOf(order, method, (await deps.merchantOf(order.merchant_id)).name), deadline),
    (reason) => ({ kind: 'unknown' as const, reason }),
  ).catch((err: unknown): ChannelCreateResult => {
    deps.log.error({ err, orderNo: order.order_no }, 'channel create threw after submission may have happened');
    return { kind: 'unknown', reason: `channel ${order.channel} failed while submitting` };
  });
}

/**
 * Sends a created payout to its channel. Refused: FAILED (funds released).
 * No answer: EXCEPTION, funds stay frozen; money may have left, so only a
 * query or an operator may decide.
 */
export async function submitPayout(deps: PayoutDeps, order: OrderRow, by: 'create' | 'payout-recovery' = 'create'): Promise<OrderRow> {
  const result = await callCreate(deps, order);
  const actor = `channel:${order.channel}`;
  const to: OrderStatus = result.kind === 'accepted' ? 'PENDING' : result.kind === 'refused' ? 'FAILED' : 'EXCEPTION';
  // A submission by the recovery job is marked in the history: the channel got the order from it.
  const marked = by === 'create' ? undefined : { submittedBy: by };
  const outcome = await deps.commitTransition(
    order,
    result.kind === 'accepted'
      ? { to, cause: 'channel', actor, changes: { channel_ref: result.channelRef }, detail: marked }
      : { to, cause: 'channel', actor, changes: { message: result.reason }, detail: { channelAnswer: result.kind, ...marked } },
  );
  return outcome.order;
}

/** A verified upstream report about a payout; a resent report changes nothing. */
export async function applyPayoutEvent(deps: PayoutDeps, channelName: string, event: ChannelEvent): Promise<TransitionResult> {
  return deps.transact(async (tx) => {
    const order = await findOrderForUpdate(tx, event.orderNo);
    if (!order || order.direction !== 'payout' || order.channel !== channelName) throw notFound(`order ${event.orderNo} is not a ${channelName} payout`);
    checkChannelRef(order, event);
    if (!(await recordChannelEvent(tx, channelName, event.eventId, order.order_no, deps.clock.now()))) return { kind: 'noop', order };
    const to: OrderStatus = event.outcome;
    const changes = to === 'PAID' ? { paid_amount: order.amount, message: null } : to === 'FAILED' || to === 'EXCEPTION' ? { message: event.message ?? `${to.toLowerCase()} reported by ${channelName}` } : {};
    return transitionKnownOrder(tx, deps, order, { to, cause: 'channel', actor: `channel:${channelName}`, changes, detail: { eventId: event.eventId, outcome: event.outcome } });
  });
}

/** What the channel says about an order, within the deadline. */
export async function queryChannel(deps: PayoutDeps, order: OrderRow): Promise<ChannelQueryResult> {
  const channel = order.channel ? deps.channel(order.channel) : undefined;
  if (!channel) return { kind: 'unknown', reason: `channel ${order.channel} is not configured` };
  return withDeadline(
    deps.channelTimeoutMs,
    (deadline) => channel.query({ orderNo: order.order_no, channelRef: order.channel_ref, direction: order.direction as 'payin' | 'payout' }, deadline),
    (reason) => ({ kind: 'unknown' as const, reason }),
  ).catch((err: unknown): ChannelQueryResult => ({ kind: 'unknown', reason: String(err) }));
}
