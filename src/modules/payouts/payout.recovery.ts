import type { OrderRow } from '../../platform/db/schema.ts';
import { findOrderForUpdate, transitionKnownOrder } from '../orders/order.service.ts';
import { queryChannel, submitPayout, type PayoutDeps } from './payout.service.ts';

/** How long a PENDING payout may go without news before the channel is asked. */
export const PENDING_RECHECK_MS = 60_000;

async function stale(deps: PayoutDeps, status: 'CREATED' | 'PENDING', olderThan: number, limit: number): Promise<OrderRow[]> {
  return deps.db
    .selectFrom('orders')
    .selectAll()
    .where('direction', '=', 'payout')
    .where('status', '=', status)
    // Always true of payouts; it lets the jobs' index give them in updated_at order.
    .where('expires_at', 'is', null)
    .where((eb) => eb.fn.coalesce('checked_at', 'updated_at'), '<=', BigInt(olderThan))
    .orderBy('updated_at')
    .limit(limit)
    .execute();
}

/** Moves the order to what the channel says, if it is still in the state we judged. */
async function adopt(deps: PayoutDeps, order: OrderRow, to: OrderRow['status'], note: string): Promise<boolean> {
  const result = await deps.transact(async (tx) => {
    const current = await findOrderForUpdate(tx, order.order_no);
    if (!current || current.status !== order.status || current.version !== order.version) return undefined;
    return transitionKnownOrder(tx, deps, current, {
      to: to as never,
      cause: 'channel',
      actor: 'system:payout-recovery',
      changes: to === 'PAID' ? { paid_amount: order.amount } : to === 'FAILED' || to === 'EXCEPTION' ? { message: note } : {},
      detail: { recovered: true, note },
    });
  });
  return result?.kind === 'applied';
}

/**
 * Finds payouts whose submission or outcome is unknown to us (a crash between
 * the commit and the channel call, or between the channel's answer and our
 * commit, or a lost callback) and asks the channel. A payout the channel never
 * got is submitted now; the submission is keyed by the order, so it is never
 * sent twice: a process that stalled in its own call for longer than the
 * channel's timeout may still be about to send it, and the channel must take the
 * second submission of an order number as the first (see Channel#create).
 * Safe to run in several processes.
 */
export async function recoverPayouts(deps: PayoutDeps, limit = 50): Promise<number> {
  const now = deps.clock.now();
  let changed = 0;
  const unsent = await stale(deps, 'CREATED', now - deps.channelTimeoutMs - 5000, limit);
  const quiet = await stale(deps, 'PENDING', now - PENDING_RECHECK_MS, limit);
  for (const order of [...unsent, ...quiet]) {
    const answer = await queryChannel(deps, order);
    if (answer.kind === 'absent' && order.status === 'CREATED') {
      await submitPayout(deps, order, 'payout-recovery');
      changed++;
    } else if (answer.kind === 'status' && answer.status !== order.status) {
      if (await adopt(deps, order, answer.status, `channel reports ${answer.status}`)) changed++;
    } else {
      // Nothing new: look again after another quiet period.
      await deps.db.updateTable('orders').set({ checked_at: now }).where('order_no', '=', order.order_no).execute();
    }
  }
  return changed;
}
