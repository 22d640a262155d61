import { sql } from 'kysely';
import { committedRead, dialectOf, type Db } from '../../platform/db/database.ts';
import { columnsOf, rowsStatement, sqlStatement, unnestOf, type PgType, type Statement } from '../../platform/db/statement.ts';
import type { NewOrderEventRow, NewOrderRow, OrderRow } from '../../platform/db/schema.ts';

const ORDER_COLUMNS = [
  'order_no', 'direction', 'merchant_id', 'app_id', 'generation', 'mer_order_no', 'request_hash', 'currency', 'amount', 'paid_amount', 'fee',
  'method', 'channel', 'channel_ref', 'status', 'acknowledged', 'attach', 'notify_url', 'return_url', 'extra', 'params', 'message',
  'expires_at', 'checked_at', 'created_at', 'updated_at', 'version',
] as const satisfies readonly (keyof OrderRow)[];
/** Fails to compile when `orders` gains a column that ORDER_COLUMNS (and orderFromValues) do not list. */
const EVERY_COLUMN_LISTED: [Exclude<keyof OrderRow, (typeof ORDER_COLUMNS)[number]>] extends [never] ? true : never = true;
void EVERY_COLUMN_LISTED;
const ORDER_INT8 = new Set<string>(['amount', 'paid_amount', 'fee', 'acknowledged', 'expires_at', 'checked_at', 'created_at', 'updated_at', 'version']);

/** What the database fills in when a new row leaves these columns out. */
const ORDER_DEFAULTS: Partial<Record<(typeof ORDER_COLUMNS)[number], bigint>> = { fee: 0n, acknowledged: 0n, version: 0n };

const orderColumnType = (column: string): PgType => (ORDER_INT8.has(column) ? 'int8' : 'text');
const ORDER_TYPES: readonly PgType[] = ORDER_COLUMNS.map(orderColumnType);
const INSERT_ORDERS = `insert into orders (${ORDER_COLUMNS.join(', ')})`;
/** Only the key comes back: the stored row is the values sent (returning whole rows cost more than the insert). */
const ON_REF_CONFLICT = 'on conflict (merchant_id, direction, mer_order_no) do nothing returning order_no';

const EVENT_COLUMNS = ['id', 'order_no', 'seq', 'from_status', 'to_status', 'cause', 'actor', 'detail', 'created_at'] as const satisfies readonly (keyof NewOrderEventRow)[];
const EVENT_TYPES: readonly PgType[] = EVENT_COLUMNS.map((column) => (column === 'seq' || column === 'created_at' ? 'int8' : 'text'));

const orderValues = (row: NewOrderRow) =>
  ORDER_COLUMNS.map((column) => {
    const value = row[column] ?? ORDER_DEFAULTS[column] ?? null;
    return typeof value === 'number' ? BigInt(value) : value;
  });
const ORDER_NO = ORDER_COLUMNS.indexOf('order_no');

/**
 * An order row as one object literal, so every row has the same hidden class.
 * Objects built key by key, and the rows better-sqlite3 returns for a table
 * this wide, are hash tables in V8: each property read is a lookup, and
 * copying one (spread, Object.assign) costs microseconds. `v` holds the
 * values in ORDER_COLUMNS order.
 */
export function orderFromValues(v: readonly unknown[]): OrderRow {
  return {
    order_no: v[0], direction: v[1], merchant_id: v[2], app_id: v[3], generation: v[4], mer_order_no: v[5], request_hash: v[6],
    currency: v[7], amount: v[8], paid_amount: v[9], fee: v[10], method: v[11], channel: v[12], channel_ref: v[13], status: v[14],
    acknowledged: v[15], attach: v[16], notify_url: v[17], return_url: v[18], extra: v[19], params: v[20], message: v[21],
    expires_at: v[22], checked_at: v[23], created_at: v[24], updated_at: v[25], version: v[26],
  } as OrderRow;
}

