import ipaddr from 'ipaddr.js';
import type { Registry } from 'prom-client';
import { safeEqual } from '../constant-time.ts';
import { forbidden, unauthorized } from '../errors.ts';
import type { App } from './server.ts';

/**
 * `GET /metrics` in Prometheus format, for the operator only: with a
 * configured token, its bearer; without one, loopback clients only.
 */
export function registerMetricsRoutes(app: App, deps: { registry: Registry; token: string | undefined }): void {
  app.get('/metrics', async (request, reply) => {
    if (deps.token) {
      const given = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
      if (!safeEqual(given, deps.token)) throw unauthorized('metrics need the operator token');
    } else if (!ipaddr.isValid(request.ip) || ipaddr.process(request.ip).range() !== 'loopback') {
      throw forbidden('metrics are served to loopback clients unless PAGODA_METRICS_TOKEN is set');
    }
    return reply.type(deps.registry.contentType).send(await deps.registry.metrics());
  });
}
