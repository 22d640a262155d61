import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Clock } from '../../platform/clock.ts';
import type { Db } from '../../platform/db/database.ts';
import { principalOf } from '../../platform/http/auth.ts';
import { ok } from '../../platform/http/envelope.ts';
import type { App } from '../../platform/http/server.ts';
import { resendNotification } from './notify.service.ts';

type Guard = (request: FastifyRequest) => Promise<void>;

const ResendBody = Type.Object({ orderNo: Type.String({ minLength: 1, maxLength: 64 }) });

/** `POST /api/v3/notify/resend`: the merchant asks for its order's latest notification again. */
export function registerNotifyRoutes(app: App, deps: { db: Db; clock: Clock; v3Guard: Guard; wake: () => void }): void {
  app.post('/api/v3/notify/resend', { schema: { body: ResendBody }, preValidation: deps.v3Guard }, async (request) => {
    const row = await resendNotification(deps.db, deps.clock.now(), request.body.orderNo, principalOf(request).merchantId);
    deps.wake();
    return ok({ notificationId: row.id, orderNo: row.order_no, status: row.status, state: row.state });
  });
}