/** A row the database returned, as orderFromValues builds it. */
function orderOf(row: OrderRow): OrderRow;
function orderOf(row: OrderRow | undefined): OrderRow | undefined;
function orderOf(row: OrderRow | undefined): OrderRow | undefined {
  if (row === undefined) return undefined;
  const values: unknown[] = [];
  for (let i = 0; i < ORDER_COLUMNS.length; i++) values.push(row[ORDER_COLUMNS[i]!]);
  return orderFromValues(values);
}

/** The column names, for a test that orderFromValues puts each value under its column. */
export const ORDER_COLUMN_NAMES: readonly string[] = ORDER_COLUMNS;
const eventValues = (event: NewOrderEventRow) => EVENT_COLUMNS.map((column) => event[column] ?? null);

// The create path's statements are written once (see statement.ts).
const insertOrders = rowsStatement<{ order_no: string }>(ORDER_TYPES, (rows) => `${INSERT_ORDERS} ${rows} ${ON_REF_CONFLICT}`);
const insertEvents = rowsStatement(EVENT_TYPES, (rows) => `insert into order_events (${EVENT_COLUMNS.join(', ')}) ${rows}`);

/**
 * Inserts the rows whose merchant does not have their merOrderNo in their
 * direction yet (nor an earlier row of the same call); the stored rows, in no
 * particular order.
 */
export async function insertOrdersIfAbsent(db: Db, rows: readonly NewOrderRow[]): Promise<OrderRow[]> {
  const values = rows.map(orderValues);
  return writtenOrders(values, await insertOrders(db, values));
}

function writtenOrders(values: readonly (readonly unknown[])[], written: readonly { order_no: string }[]): OrderRow[] {
  const keys = new Set(written.map((row) => row.order_no));
  return values.filter((row) => keys.has(row[ORDER_NO] as string)).map(orderFromValues);
}

/**
 * PostgreSQL: new orders and their history in one statement, one round trip.
 * Its parts see one snapshot, so the history is filtered by the orders this
 * statement inserted; the foreign key is checked at the end of the statement.
 * It must stay one statement: a batch of orders born without effects is
 * written by it alone, outside any transaction (services.ts).
 */
const insertOrdersWithHistoryPg = sqlStatement<{ order_no: string }>(
  `with created as (${INSERT_ORDERS} ${unnestOf(ORDER_TYPES)} ${ON_REF_CONFLICT}),
  history as (insert into order_events (${EVENT_COLUMNS.join(', ')})
    select * from (${unnestOf(EVENT_TYPES)}) as e (${EVENT_COLUMNS.join(', ')}) where e.order_no in (select order_no from created))
  select order_no from created`,
);

/**
 * Inserts orders as insertOrdersIfAbsent does, with their history: `history`
 * holds entries for any of the rows, and only those of the rows inserted are
 * written. The stored rows, in no particular order.
 */
export async function insertOrdersWithHistory(db: Db, rows: readonly NewOrderRow[], history: readonly NewOrderEventRow[]): Promise<OrderRow[]> {
  if (rows.length === 0) return [];
  if (dialectOf(db) === 'postgres') {
    const values = rows.map(orderValues);
    return writtenOrders(values, await insertOrdersWithHistoryPg(db, [...columnsOf(ORDER_TYPES, values), ...columnsOf(EVENT_TYPES, history.map(eventValues))]));
  }
  const stored = await insertOrdersIfAbsent(db, rows);
  const born = new Set(stored.map((row) => row.order_no));
  await insertOrderEvents(db, history.filter((event) => born.has(event.order_no)));
  return stored;
}

/** Inserts unless the merchant already has this merOrderNo in this direction; the stored row, or undefined when it had. */
export async function insertOrderIfAbsent(db: Db, row: NewOrderRow): Promise<OrderRow | undefined> {
  return (await insertOrdersIfAbsent(db, [row]))[0];
}

