/**
 * What the ledger tests share: a migrated database of the run (SQLite, or
 * PostgreSQL with PAGODA_TEST_DB=postgres), merchants, and orders moved through
 * the real state machine with the ledger as their effect.
 */
import pino from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import { ManualClock } from '../src/platform/clock.ts';
import { openDatabase, type Db } from '../src/platform/db/database.ts';
import { migrateToLatest } from '../src/platform/db/migrate.ts';
import type { OrderRow } from '../src/platform/db/schema.ts';
import { createTransactor } from '../src/platform/db/transactor.ts';
import { newId } from '../src/platform/ids.ts';
import { parseMasterKey, SecretBox } from '../src/platform/secret-box.ts';
import { createMerchant } from '../src/modules/merchants/merchant.service.ts';
import type { Direction, OrderStatus } from '../src/modules/orders/order.ts';
import { insertOrderIfAbsent, recordCreation, transitionOrder, type OrderDeps, type TransitionResult } from '../src/modules/orders/order.service.ts';
import type { OrderChanges } from '../src/modules/orders/order.repository.ts';
import { adjust, freezeForPayouts, postOrderChange, transfer } from '../src/modules/ledger/ledger.service.ts';
import { orderEffects } from '../src/services.ts';
import { orderChangeEvent } from '../src/modules/ledger/ledger.orders.ts';
import { createTestDatabase, type TestDatabase } from './helpers/db.ts';
import { TEST_MASTER_KEY } from './helpers/gateway.ts';
import { cashierLinks } from '../src/modules/orders/cashier-link.ts';

export interface LedgerDb {
  tdb: TestDatabase;
  db: Db;
  clock: ManualClock;
  deps: OrderDeps;
  close(): Promise<void>;
}

/** 2026-03-10T12:00:00Z */
export const T0 = Date.UTC(2026, 2, 10, 12);

export async function openLedgerDb(opts: { poolSize?: number } = {}): Promise<LedgerDb> {
  const tdb = await createTestDatabase();
  const db = openDatabase(tdb.url, { poolSize: opts.poolSize });
  await migrateToLatest(db);
  const clock = new ManualClock(T0);
  const deps: OrderDeps = {
    clock,
    transact: createTransactor(db),
    log: pino({ level: 'silent' }) as unknown as FastifyBaseLogger,
    effects: {
      writes: (before, after) => orderChangeEvent(before, after) !== null,
      write: (tx, before, after) => postOrderChange(tx, before, after, 'test').then(() => undefined),
    },
  };
  return {
    tdb,
    db,
    clock,
    deps,
    async close() {
      await db.destroy();
      await tdb.drop();
    },
  };
}

const box = new SecretBox(parseMasterKey(TEST_MASTER_KEY));

export async function newMerchant(db: Db, currencies: string[] = ['IDR', 'MXN']): Promise<string> {
  const creds = await db.transaction().execute((tx) => createMerchant(tx, { box, now: T0, actor: 'test' }, { name: 'Ledger Merchant', currencies }));
  return creds.merchantId;
}

/**
 * A ledger database whose orders have the composition root's effects (ledger
 * postings and notifications), and a merchant whose IDR payout balance holds
 * `funds`.
 */
export async function openWithEffects(funds: bigint): Promise<{ ledger: LedgerDb; deps: OrderDeps; merchantId: string }> {
  const ledger = await openLedgerDb();
  const deps = { ...ledger.deps, effects: orderEffects({ now: () => T0, cashierLink: cashierLinks('https://pagoda.example', Buffer.alloc(32, 1)), enqueued: () => undefined }) };
  const merchantId = await newMerchant(ledger.db);
  const op = { now: T0, actor: 'test' };
  await ledger.db.transaction().execute(async (tx) => {
    await adjust(tx, op, { merchantId, currency: 'IDR', account: 'payin', amount: funds, reason: 'funds' });
    await transfer(tx, op, { merchantId, currency: 'IDR', from: 'payin', to: 'payout', amount: funds });
  });
  return { ledger, deps, merchantId };
}

export interface NewOrder {
  merchantId: string;
  direction: Direction;
  amount: bigint;
  fee?: bigint;
  currency?: string;
  merOrderNo?: string;
  now?: number;
}

/**
 * An order as its creator would write it: a pay-in CREATED; a payout CREATED
 * with its fee and its funds frozen (422 when the payout balance cannot cover them).
 */
export async function createOrder(tx: Db, o: NewOrder): Promise<OrderRow> {
  const now = o.now ?? T0;
  const orderNo = newId(o.direction === 'payin' ? 'PI' : 'PO', now);
  const row = {
    order_no: orderNo,
    direction: o.direction,
    merchant_id: o.merchantId,
    app_id: 'app-test',
    generation: 'v3',
    mer_order_no: o.merOrderNo ?? `m-${orderNo}`,
    request_hash: 'h',
    currency: o.currency ?? 'IDR',
    amount: o.amount,
    paid_amount: null,
    fee: o.direction === 'payout' ? (o.fee ?? 0n) : 0n,
    method: null,
    channel: 'sandbox',
    channel_ref: null,
    status: 'CREATED',
    attach: null,
    notify_url: 'https://merchant.example/notify',
    return_url: null,
    extra: null,
    params: null,
    message: null,
    expires_at: null,
    created_at: now,
    updated_at: now,
  };
  if (!(await insertOrderIfAbsent(tx, row))) throw new Error(`order ${orderNo} exists`);
  const order = (await tx.selectFrom('orders').selectAll().where('order_no', '=', orderNo).executeTakeFirstOrThrow()) as OrderRow;
  await recordCreation(tx, now, order, 'test');
  if (o.direction === 'payout') await freezeForPayouts(tx, [{ order, actor: 'test' }]);
  return order;
}

/** Moves an order through the state machine, posting its ledger entry in the same transaction. */
export function move(tx: Db, ledger: LedgerDb, orderNo: string, to: OrderStatus, changes: OrderChanges = {}): Promise<TransitionResult> {
  return transitionOrder(tx, ledger.deps, orderNo, { to, cause: 'channel', actor: 'test', changes });
}

/** A pay-in created and PAID (paid amount and fee as given) in one transaction. */
export async function paidPayin(ledger: LedgerDb, merchantId: string, paid: bigint, fee: bigint, currency = 'IDR'): Promise<OrderRow> {
  return ledger.db.transaction().execute(async (tx) => {
    const order = await createOrder(tx, { merchantId, direction: 'payin', amount: paid, currency, now: ledger.clock.now() });
    const result = await move(tx, ledger, order.order_no, 'PAID', { paid_amount: paid, fee });
    return result.order;
  });
}
