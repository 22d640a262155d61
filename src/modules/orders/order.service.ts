import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../platform/clock.ts';
import type { Db } from '../../platform/db/database.ts';
import type { Transact } from '../../platform/db/transactor.ts';
import type { NewOrderEventRow, OrderRow } from '../../platform/db/schema.ts';
import { notFound } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import { decideTransition, type Direction, type OrderStatus } from './order.ts';
import * as repo from './order.repository.ts';

export type Cause = 'create' | 'channel' | 'expiry' | 'operator' | 'sandbox' | 'cashier';

export interface Transition {
  to: OrderStatus;
  cause: Cause;
  /** Who or what: `channel:sandbox`, `system:expiry`, `cli:alice`, … */
  actor: string;
  changes?: repo.OrderChanges;
  detail?: Record<string, unknown>;
}

/**
 * What else a state change writes in its transaction (ledger postings, the
 * notification row). Injected by the composition root. `writes` tells, without
 * writing, whether `write` writes anything for a change (a test takes every
 * allowed transition to hold the two to each other).
 */
export interface OrderEffects {
  writes(before: OrderRow, after: OrderRow): boolean;
  write(tx: Db, before: OrderRow, after: OrderRow, change: Transition): Promise<void>;
}

export interface OrderDeps {
  clock: Clock;
  transact: Transact;
  log: FastifyBaseLogger;
  effects: OrderEffects;
}

export type TransitionResult =
  | { kind: 'applied'; order: OrderRow }
  | { kind: 'noop'; order: OrderRow }
  | { kind: 'refused'; order: OrderRow; reason: string };

/**
 * Moves an order to another state inside the caller's transaction: decided by
 * the pure state machine, recorded in the append-only history, with its
 * effects. A refused transition is logged and changes nothing; a repeated one
 * is a no-op.
 */
export async function transitionOrder(tx: Db, deps: OrderDeps, orderNo: string, t: Transition): Promise<TransitionResult> {
  const order = await repo.findOrderForUpdate(tx, orderNo);
  if (!order) throw notFound(`order ${orderNo} does not exist`);
  return transitionFrom(tx, deps, order, t, true);
}

/**
 * transitionOrder of an order as the caller last saw it (read or written
 * earlier, or locked in this transaction): decided on that row and applied
 * only if the row is still that version, which the update itself checks, so
 * the usual case needs no second read. If the row changed since, or the
 * decision is not to apply, it is decided again on the row read under lock.
 */
export async function transitionKnownOrder(tx: Db, deps: OrderDeps, known: OrderRow, t: Transition): Promise<TransitionResult> {
  return transitionFrom(tx, deps, known, t, false);
}

async function transitionFrom(tx: Db, deps: OrderDeps, order: OrderRow, t: Transition, locked: boolean): Promise<TransitionResult> {
  const orderNo = order.order_no;
  const from = order.status as OrderStatus;
  const decision = decideTransition(order.direction as Direction, from, t.to);
  if (decision.kind !== 'apply' && !locked) return transitionOrder(tx, deps, orderNo, t);
  if (decision.kind === 'noop') return { kind: 'noop', order };
  if (decision.kind === 'refuse') {
    deps.log.warn({ orderNo, from, to: t.to, cause: t.cause, actor: t.actor }, `transition refused: ${decision.reason}`);
    return { kind: 'refused', order, reason: decision.reason };
  }
  const now = deps.clock.now();
  const after = await repo.updateOrderWithEvent(tx, order, { ...t.changes, status: t.to }, now, changeEvent(order, t, now));
  if (!after) {
    // The row is locked (PostgreSQL) or the transaction exclusive (SQLite): a lost race here is a bug.
    if (locked) throw new Error(`order ${orderNo} changed under a lock`);
    return transitionOrder(tx, deps, orderNo, t);
  }
  await deps.effects.write(tx, order, after, t);
  return { kind: 'applied', order: after };
}

/** A transition decided on the row its caller last saw. */
export interface KnownTransition {
  order: OrderRow;
  t: Transition;
}

/**
 * Whether these transitions, each decided on the row its caller knows, all
 * apply, write no effects (no posting, no notification) and change the same
 * columns, each of a different order: then applyPlainTransitions writes them
 * together.
 */
export function plainTransitions(deps: Pick<OrderDeps, 'effects'>, items: readonly KnownTransition[]): boolean {
  const orders = new Set<string>();
  let columns: string | undefined;
  for (const { order, t } of items) {
    if (orders.has(order.order_no)) return false;
    orders.add(order.order_no);
    const decision = decideTransition(order.direction as Direction, order.status as OrderStatus, t.to);
    if (decision.kind !== 'apply' || deps.effects.writes(order, rowAfter(order, t))) return false;
    const changed = repo.changedColumnsKey({ ...t.changes, status: t.to });
    if (columns !== undefined && changed !== columns) return false;
    columns = changed;
  }
  return true;
}

/**
 * Plain transitions (see plainTransitions) written together: the orders and
 * their history entries, on PostgreSQL in one statement, atomic by itself,
 * which needs no transaction around it (on SQLite the caller's transaction
 * makes them one). For each, its new row, or undefined when its row changed
 * since its caller read it: transitionKnownOrder, in a transaction, then
 * decides again on the row as it is.
 */