export async function findOrder(db: Db, orderNo: string): Promise<OrderRow | undefined> {
  return orderOf(await db.selectFrom('orders').selectAll().where('order_no', '=', orderNo).executeTakeFirst());
}

const selectOrder = sqlStatement<OrderRow>('select * from orders where order_no = ?');
const selectOrderForUpdate = sqlStatement<OrderRow>('select * from orders where order_no = ? for update');

/** The row, locked for the rest of the transaction on PostgreSQL (SQLite transactions are already exclusive). */
export async function findOrderForUpdate(db: Db, orderNo: string): Promise<OrderRow | undefined> {
  return orderOf((await (dialectOf(db) === 'postgres' ? selectOrderForUpdate : selectOrder)(db, [orderNo]))[0]);
}

/** Committed state only (a read outside any transaction): whether a create is a retry. */
export function findCommittedOrderByRef(db: Db, merchantId: string, direction: string, merOrderNo: string): Promise<OrderRow | undefined> {
  const read = committedRead(db, 'orders.byRef', (d) =>
    d.selectFrom('orders').selectAll().where('merchant_id', '=', '').where('direction', '=', '').where('mer_order_no', '=', ''),
  );
  return read([merchantId, direction, merOrderNo]).then((rows) => orderOf(rows[0]));
}

export interface OrderRef {
  merchantId: string;
  direction: string;
  merOrderNo: string;
}

const ordersByRef = rowsStatement<OrderRow>(['text', 'text', 'text'], (rows) => `select * from orders where (merchant_id, direction, mer_order_no) in (${rows})`);

/** The orders of several references in one statement (committed state when run outside a transaction), in no particular order. */
export async function findOrdersByRef(db: Db, refs: readonly OrderRef[]): Promise<OrderRow[]> {
  return (await ordersByRef(db, refs.map((ref) => [ref.merchantId, ref.direction, ref.merOrderNo]))).map((row) => orderOf(row));
}

export async function findOrderByRef(db: Db, merchantId: string, direction: string, merOrderNo: string): Promise<OrderRow | undefined> {
  return orderOf(
    await db
      .selectFrom('orders')
      .selectAll()
      .where('merchant_id', '=', merchantId)
      .where('direction', '=', direction)
      .where('mer_order_no', '=', merOrderNo)
      .executeTakeFirst(),
  );
}

export type OrderChanges = Partial<Pick<OrderRow, 'status' | 'paid_amount' | 'fee' | 'channel_ref' | 'params' | 'message' | 'method' | 'channel' | 'acknowledged' | 'expires_at'>>;

const CHANGEABLE = new Set<string>(['status', 'paid_amount', 'fee', 'channel_ref', 'params', 'message', 'method', 'channel', 'acknowledged', 'expires_at'] satisfies (keyof OrderChanges)[]);
const updates = new Map<string, Statement<OrderRow>>();

/**
 * The update of these columns (names checked against the changeable ones),
 * version-checked, returning the new row; on PostgreSQL `withEvent` adds the
 * history entry of the change in the same statement (written only if the
 * update applied). Written once per set of columns.
 */
function updateOf(columns: readonly string[], withEvent = false): Statement<OrderRow> {
  const key = `${withEvent ? 'event:' : ''}${columns.join(',')}`;
  let statement = updates.get(key);
  if (!statement) {
    checkChangeable(columns);
    const set = columns.map((column) => `${column} = ?`).join(', ');
    const update = `update orders set ${set}${set ? ', ' : ''}updated_at = ?, version = version + 1 where order_no = ? and version = ? returning *`;
    statement = sqlStatement<OrderRow>(
      withEvent
        ? `with changed as (${update}),
          history as (insert into order_events (${EVENT_COLUMNS.join(', ')}) select ${EVENT_TYPES.map((type) => `?::${type}`).join(', ')} where exists (select 1 from changed))
          select * from changed`
        : update,
    );
    updates.set(key, statement);
  }
  return statement;
}

