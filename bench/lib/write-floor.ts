// The write floor: a route for the bare server (bench/bare-server.ts, when FLOOR_DB is
// set) that makes exactly the durable write of a gateway pay-in create and nothing
// else: the order born PENDING and its two history entries, through the gateway's own
// repository, transactor (group commit) and order effects, on the gateway's schema in
// a SQLite file opened as the gateway opens it (WAL, synchronous=FULL). No
// authentication, no request rules, no channel, no idempotency read: what any create
// must cost on this machine, whatever the gateway around it does. Measured beside the
// gateway by bench/create-payment.ts; bench/write-path.ts makes the same write without HTTP.
// POST /floor with {"merOrderNo":…} answers {"code":0,"msg":"success","data":{"orderNo":…,"merOrderNo":…,"status":"PENDING"}}.
import type { FastifyInstance } from 'fastify';
import { createOrders, type NewOrder } from '../../src/modules/orders/order.service.ts';
import { orderEffects } from '../../src/services.ts';
import { cashierLinks } from '../../src/modules/orders/cashier-link.ts';
import { openSqlite, type Db } from '../../src/platform/db/database.ts';
import type { OrderRow } from '../../src/platform/db/schema.ts';
import { migrateToLatest } from '../../src/platform/db/migrate.ts';
import { createTransactor } from '../../src/platform/db/transactor.ts';
import { newId } from '../../src/platform/ids.ts';
import { findMethod } from '../../src/modules/channels/catalogue.ts';
import { newOrderRow } from '../../src/modules/orders/order.request.ts';

/** The write floor's database and the create's write on it. */
export interface WriteFloor {
  db: Db;
  /** A new pay-in as the gateway would write it after its channel accepted it (born PENDING). */
  pending(merOrderNo: string): NewOrder;
  /** Writes it (order, two history entries, effects) through the transactor's group commit. */
  write(merOrderNo: string): Promise<OrderRow>;
}

/** Opens and migrates a SQLite database as the gateway opens it, with one merchant. */
export async function openWriteFloor(file: string, publicUrl: string): Promise<WriteFloor> {
  const db = openSqlite(file);
  await migrateToLatest(db);
  const transact = createTransactor(db);
  const merchantId = newId('mch_');
  const started = BigInt(Date.now());
  await db
    .insertInto('merchants')
    .values({ id: merchantId, name: 'Floor Merchant', status: 'active', default_currency: 'IDR', created_at: started, updated_at: started })
    .execute();

  const caller = { merchantId, appId: 'floor', generation: 'v3' as const };
  const QRIS = findMethod('ID_QRIS')!;
  const cashierLink = cashierLinks(publicUrl, Buffer.alloc(32, 7));
  const effects = orderEffects({ now: Date.now, cashierLink, enqueued: () => undefined });
  // What the sandbox answers for a QRIS pay-in, in size: a cashier link and an EMV payload.
  const params = (orderNo: string) =>
    JSON.stringify({
      url: cashierLink(orderNo),
      paymentLink: cashierLink(orderNo),
      qrCode: `00020101021226690016ID.CO.PAGODA.WWW0119936099996724465114902159838961877896050303UMI51440014ID.CO.QRIS.WWW0215ID68173764498960303UMI52045999530336054061500005802ID5913Floor Merchant6007JAKARTA61051011062290125${orderNo}6304ABCD`,
    });
  const pending = (merOrderNo: string): NewOrder => {
    const now = Date.now();
    const req = { merOrderNo, currency: 'IDR', amount: 15000000n, method: QRIS, extra: null, attach: null, notifyUrl: 'https://merchant.example/notify', returnUrl: null };
    const row = newOrderRow('payin', caller, req, 'f'.repeat(64), now, { channel: 'sandbox', expiresAt: now + 1_800_000 });
    const answered = { to: 'PENDING' as const, cause: 'channel' as const, actor: 'channel:sandbox', changes: { channel_ref: `SBX${row.order_no}`, params: params(row.order_no) } };
    return { row, actor: 'app:floor', answered };
  };
  const write = async (merOrderNo: string): Promise<OrderRow> => {
    const order = pending(merOrderNo);
    const [stored] = await transact((tx) => createOrders(tx, { effects }, [order]));
    if (!stored) throw new Error(`merOrderNo ${merOrderNo} was used before`);
    return stored;
  };
  return { db, pending, write };
}

/** Opens the floor's database and adds the route; the returned function closes the database. */
export async function registerWriteFloor(app: FastifyInstance, file: string, publicUrl: string): Promise<() => Promise<void>> {
  const floor = await openWriteFloor(file, publicUrl);
  app.post('/floor', async (request) => {
    const merOrderNo = String((request.body as { merOrderNo?: unknown }).merOrderNo);
    const stored = await floor.write(merOrderNo);
    return { code: 0, msg: 'success', data: { orderNo: stored.order_no, merOrderNo, status: stored.status } };
  });
  return () => floor.db.destroy();
}
