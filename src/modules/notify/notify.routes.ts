import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Clock } from '../../platform/clock.ts';
import type { Db } from '../../platform/db/database.ts';
import { principalOf } from '../../platform/http/auth.ts';
import { ok } from '../../platform/http/envelope.ts';
import type { App } from '../../platform/http/server.ts';
import { resendNotification } from './notify.service.ts';

type Guard = (request: FastifyRequest) => Promise<void>;

const ResendBody = Type.Object({
  orderNo: Type.String({ minLength: 1, maxLength: 64 }),
  notificationId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
});

/** `POST /api/v3/notify/resend`: the merchant asks for one of its order's notifications again (the latest by default). */
export function registerNotifyRoutes(app: App, deps: { db: Db; clock: Clock; v3Guard: Guard; wake: () => void }): void {
  app.post('/api/v3/notify/resend', { schema: { body: ResendBody }, preValidation: deps.v3Guard }, async (request) => {
    const principal = principalOf(request);
    const row = await resendNotification(deps.db, deps.clock.now(), {
      orderNo: request.body.orderNo,
      notificationId: request.body.notificationId,
      merchantId: principal.merchantId,
      directions: principal.scopes,
      actor: `merchant:${principal.appId}`,
    });
    deps.wake();
    return ok({ notificationId: row.id, orderNo: row.order_no, status: row.status, state: row.state });
  });
}
