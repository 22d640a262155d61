import { ok } from '../../platform/http/envelope.ts';
import type { App } from '../../platform/http/server.ts';
import { handleChannelCallback } from './callback.service.ts';

/** `POST /channels/{name}/callback`: where upstream providers report outcomes. */
export function registerCallbackRoutes(app: App, deps: Parameters<typeof handleChannelCallback>[0]): void {
  app.post('/channels/:name/callback', async (request) => {
    const { name } = request.params as { name: string };
    const result = await handleChannelCallback(deps, name, request.rawBody ?? Buffer.alloc(0), request.headers);
    // Duplicates and stale reports are acknowledged too, so the provider stops resending them.
    return ok(result);
  });
}
