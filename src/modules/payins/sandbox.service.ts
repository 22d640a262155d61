import { badRequest, notFound, unprocessable } from '../../platform/errors.ts';
import { settleInSandbox, type SandboxBank } from '../channels/sandbox/sandbox.bank.ts';
import { SANDBOX } from '../channels/sandbox/sandbox.channel.ts';
import { findOrder } from '../orders/order.service.ts';

const PAYIN_OUTCOMES = ['PAID', 'FAILED', 'EXCEPTION'] as const;
export type SandboxPayinOutcome = (typeof PAYIN_OUTCOMES)[number];

/** The sandbox bank settles a pay-in of the sandbox channel. */
export async function completeSandboxPayin(bank: SandboxBank, orderNo: string, outcome: SandboxPayinOutcome, paidAmount: bigint | null): Promise<void> {
  const order = await findOrder(bank.db, orderNo);
  if (!order || order.direction !== 'payin') throw notFound(`order ${orderNo} does not exist`);
  if (order.channel !== SANDBOX) throw unprocessable('only orders on the sandbox channel can be completed here; choose a payment method first');
  await settleInSandbox(bank, { orderNo, channelRef: order.channel_ref, direction: 'payin', amount: order.amount }, outcome, paidAmount);
}

export function parseSandboxOutcome(value: unknown): SandboxPayinOutcome {
  if (typeof value !== 'string' || !(PAYIN_OUTCOMES as readonly string[]).includes(value)) {
    throw badRequest('outcome: PAID, FAILED or EXCEPTION');
  }
  return value as SandboxPayinOutcome;
}
