import type { Db } from '../../../platform/db/database.ts';
import { AppError, unprocessable } from '../../../platform/errors.ts';
import { newId } from '../../../platform/ids.ts';
import type { Direction } from '../../orders/order.ts';
import type { ChannelEvent } from '../channel.ts';
import { SIGNATURE_HEADER, signSandboxReport, type SandboxReport } from './sandbox.channel.ts';

/** Delivers a report; `result` is what the gateway did with it (`applied`, `noop`, `refused`). */
export type ReportToGateway = (raw: Buffer, headers: Record<string, string>) => Promise<{ result: string }>;

/** The sandbox "bank": its own records, and the signed callbacks it sends. */
export interface SandboxBank {
  db: Db;
  now: () => number;
  key: Buffer;
  /** Delivers a signed report through the channel-callback path. */
  report: ReportToGateway;
  /** How long a sandbox payout takes to complete by itself. */
  payoutDelayMs: number;
}

export type SandboxOutcome = ChannelEvent['outcome'];

/** Magic payout amounts (minor units' last two digits) for merchants' tests: 13 fails, 14 is an exception. */
export function automaticPayoutOutcome(amount: bigint): SandboxOutcome {
  const suffix = amount % 100n;
  if (suffix === 13n) return 'FAILED';
  if (suffix === 14n) return 'EXCEPTION';
  return 'PAID';
}

/**
 * Whether the bank may report `outcome` after what it reported before. A bank
 * does not take back a final outcome: only a payout it paid can come back
 * REFUNDED; repeating the same outcome is a resend. PENDING and EXCEPTION
 * (no verdict yet) may be followed by anything.
 */
export function bankMayReport(previous: string | undefined, outcome: SandboxOutcome, direction: Direction): boolean {
  if (outcome === 'REFUNDED' && (direction !== 'payout' || (previous !== 'PAID' && previous !== 'REFUNDED'))) return false;
  if (previous === undefined || previous === 'PENDING' || previous === 'EXCEPTION' || previous === outcome) return true;
  return previous === 'PAID' && outcome === 'REFUNDED';
}

/**
 * The bank settles an order: it reports the outcome with a signed callback,
 * exactly as a real provider would, and records it once the gateway took it.
 * An outcome the bank cannot give, or the order's state machine refuses, is a
 * 422 that changes nothing.
 */
export async function settleInSandbox(
  bank: SandboxBank,
  order: { orderNo: string; channelRef: string | null; direction: Direction; amount: bigint },
  outcome: SandboxOutcome,
  paidAmount: bigint | null,
): Promise<void> {
  const previous = await bank.db.selectFrom('sandbox_bank').select('status').where('order_no', '=', order.orderNo).executeTakeFirst();
  if (!bankMayReport(previous?.status, outcome, order.direction)) {
    const paidOut = previous?.status === 'PAID' || previous?.status === 'REFUNDED';
    throw unprocessable(`outcome: the sandbox bank ${outcome === 'REFUNDED' && !paidOut ? 'never paid' : `already reported ${previous?.status} for`} this order`);
  }
  const now = bank.now();
  const report: SandboxReport = {
    orderNo: order.orderNo,
    channelRef: order.channelRef,
    outcome,
    // What arrived: on PAID the amount unless told otherwise; on a pay-in's EXCEPTION only if told.
    paidAmountMinor: outcome === 'PAID' ? String(paidAmount ?? order.amount) : outcome === 'EXCEPTION' && order.direction === 'payin' && paidAmount !== null ? String(paidAmount) : null,
    message: outcome === 'PAID' ? null : `sandbox bank reported ${outcome}`,
    eventId: newId('sbe_', now),
  };
  const raw = Buffer.from(JSON.stringify(report), 'utf8');
  const { result } = await bank.report(raw, { [SIGNATURE_HEADER]: signSandboxReport(bank.key, raw.toString('utf8')), 'content-type': 'application/json' });
  if (result === 'refused') throw unprocessable(`outcome: ${outcome} does not apply to this order in its current state (see its status)`);
  const row = {
    status: outcome,
    paid_amount: report.paidAmountMinor === null ? null : BigInt(report.paidAmountMinor),
    event_id: report.eventId,
    due_at: null,
    updated_at: now,
  };
  await bank.db
    .insertInto('sandbox_bank')
    .values({ order_no: order.orderNo, direction: order.direction, amount: order.amount, ...row })
    .onConflict((oc) => oc.column('order_no').doUpdateSet(row))
    .execute();
}

/** How long a process holds a due payout while the bank reports it. */
const CLAIM_MS = 30_000;

/** Payouts the bank accepted finish by themselves once their delay is over. */
export async function completeDueSandboxPayouts(bank: SandboxBank, limit = 100): Promise<number> {
  const due = await bank.db
    .selectFrom('sandbox_bank')
    .selectAll()
    .where('direction', '=', 'payout')
    .where('status', '=', 'PENDING')
    .where('due_at', '<=', BigInt(bank.now()))
    .limit(limit)
    .execute();
  for (const row of due) {
    // Claimed for a while, not for good: a process that stops before the bank
    // has reported (a crash, an error) leaves it due again when the claim ends.
    const claimed = await bank.db
      .updateTable('sandbox_bank')
      .set({ due_at: BigInt(bank.now() + CLAIM_MS), updated_at: bank.now() })
      .where('order_no', '=', row.order_no)
      .where('due_at', '=', row.due_at)
      .executeTakeFirst();
    // Another process took it.
    if (Number(claimed.numUpdatedRows) !== 1) continue;
    try {
      // Its record (due no more) is written once the gateway took the report.
      await settleInSandbox(bank, { orderNo: row.order_no, channelRef: `sbx_${row.order_no}`, direction: 'payout', amount: row.amount }, automaticPayoutOutcome(row.amount), null);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      // The order refuses the outcome (an operator settled it meanwhile): the bank stops trying.
      await bank.db.updateTable('sandbox_bank').set({ due_at: null, updated_at: bank.now() }).where('order_no', '=', row.order_no).execute();
    }
  }
  return due.length;
}
