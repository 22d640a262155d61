import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { principalOf } from '../../platform/http/auth.ts';
import { ok } from '../../platform/http/envelope.ts';
import type { App } from '../../platform/http/server.ts';
import { signedV2, v3Order } from '../orders/order.wire.ts';
import { createPayin, type PayinDeps } from './payin.service.ts';
import { findOwnedOrder, parseRef, QueryRef, V2QueryRef, type OrderRef } from '../orders/order.query.ts';
import type { CashierLink } from '../orders/cashier-link.ts';

type Guard = (request: FastifyRequest) => Promise<void>;

export interface PayinRouteDeps {
  payins: PayinDeps;
  cashierLink: CashierLink;
  v3Guard: Guard;
  v2Guard: Guard;
}

// Field rules live in the service (one set for both generations); the schema only insists on an object.
const CreateBody = Type.Object({});

export function registerPayinRoutes(app: App, deps: PayinRouteDeps): void {
  const { payins, cashierLink } = deps;
  const v3Query = async (request: FastifyRequest, input: OrderRef | undefined) =>
    ok(v3Order(await findOwnedOrder(payins.db, principalOf(request).merchantId, 'payin', parseRef(input)), cashierLink));

  app.post('/api/v3/payment/create', { schema: { body: CreateBody }, preValidation: deps.v3Guard }, async (request) => {
    const principal = principalOf(request);
    const order = await createPayin(payins, principal, request.body as Record<string, unknown>);
    return ok(v3Order(order, cashierLink));
  });
  app.post('/api/v3/payment/query', { schema: { body: QueryRef }, preValidation: deps.v3Guard }, (request) => v3Query(request, request.body));
  app.get('/api/v3/payment/query', { schema: { querystring: QueryRef }, preValidation: deps.v3Guard }, (request) => v3Query(request, request.query));

  app.post('/api/v2/payment/order/create', { schema: { body: CreateBody }, preValidation: deps.v2Guard }, async (request) => {
    const principal = principalOf(request);
    const order = await createPayin(payins, principal, request.body as Record<string, unknown>);
    return ok(signedV2(order, cashierLink, principal.signingSecret));
  });
  app.get('/api/v2/payment/order/query', { schema: { querystring: V2QueryRef }, preValidation: deps.v2Guard }, async (request) => {
    const principal = principalOf(request);
    const order = await findOwnedOrder(payins.db, principal.merchantId, 'payin', parseRef(request.query));
    return ok(signedV2(order, cashierLink, principal.signingSecret));
  });
}