/**
 * The `updated_at` of a change of `order` made at `now`: later than the one
 * before, even within one millisecond, so a merchant orders two changes (their
 * notifications) by `updateTime`. The row is the one the version check holds to.
 */
function changedAt(order: OrderRow, now: number): number {
  return Math.max(now, Number(order.updated_at) + 1);
}

/** Applies changes only if nobody changed the row since it was read (version check); the new row, or undefined when not applied. */
export async function updateOrder(db: Db, order: OrderRow, changes: OrderChanges, now: number): Promise<OrderRow | undefined> {
  const columns = changedColumns(changes);
  return orderOf((await updateOf(columns)(db, [...columns.map((column) => changes[column]), changedAt(order, now), order.order_no, order.version]))[0]);
}

function checkChangeable(columns: readonly string[]): void {
  for (const column of columns) if (!CHANGEABLE.has(column)) throw new Error(`orders.${column} is not changeable`);
}

function changedColumns(changes: OrderChanges): (keyof OrderChanges)[] {
  return (Object.keys(changes) as (keyof OrderChanges)[]).filter((column) => changes[column] !== undefined);
}

/** The columns a change sets (a null sets one; an undefined does not), in one order: changes with the same key can be written by one statement. */
export function changedColumnsKey(changes: OrderChanges): string {
  return changedColumns(changes).sort().join(',');
}

/** updateOrder, and when it applies, the history entry of the change (one statement on PostgreSQL). */
export async function updateOrderWithEvent(db: Db, order: OrderRow, changes: OrderChanges, now: number, event: NewOrderEventRow): Promise<OrderRow | undefined> {
  if (dialectOf(db) !== 'postgres') {
    const after = await updateOrder(db, order, changes, now);
    if (after) await insertOrderEvents(db, [event]);
    return after;
  }
  const columns = changedColumns(changes);
  const values = [...columns.map((column) => changes[column]), changedAt(order, now), order.order_no, order.version, ...eventValues(event)];
  return orderOf((await updateOf(columns, true)(db, values))[0]);
}

/** An order's change as its caller decided it on the row it read, with the history entry of that change. */
export interface KnownChange {
  order: OrderRow;
  changes: OrderChanges;
  event: NewOrderEventRow;
}

const batchUpdates = new Map<string, Statement<OrderRow>>();

/**
 * PostgreSQL: the update of these columns for a set of orders, each
 * version-checked, with the history entries of the rows it changed, as one
 * statement (atomic and durable by itself). Written once per set of columns.
 */
function batchUpdateOf(columns: readonly string[]): Statement<OrderRow> {
  const key = columns.join(',');
  let statement = batchUpdates.get(key);
  if (!statement) {
    checkChangeable(columns);
    const types = columns.map(orderColumnType);
    statement = sqlStatement<OrderRow>(
      `with input as (select * from unnest(?::text[], ?::int8[]${types.map((type) => `, ?::${type}[]`).join('')}) as i (order_no, version${columns.map((c) => `, ${c}`).join('')})),
      changed as (update orders o set ${columns.map((c) => `${c} = i.${c}, `).join('')}updated_at = greatest(?::int8, o.updated_at + 1), version = o.version + 1
        from input i where o.order_no = i.order_no and o.version = i.version returning o.*),
      history as (insert into order_events (${EVENT_COLUMNS.join(', ')})
        select * from (${unnestOf(EVENT_TYPES)}) as e (${EVENT_COLUMNS.join(', ')}) where e.order_no in (select order_no from changed))
      select * from changed`,
    );
    batchUpdates.set(key, statement);
  }
  return statement;
}

/**
 * updateOrderWithEvent for several orders that change the same columns, each
 * a different order: on PostgreSQL one statement, atomic by itself, so it
 * needs no transaction around it; on SQLite one order after another (the
 * caller's transaction makes them one). For each, its new row, or undefined
 * when its row changed since it was read.
 */
