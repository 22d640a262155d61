import { notFound } from '../../platform/errors.ts';
import { ok } from '../../platform/http/envelope.ts';
import type { App } from '../../platform/http/server.ts';
import { checkChannelEvent, type Channel, type ChannelEvent } from './channel.ts';

/** Applies a verified event to its order; returns what happened to it. */
export type DispatchEvent = (channelName: string, event: ChannelEvent) => Promise<{ kind: string }>;

/**
 * Verifies an upstream report with the channel's own rule, then applies it.
 * The same function serves the HTTP endpoint and the sandbox's own reports.
 */
export async function handleChannelCallback(
  deps: { channel: (name: string) => Channel | undefined; dispatch: DispatchEvent },
  channelName: string,
  raw: Buffer,
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Promise<{ orderNo: string; result: string }> {
  const channel = deps.channel(channelName);
  if (!channel) throw notFound(`no channel ${channelName}`);
  const event = checkChannelEvent(channel.parseCallback(raw, headers));
  const outcome = await deps.dispatch(channelName, event);
  return { orderNo: event.orderNo, result: outcome.kind };
}

/** `POST /channels/{name}/callback`: where upstream providers report outcomes. */
export function registerCallbackRoutes(app: App, deps: Parameters<typeof handleChannelCallback>[0]): void {
  app.post('/channels/:name/callback', async (request) => {
    const { name } = request.params as { name: string };
    const result = await handleChannelCallback(deps, name, request.rawBody ?? Buffer.alloc(0), request.headers);
    // Duplicates and stale reports are acknowledged too, so the provider stops resending them.
    return ok(result);
  });
}
