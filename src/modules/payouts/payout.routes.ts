import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { badRequest, notFound, unprocessable } from '../../platform/errors.ts';
import { principalOf } from '../../platform/http/auth.ts';
import { ok } from '../../platform/http/envelope.ts';
import type { App } from '../../platform/http/server.ts';
import { settleInSandbox, type SandboxBank, type SandboxOutcome } from '../channels/sandbox/sandbox.bank.ts';
import { SANDBOX } from '../channels/sandbox/sandbox.channel.ts';
import { findOrder } from '../orders/order.service.ts';
import { signedV2, v3Order } from '../orders/order.wire.ts';
import { createPayout, type PayoutDeps } from './payout.service.ts';
import { findOwnedOrder, parseRef, QueryRef, V2QueryRef, type OrderRef } from '../orders/order.query.ts';
import type { CashierLink } from '../orders/cashier-link.ts';

type Guard = (request: FastifyRequest) => Promise<void>;

const CreateBody = Type.Object({});
const PAYOUT_OUTCOMES: readonly SandboxOutcome[] = ['PAID', 'FAILED', 'EXCEPTION', 'REFUNDED'];

export function registerPayoutRoutes(app: App, deps: { payouts: PayoutDeps; cashierLink: CashierLink; v3Guard: Guard; v2Guard: Guard; bank: SandboxBank }): void {
  const { payouts, cashierLink } = deps;
  const v3Query = async (request: FastifyRequest, input: OrderRef | undefined) =>
    ok(v3Order(await findOwnedOrder(payouts.db, principalOf(request).merchantId, 'payout', parseRef(input)), cashierLink));

  app.post('/api/v3/payout/create', { schema: { body: CreateBody }, preValidation: deps.v3Guard }, async (request) =>
    ok(v3Order(await createPayout(payouts, principalOf(request), request.body as Record<string, unknown>), cashierLink)),
  );
  app.post('/api/v3/payout/query', { schema: { body: QueryRef }, preValidation: deps.v3Guard }, (request) => v3Query(request, request.body));
  app.get('/api/v3/payout/query', { schema: { querystring: QueryRef }, preValidation: deps.v3Guard }, (request) => v3Query(request, request.query));

  app.post('/api/v2/payout/order/create', { schema: { body: CreateBody }, preValidation: deps.v2Guard }, async (request) => {
    const principal = principalOf(request);
    return ok(signedV2(await createPayout(payouts, principal, request.body as Record<string, unknown>), cashierLink, principal.signingSecret));
  });
  app.get('/api/v2/payout/order/query', { schema: { querystring: V2QueryRef }, preValidation: deps.v2Guard }, async (request) => {
    const principal = principalOf(request);
    return ok(signedV2(await findOwnedOrder(payouts.db, principal.merchantId, 'payout', parseRef(request.query)), cashierLink, principal.signingSecret));
  });

  // The sandbox bank settles a payout now instead of after its delay.
  app.post('/sandbox/v1/payouts/:orderNo/complete', { schema: { body: Type.Object({ outcome: Type.String({ maxLength: 16 }) }) }, preValidation: deps.v3Guard }, async (request) => {
    const { orderNo } = request.params as { orderNo: string };
    const order = await findOrder(payouts.db, orderNo);
    if (!order || order.merchant_id !== principalOf(request).merchantId || order.direction !== 'payout') throw notFound('order not found');
    if (order.channel !== SANDBOX) throw unprocessable('only payouts on the sandbox channel can be completed here');
    const outcome = request.body.outcome as SandboxOutcome;
    if (!PAYOUT_OUTCOMES.includes(outcome)) throw badRequest('outcome: PAID, FAILED, EXCEPTION or REFUNDED');
    await settleInSandbox(deps.bank, { orderNo, channelRef: order.channel_ref, direction: 'payout', amount: order.amount }, outcome, null);
    return ok(v3Order((await findOrder(payouts.db, orderNo))!, cashierLink));
  });
}
