import type { FastifyBaseLogger } from 'fastify';
import type { Core } from './core.ts';
import type { Channel } from './modules/channels/channel.ts';
import { handleChannelCallback, type DispatchEvent } from './modules/channels/callback.routes.ts';
import { createSandboxChannel, SANDBOX } from './modules/channels/sandbox/sandbox.channel.ts';
import { enqueueOrderNotification } from './modules/notify/notify.service.ts';
import type { OrderEffects } from './modules/orders/order.service.ts';
import { applyPayinEvent, type PayinDeps } from './modules/payins/payin.service.ts';
import type { SandboxBank } from './modules/channels/sandbox/sandbox.bank.ts';

/** The modules' collaborators, wired once per process from the core. */
export interface Services {
  payins: PayinDeps;
  channel: (name: string) => Channel | undefined;
  dispatch: DispatchEvent;
  sandbox: SandboxBank;
}

/** Channels this build can route to. */
export const CHANNEL_NAMES: readonly string[] = [SANDBOX];

export function buildServices(core: Core, log: FastifyBaseLogger): Services {
  const { db, clock, config, box, transact } = core;
  const sandboxKey = box.derive('channel:sandbox');
  const channels = new Map<string, Channel>([[SANDBOX, createSandboxChannel({ db, key: sandboxKey, now: () => clock.now(), payoutDelayMs: config.sandboxPayoutDelayMs })]]);
  const channel = (name: string) => channels.get(name);

  // Everything a state change writes besides the order itself, in its transaction.
  const effects: OrderEffects = async (tx, _before, after) => {
    await enqueueOrderNotification(tx, clock.now(), config.publicUrl, after);
  };

  const payins: PayinDeps = {
    db,
    transact,
    clock,
    log,
    effects,
    orderTtlMs: config.orderTtlMs,
    requireHttpsNotify: config.notifyRequireHttps,
    channelTimeoutMs: config.channelTimeoutMs,
    channel,
  };
  const dispatch: DispatchEvent = (channelName, event) => applyPayinEvent(payins, channelName, event);
  const sandbox: SandboxBank = {
    db,
    now: () => clock.now(),
    key: sandboxKey,
    payoutDelayMs: config.sandboxPayoutDelayMs,
    report: (raw, headers) => handleChannelCallback({ channel, dispatch }, SANDBOX, raw, headers),
  };
  return { payins, channel, dispatch, sandbox };
}
