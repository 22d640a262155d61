import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { notFound } from '../../platform/errors.ts';
import { principalOf } from '../../platform/http/auth.ts';
import { ok } from '../../platform/http/envelope.ts';
import type { App } from '../../platform/http/server.ts';
import { rawNumberText } from '../../platform/json.ts';
import { parseAmount } from '../../platform/money.ts';
import type { SandboxBank } from '../channels/sandbox/sandbox.bank.ts';
import { findOrder } from '../orders/order.service.ts';
import { v3Order } from '../orders/order.wire.ts';
import type { CashierLink } from '../orders/cashier-link.ts';
import { completeSandboxPayin, parseSandboxOutcome } from './sandbox.service.ts';

type Guard = (request: FastifyRequest) => Promise<void>;
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
