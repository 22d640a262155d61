import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { OrderRow } from '../../platform/db/schema.ts';
import { badRequest } from '../../platform/errors.ts';
import { principalOf, type Principal } from '../../platform/http/auth.ts';
import { ok } from '../../platform/http/envelope.ts';
import type { App } from '../../platform/http/server.ts';
import { signParams } from '../../platform/sign.ts';
import { v2Order, v3Order } from '../orders/order.wire.ts';
import { createPayin, queryPayin, type PayinDeps } from './payin.service.ts';

type Guard = (request: FastifyRequest) => Promise<void>;

export interface PayinRouteDeps {
  payins: PayinDeps;
  publicUrl: string;
  v3Guard: Guard;
  v2Guard: Guard;
}

const QueryRef = Type.Object({
  orderNo: Type.Optional(Type.String({ maxLength: 64 })),
  merOrderNo: Type.Optional(Type.String({ maxLength: 64 })),
});
const V2QueryRef = Type.Object({
  appId: Type.String({ maxLength: 64 }),
  sign: Type.String({ maxLength: 128 }),
  orderNo: Type.Optional(Type.String({ maxLength: 64 })),
  merOrderNo: Type.Optional(Type.String({ maxLength: 64 })),
});
// Field rules live in the service (one set for both generations); the schema only insists on an object.
const CreateBody = Type.Object({});

function ref(input: { orderNo?: string; merOrderNo?: string } | undefined): { orderNo?: string; merOrderNo?: string } {
  const orderNo = input?.orderNo || undefined;
  const merOrderNo = input?.merOrderNo || undefined;
  if (!orderNo && !merOrderNo) throw badRequest('orderNo or merOrderNo: one is required');
  return { orderNo, merOrderNo };
}

export function signedV2(order: OrderRow, publicUrl: string, principal: Principal) {
  const data = v2Order(order, publicUrl);
  return { ...data, sign: signParams(data, principal.signingSecret) };
}

export function registerPayinRoutes(app: App, deps: PayinRouteDeps): void {
  const { payins, publicUrl } = deps;
  const v3Query = async (request: FastifyRequest, input: { orderNo?: string; merOrderNo?: string } | undefined) => {
    const order = await queryPayin(payins, principalOf(request).merchantId, ref(input));
    return ok(v3Order(order, publicUrl));
  };

  app.post('/api/v3/payment/create', { schema: { body: CreateBody }, preValidation: deps.v3Guard }, async (request) => {
    const principal = principalOf(request);
    const order = await createPayin(payins, principal, request.body as Record<string, unknown>);
    return ok(v3Order(order, publicUrl));
  });
  app.post('/api/v3/payment/query', { schema: { body: QueryRef }, preValidation: deps.v3Guard }, (request) => v3Query(request, request.body));
  app.get('/api/v3/payment/query', { schema: { querystring: QueryRef }, preValidation: deps.v3Guard }, (request) => v3Query(request, request.query));

  app.post('/api/v2/payment/order/create', { schema: { body: CreateBody }, preValidation: deps.v2Guard }, async (request) => {
    const principal = principalOf(request);
    const order = await createPayin(payins, principal, request.body as Record<string, unknown>);
    return ok(signedV2(order, publicUrl, principal));
  });
  app.get('/api/v2/payment/order/query', { schema: { querystring: V2QueryRef }, preValidation: deps.v2Guard }, async (request) => {
    const principal = principalOf(request);
    const order = await queryPayin(payins, principal.merchantId, ref(request.query));
    return ok(signedV2(order, publicUrl, principal));
  });
}
