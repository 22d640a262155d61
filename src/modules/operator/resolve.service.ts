import type { OrderRow } from '../../platform/db/schema.ts';
import { badRequest, conflict, notFound, unprocessable } from '../../platform/errors.ts';
import { formatMajor, parseMajorText } from '../../platform/money.ts';
import { recordAudit } from '../audit/audit.service.ts';
import { methodSettings } from '../channels/method-settings.ts';
import { computeFee } from '../orders/fee.ts';
import { decideTransition, type Direction, type OrderStatus } from '../orders/order.ts';
import { findOrder, findOrderForUpdate, transitionOrder, type TransitionResult } from '../orders/order.service.ts';
import { queryChannel, type PayoutDeps } from '../payouts/payout.service.ts';

export type Resolution = 'PAID' | 'FAILED' | 'REFUNDED';

export interface ResolveRequest {
  orderNo: string;
  to: Resolution;
  reason: string;
  actor: string;
  /** Resolve against what the channel reports. */
  force?: boolean;
  /** A pay-in resolved to PAID: what arrived, in major units (default: what the channel reported, else the amount). */
  paidAmount?: string;
}

const FINAL: readonly OrderStatus[] = ['PAID', 'FAILED', 'REFUNDED'];

/**
 * What an operator may settle: an EXCEPTION, or a PAID order to REFUNDED.
 * Orders still in flight (CREATED, PENDING) belong to their channel: settling
 * one by hand could pay out or credit money twice.
 */
function checkResolvable(order: OrderRow, to: Resolution): void {
  const from = order.status as OrderStatus;
  const settles = from === 'EXCEPTION' || (from === 'PAID' && to === 'REFUNDED');
  if (!settles) throw unprocessable(`a ${order.direction} in ${from} is not for an operator to settle; only EXCEPTION orders, or PAID ones to REFUNDED`);
  const decision = decideTransition(order.direction as Direction, from, to);
  if (decision.kind === 'refuse') throw unprocessable(decision.reason);
}

/**
 * What the channel says now, as a final status if it has one. A channel that
 * never received the order moved no money for it: as good as FAILED.
 */
async function channelVerdict(deps: PayoutDeps, order: OrderRow): Promise<{ status: OrderStatus | null; said: string }> {
  const answer = await queryChannel(deps, order);
  if (answer.kind === 'status') return { status: FINAL.includes(answer.status) ? answer.status : null, said: answer.status };
  if (answer.kind === 'absent') return { status: 'FAILED', said: 'never received the order' };
  return { status: null, said: `no answer (${answer.reason})` };
}

/**
 * Whether resolving to `to` agrees with the channel's final status. A pay-in's
 * refund follows its payment (the operator sends the money back); a payout is
 * REFUNDED only when its bank says it returned the money.
 */
function agrees(direction: string, channel: OrderStatus, to: Resolution): boolean {
  return channel === to || (direction === 'payin' && channel === 'PAID' && to === 'REFUNDED');
}

/** The channel is asked before settling an EXCEPTION, and before crediting back a payout it paid. */
function asksChannel(order: OrderRow, to: Resolution): boolean {
  return order.status === 'EXCEPTION' || (order.direction === 'payout' && to === 'REFUNDED');
}

/**
 * An order already where the operator asks it to go: a repeat changes nothing,
 * but a repeat that names another paid amount is a mistake the operator must hear of.
 */
function alreadyThere(order: OrderRow, paid: bigint | undefined): OrderRow {
  if (paid !== undefined && order.paid_amount !== paid) {
    throw conflict(`order ${order.order_no} is already PAID with ${formatMajor(order.paid_amount ?? order.amount, order.currency)} ${order.currency} paid; it stays so`);
  }
  return order;
}

/**
 * An operator settles an order: an EXCEPTION (after asking the channel again)
 * to PAID, FAILED or REFUNDED, or a PAID pay-in to REFUNDED. The state change,
 * its ledger entry, its notification and the audit entry commit together; a
 * second identical request finds the order already there and changes nothing.
 */
export async function resolveOrder(deps: PayoutDeps, req: ResolveRequest): Promise<{ result: TransitionResult; channel: string }> {
  const order = await findOrder(deps.db, req.orderNo);
  if (!order) throw notFound(`order ${req.orderNo} does not exist`);
  if (req.paidAmount !== undefined && (order.direction !== 'payin' || req.to !== 'PAID')) {
    throw badRequest('paid-amount: only for a pay-in resolved to PAID');
  }
  const paid = req.paidAmount === undefined ? undefined : parseMajorText(req.paidAmount, order.currency, { field: 'paid-amount' });
  if (order.status === req.to) return { result: { kind: 'noop', order: alreadyThere(order, paid) }, channel: 'not asked' };
  checkResolvable(order, req.to);
  // The channel is asked outside the transaction; the order must not change meanwhile.
  const verdict = asksChannel(order, req.to) ? await channelVerdict(deps, order) : { status: null, said: 'not asked' };
  const claim = verdict.said === verdict.status ? `reports ${verdict.status}` : verdict.said;
  if (verdict.status && !agrees(order.direction, verdict.status, req.to) && !req.force) {
    const instead = verdict.status === order.status ? 'it stays as it is' : `resolve to ${verdict.status}`;
    throw conflict(`the channel ${claim}; ${instead}, or pass --force to override it`);
  }
  // Crediting a payout back on the operator's word alone needs the operator to say so.
  if (!verdict.status && order.direction === 'payout' && req.to === 'REFUNDED' && !req.force) {
    throw conflict(`the channel ${claim}; a paid payout is REFUNDED when its bank reports the money returned, or pass --force to override it`);
  }
  const result = await deps.transact(async (tx) => {
    const current = (await findOrderForUpdate(tx, req.orderNo))!;
    if (current.status === req.to) return { kind: 'noop' as const, order: alreadyThere(current, paid) };
    if (current.version !== order.version) throw conflict(`order ${req.orderNo} changed while the channel was asked; look again`);
    const changes = await resolutionChanges(tx, current, req.to, paid);
    const outcome = await transitionOrder(tx, deps, req.orderNo, {
      to: req.to,
      cause: 'operator',
      actor: req.actor,
      changes,
      detail: { reason: req.reason, channel: verdict.said, ...(paid !== undefined ? { paidAmount: formatMajor(paid, current.currency) } : {}) },
    });
    if (outcome.kind === 'applied') {
      await recordAudit(tx, deps.clock.now(), { actor: req.actor, action: `order.resolve.${req.to.toLowerCase()}`, subject: req.orderNo, reason: req.reason, detail: { from: current.status, channel: verdict.said } });
    }
    return outcome;
  });
  return { result, channel: verdict.said };
}

async function resolutionChanges(tx: PayoutDeps['db'], order: OrderRow, to: Resolution, given: bigint | undefined) {
  if (to !== 'PAID' || order.status !== 'EXCEPTION') return {};
  if (order.direction === 'payout') return { paid_amount: order.amount, message: null };
  // A pay-in resolved as paid is credited with what arrived (as the operator found, as the channel said, or the amount), less its fee.
  const paid = given ?? order.paid_amount ?? order.amount;
  const settings = await methodSettings(tx, order.merchant_id, 'payin', order.method!);
  return { paid_amount: paid, fee: computeFee(paid, settings.fee), message: null };
}
