import type { FastifyBaseLogger } from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Core } from './core.ts';
import type { Channel, ChannelEvent } from './modules/channels/channel.ts';
import { handleChannelCallback, type DispatchEvent } from './modules/channels/callback.service.ts';
import type { SandboxBank } from './modules/channels/sandbox/sandbox.bank.ts';
import { createSandboxChannel, SANDBOX } from './modules/channels/sandbox/sandbox.channel.ts';
import { orderChangeEvent } from './modules/ledger/ledger.orders.ts';
import { postOrderChange } from './modules/ledger/ledger.service.ts';
import { loadSigningApp, merchantCurrencies } from './modules/merchants/merchant.service.ts';
import { methodSettings } from './modules/channels/method-settings.ts';
import { isNotifiable, type Direction, type OrderStatus } from './modules/orders/order.ts';
import { registerNotifyMetrics } from './modules/notify/notify.metrics.ts';
import { enqueueOrderNotification } from './modules/notify/notify.service.ts';
import type { NotifyWorkerDeps } from './modules/notify/notify.worker.ts';
import { createSender } from './modules/notify/sender.ts';
import {
  applyPlainTransitions,
  bornWithoutEffects,
  createOrders,
  findCommittedOrderByRef,
  findCommittedOrdersByRef,
  findOrder,
  plainTransitions,
  transitionKnownOrder,
  type KnownTransition,
  type NewOrder,
  type OrderDeps,
  type OrderEffects,
  type OrderRef,
  type TransitionResult,
} from './modules/orders/order.service.ts';
import type { OrderRow } from './platform/db/schema.ts';
import { applyPayinEvent, type CreateDeps, type PayinDeps } from './modules/payins/payin.service.ts';
import { applyPayoutEvent, writeNewPayouts, type NewPayout, type PayoutDeps } from './modules/payouts/payout.service.ts';
import { createBatcher } from './platform/batcher.ts';
import { dialectOf, type Db } from './platform/db/database.ts';
import { ttlCache } from './platform/ttl-cache.ts';
import { CASHIER_LINK_PURPOSE, cashierLinks, type CashierLink } from './modules/orders/cashier-link.ts';

/** Channels this build can route to. */
export const CHANNEL_NAMES: readonly string[] = [SANDBOX];

/** The modules' collaborators, wired once per process from the core. */
export interface Services {
  payins: PayinDeps;
  payouts: PayoutDeps;
  channel: (name: string) => Channel | undefined;
  dispatch: DispatchEvent;
  sandbox: SandboxBank;
  notify: NotifyWorkerDeps;
  /** Set by the worker role; called when a commit made a notification due. */
  wakeNotifier: { wake: () => void };
  registry: Registry;
  /** The address of a pay-in's cashier page, with its key. */
  cashierLink: CashierLink;
  close(): Promise<void>;
}

/**
 * Everything a state change writes besides the order and its history, in its
 * transaction: the ledger's postings and the merchant's notification.
 * `enqueued` is called after the turn in which a notification was written.
 */
export function orderEffects(deps: { now: () => number; cashierLink: CashierLink; enqueued: () => void }): OrderEffects {
  const writes = (before: OrderRow, after: OrderRow) => orderChangeEvent(before, after) !== null || isNotifiable(after.status as OrderStatus);
  return {
    writes,
    async write(tx, before, after, change) {
      await postOrderChange(tx, before, after, change.actor);
      const id = await enqueueOrderNotification(tx, deps.now(), deps.cashierLink, after);
      // Runs after this turn: on SQLite the worker's claim queues behind the commit on the one connection.
      if (id) setImmediate(deps.enqueued);
    },
  };
}