export async function updateOrdersWithEvents(db: Db, known: readonly KnownChange[], now: number): Promise<(OrderRow | undefined)[]> {
  if (known.length === 0) return [];
  if (dialectOf(db) !== 'postgres') {
    const after: (OrderRow | undefined)[] = [];
    for (const { order, changes, event } of known) after.push(await updateOrderWithEvent(db, order, changes, now, event));
    return after;
  }
  const key = changedColumnsKey(known[0]!.changes);
  for (const { changes } of known) if (changedColumnsKey(changes) !== key) throw new Error(`updateOrdersWithEvents: changes of different columns (${key}; ${changedColumnsKey(changes)})`);
  const columns = (key ? key.split(',') : []) as (keyof OrderChanges)[];
  if (new Set(known.map(({ order }) => order.order_no)).size !== known.length) throw new Error('updateOrdersWithEvents: an order appears twice');
  const rows = await batchUpdateOf(columns)(db, [
    known.map(({ order }) => order.order_no),
    known.map(({ order }) => order.version),
    ...columns.map((column) => known.map(({ changes }) => changes[column] ?? null)),
    now,
    ...columnsOf(EVENT_TYPES, known.map(({ event }) => eventValues(event))),
  ]);
  const changed = new Map(rows.map((row) => [row.order_no, orderOf(row)]));
  return known.map(({ order }) => changed.get(order.order_no));
}

/** Appends history entries in one statement. */
export async function insertOrderEvents(db: Db, events: readonly NewOrderEventRow[]): Promise<void> {
  await insertEvents(db, events.map(eventValues));
}

export async function listOrderEvents(db: Db, orderNo: string) {
  return db.selectFrom('order_events').selectAll().where('order_no', '=', orderNo).orderBy('seq').execute();
}

/** Pay-ins past their expiry still waiting for payment, oldest first. */
export async function findExpiredPayins(db: Db, now: number, limit: number): Promise<string[]> {
  // One ordered walk of the (direction, status, expires_at) index per status, each stopping at
  // `limit`: with `status in (…)` PostgreSQL read every expired row and sorted them, a batch
  // costing as much as the whole backlog (133 ms a batch at 86 000 expired).
  const oldest = (status: string, alias: string) =>
    sql`(select order_no, expires_at from orders where direction = 'payin' and status = ${status} and expires_at <= ${BigInt(now)} order by expires_at limit ${limit}) as ${sql.raw(alias)}`;
  const rows = await sql<{ order_no: string }>`
    select order_no from (
      select order_no, expires_at from ${oldest('CREATED', 'created')}
      union all
      select order_no, expires_at from ${oldest('PENDING', 'pending')}
    ) as due
    order by expires_at
    limit ${limit}`.execute(db);
  return rows.rows.map((r) => r.order_no);
}

/** v2 orders whose PAID notification was acknowledged show status 3 from then on. */
export async function markAcknowledged(db: Db, orderNos: readonly string[]): Promise<void> {
  if (orderNos.length === 0) return;
  await db
    .updateTable('orders')
    // Not a change of status: updateTime stays the time of the PAID the merchant was told about.
    .set({ acknowledged: 1n, version: sql<bigint>`version + 1` })
    .where('order_no', 'in', [...orderNos])
    .where('status', '=', 'PAID')
    .where('acknowledged', '=', 0n)
    .execute();
}

/** Remembers an upstream report; false when the same report was applied before. */
export async function recordChannelEvent(db: Db, channel: string, eventId: string, orderNo: string, now: number): Promise<boolean> {
  const result = await db
    .insertInto('channel_events')
    .values({ channel, event_id: eventId, order_no: orderNo, received_at: now })
    .onConflict((oc) => oc.columns(['channel', 'event_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}
