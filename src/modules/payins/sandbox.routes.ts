import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { badRequest, notFound, unprocessable } from '../../platform/errors.ts';
import { principalOf } from '../../platform/http/auth.ts';
import { ok } from '../../platform/http/envelope.ts';
import type { App } from '../../platform/http/server.ts';
import { rawNumberText } from '../../platform/json.ts';
import { parseAmount } from '../../platform/money.ts';
import { settleInSandbox, type SandboxBank } from '../channels/sandbox/sandbox.bank.ts';
import { SANDBOX } from '../channels/sandbox/sandbox.channel.ts';
import { findOrder } from '../orders/order.service.ts';
import { v3Order } from '../orders/order.wire.ts';
import type { CashierLink } from '../orders/cashier-link.ts';

type Guard = (request: FastifyRequest) => Promise<void>;
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

const CompleteBody = Type.Object({ outcome: Type.String({ maxLength: 16 }) });

/** `POST /sandbox/v1/payins/{orderNo}/complete`, for the merchant that owns the order. */
export function registerSandboxPayinRoutes(app: App, deps: SandboxBank & { v3Guard: Guard; cashierLink: CashierLink }): void {
  app.post('/sandbox/v1/payins/:orderNo/complete', { schema: { body: CompleteBody }, preValidation: deps.v3Guard }, async (request) => {
    const { orderNo } = request.params as { orderNo: string };
    const merchantId = principalOf(request).merchantId;
    const order = await findOrder(deps.db, orderNo);
    if (!order || order.merchant_id !== merchantId || order.direction !== 'payin') throw notFound('order not found');
    const body = request.body as Record<string, unknown>;
    const outcome = parseSandboxOutcome(body.outcome);
    const paid = body.paidAmount === undefined || body.paidAmount === null
      ? null
      : parseAmount(body.paidAmount, rawNumberText(body, 'paidAmount'), order.currency, { field: 'paidAmount', maxDecimals: 2 });
    await completeSandboxPayin(deps, orderNo, outcome, paid);
    return ok(v3Order((await findOrder(deps.db, orderNo))!, deps.cashierLink));
  });
}