export function buildServices(core: Core, log: FastifyBaseLogger): Services {
  const { db, clock, config, box, transact } = core;
  const sandboxKey = box.derive('channel:sandbox');
  const now = () => clock.now();
  const channels = new Map<string, Channel>([[SANDBOX, createSandboxChannel({ db, transact, key: sandboxKey, now, payoutDelayMs: config.sandboxPayoutDelayMs })]]);
  const channel = (name: string) => channels.get(name);

  const wakeNotifier = { wake: (): void => undefined };
  const cashierLink = cashierLinks(config.publicUrl, box.derive(CASHIER_LINK_PURPOSE));
  const effects = orderEffects({ now, cashierLink, enqueued: () => wakeNotifier.wake() });

  // What a create reads of its merchant and method; an operator's change reaches every process within the TTL, as for apps.
  const cached = { ttlMs: config.appCacheTtlMs, now };
  const merchantOf = ttlCache((merchantId) => merchantCurrencies(db, merchantId, { committed: true }), cached);
  const settings = ttlCache((key) => {
    const [merchantId, direction, method] = key.split('\u0000') as [string, Direction, string];
    return methodSettings(db, merchantId, direction, method, { committed: true });
  }, cached);
  const settingsOf = (merchantId: string, direction: Direction, method: string) => settings(`${merchantId}\u0000${direction}\u0000${method}`);

  // On PostgreSQL a round trip costs more than the rows: the work of concurrent
  // requests is batched below. SQLite's transactor already shares one commit
  // among them, and a batch would only add a turn.
  const batched = dialectOf(db) === 'postgres';
  // Is this create a retry? On PostgreSQL the lookups of concurrent creates share one statement; SQLite reads on its own connection at once.
  const knownOrder = batched
    ? createBatcher((refs: OrderRef[]) => findCommittedOrdersByRef(db, refs), { maxBatch: 100 })
    : (ref: OrderRef) => findCommittedOrderByRef(db, ref.merchantId, ref.direction, ref.merOrderNo);

  const orderDeps: OrderDeps = { transact, clock, log, effects };
  // A channel's answer applied to the order it was asked about. On PostgreSQL
  // the answers of concurrent calls are written together: when none has
  // effects (a payout the channel accepted becomes PENDING) as one statement,
  // atomic and durable by itself, with any order whose row changed meanwhile
  // decided again in its own transaction; otherwise in one transaction.
  const transitionEach = async (tx: Db, batch: readonly KnownTransition[]) => {
    const results: TransitionResult[] = [];
    for (const { order, t } of batch) results.push(await transitionKnownOrder(tx, orderDeps, order, t));
    return results;
  };
  const transitions = batched
    ? createBatcher(
        async (batch: KnownTransition[]) => {
          if (!plainTransitions(orderDeps, batch)) return transact((tx) => transitionEach(tx, batch));
          const written = await applyPlainTransitions(db, orderDeps, batch);
          return Promise.all(
            batch.map(({ order, t }, i): Promise<TransitionResult> | TransitionResult => {
              const after = written[i];
              return after ? { kind: 'applied', order: after } : transact((tx) => transitionKnownOrder(tx, orderDeps, order, t));
            }),
          );
        },
        { maxBatch: 100 },
      )
    : ({ order, t }: KnownTransition) => transact((tx) => transitionKnownOrder(tx, orderDeps, order, t));
  const created: CreateDeps = {
    ...orderDeps,
    db,
    knownOrder,
    merchantOf,
    settingsOf,
    requireHttpsNotify: config.notifyRequireHttps,
    channelTimeoutMs: config.channelTimeoutMs,
    channel,
    commitTransition: (order, t) => transitions({ order, t }),
  };
  // On PostgreSQL the new orders of concurrent creates are written together:
  // for pay-ins one statement for the orders and their history, atomic and
  // durable by itself when they are born without effects (PENDING), so it
  // needs no BEGIN and COMMIT round trips; in a transaction with their effects
  // otherwise. For payouts that statement and two for their freezes, in one
  // transaction (a batch that one balance cannot cover is written again one
  // by one, so only that payout is refused).
  const newOrder = batched
    ? createBatcher(
        (batch: NewOrder[]) => (bornWithoutEffects(orderDeps, batch) ? createOrders(db, orderDeps, batch) : transact((tx) => createOrders(tx, orderDeps, batch))),
        { maxBatch: 100 },
      )
    : async (order: NewOrder) => (await transact((tx) => createOrders(tx, orderDeps, [order])))[0];
  const newPayout = batched
    ? createBatcher((batch: NewPayout[]) => transact((tx) => writeNewPayouts(tx, orderDeps, batch)), { maxBatch: 100 })
    : async (payout: NewPayout) => (await transact((tx) => writeNewPayouts(tx, orderDeps, [payout])))[0];
  const payouts: PayoutDeps = { ...created, newPayout };
  const payins: PayinDeps = { ...created, orderTtlMs: config.orderTtlMs, newOrder };
  const dispatch: DispatchEvent = async (channelName: string, event: ChannelEvent) => {
    const order = await findOrder(db, event.orderNo);
    return order?.direction === 'payout' ? applyPayoutEvent(payouts, channelName, event) : applyPayinEvent(payins, channelName, event);
  };
  const sandbox: SandboxBank = {
    db,
    now,
    key: sandboxKey,
    payoutDelayMs: config.sandboxPayoutDelayMs,
    report: (raw, headers) => handleChannelCallback({ channel, dispatch }, SANDBOX, raw, headers),
  };

  const registry = new Registry();
  // The process's own: memory, CPU, open file descriptors, event-loop delay, garbage collection.
  collectDefaultMetrics({ register: registry });
  const metrics = registerNotifyMetrics(registry, { db, clock });
  const sender = createSender({ allowHosts: config.notifyAllowHosts, timeoutMs: config.notifyTimeoutMs });
  const notify: NotifyWorkerDeps = {
    db,
    transact,
    clock,
    log,
    schedule: config.notifySchedule,
    timeoutMs: config.notifyTimeoutMs,
    send: (req) => sender.send(req),
    // Cached like the API's apps: a rotated or revoked secret is picked up within the TTL.
    loadApp: ttlCache((appId) => loadSigningApp(db, box, clock.now(), appId), { ttlMs: config.appCacheTtlMs, now }),
    observe: metrics.observe,
  };
  return { payins, payouts, channel, dispatch, sandbox, notify, wakeNotifier, registry, cashierLink, close: () => sender.close() };
}
