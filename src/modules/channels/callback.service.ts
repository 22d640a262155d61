import { notFound } from '../../platform/errors.ts';
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