export async function applyPlainTransitions(db: Db, deps: Pick<OrderDeps, 'clock'>, items: readonly KnownTransition[]): Promise<(OrderRow | undefined)[]> {
  const now = deps.clock.now();
  return repo.updateOrdersWithEvents(
    db,
    items.map(({ order, t }) => ({ order, changes: { ...t.changes, status: t.to }, event: changeEvent(order, t, now) })),
    now,
  );
}

/** A new order to write: its row as created, who created it, and the channel's answer when it was asked first. */
export interface NewOrder {
  row: OrderRow;
  actor: string;
  answered?: Transition;
}

/**
 * Writes new orders with their history, together (on PostgreSQL in one
 * statement); for each, the stored row, or undefined when its merchant
 * already had its merOrderNo (the unique constraint decides). An order with
 * `answered` (its channel was asked before it was written) is born in that
 * state: its history holds the creation and the answer, and the answer's
 * effects are written with it.
 */
export async function createOrders(tx: Db, deps: Pick<OrderDeps, 'effects'>, orders: readonly NewOrder[]): Promise<(OrderRow | undefined)[]> {
  const planned = orders.map(({ row, answered }) => (answered ? bornRow(row, answered) : row));
  const history: NewOrderEventRow[] = [];
  for (const { row, actor, answered } of orders) {
    const now = Number(row.created_at);
    history.push(creationEvent(row, actor, now));
    if (answered) history.push(changeEvent(row, answered, now));
  }
  const stored = new Map((await repo.insertOrdersWithHistory(tx, planned, history)).map((row) => [row.order_no, row]));
  const born = planned.map((row) => stored.get(row.order_no));
  for (const [i, { row, answered }] of orders.entries()) {
    if (born[i] && answered) await deps.effects.write(tx, row, born[i], answered);
  }
  return born;
}

/**
 * Whether these new orders are born without effects (no ledger posting, no
 * notification): then writing them writes only the orders and their history.
 */
export function bornWithoutEffects(deps: Pick<OrderDeps, 'effects'>, orders: readonly NewOrder[]): boolean {
  return orders.every(({ row, answered }) => !answered || !deps.effects.writes(row, bornRow(row, answered)));
}

/** The row of an order born in the state its channel answered. */
function bornRow(row: OrderRow, answered: Transition): OrderRow {
  const decision = decideTransition(row.direction as Direction, row.status as OrderStatus, answered.to);
  if (decision.kind !== 'apply') throw new Error(`a new ${row.direction} cannot become ${answered.to}: ${decision.kind}`);
  return rowAfter(row, answered);
}

/** An order's row after a transition, as its writes decide (the time it was written aside). */
function rowAfter(row: OrderRow, t: Transition): OrderRow {
  // A spread of a literal-built row keeps its hidden class (see orderFromValues); Object.assign would not.
  return { ...row, ...t.changes, status: t.to, version: row.version + 1n };
}

/** The orders of these references, each or undefined, in their order (committed state: outside any transaction). */
export async function findCommittedOrdersByRef(db: Db, refs: readonly repo.OrderRef[]): Promise<(OrderRow | undefined)[]> {
  const key = (merchantId: string, direction: string, merOrderNo: string) => `${merchantId}\u0000${direction}\u0000${merOrderNo}`;
  const found = new Map((await repo.findOrdersByRef(db, refs)).map((o) => [key(o.merchant_id, o.direction, o.mer_order_no), o]));
  return refs.map((ref) => found.get(key(ref.merchantId, ref.direction, ref.merOrderNo)));
}

/** The first history entry of an order, in its creating transaction. */
/**
 * The consumer's pick of a method on an order created without one, applied to the row as it was
 * read (version-checked, `updated_at` moving on as for every change): undefined when the order
 * changed since, a second tap's pick for one.
 */
export async function chooseMethod(db: Db, order: OrderRow, method: string, channel: string, now: number): Promise<OrderRow | undefined> {
  if (order.method !== null || order.status !== 'CREATED') return undefined;
  return repo.updateOrder(db, order, { method, channel }, now);
}

export async function recordCreation(tx: Db, now: number, order: OrderRow, actor: string): Promise<void> {
  await repo.insertOrderEvents(tx, [creationEvent(order, actor, now)]);
}

function creationEvent(order: OrderRow, actor: string, now: number): NewOrderEventRow {
  return { id: newId('ev_', now), order_no: order.order_no, seq: order.version, from_status: null, to_status: order.status, cause: 'create', actor, detail: null, created_at: now };
}

function changeEvent(before: OrderRow, t: Transition, now: number): NewOrderEventRow {
  return {
    id: newId('ev_', now),
    order_no: before.order_no,
    seq: before.version + 1n,
    from_status: before.status,
    to_status: t.to,
    cause: t.cause,
    actor: t.actor,
    detail: t.detail ? JSON.stringify(t.detail, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) : null,
    created_at: now,
  };
}

export type { OrderRef } from './order.repository.ts';
export { findOrder, findOrderByRef, findCommittedOrderByRef, findOrderForUpdate, markAcknowledged, recordChannelEvent, listOrderEvents, insertOrderIfAbsent, findExpiredPayins } from './order.repository.ts';
