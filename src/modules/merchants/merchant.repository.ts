import { committedRead, type Db } from '../../platform/db/database.ts';
import type { AppRow, AppSecretRow, MerchantRow } from '../../platform/db/schema.ts';

export async function insertMerchant(db: Db, row: MerchantRow, currencies: string[]): Promise<void> {
  await db.insertInto('merchants').values(row).execute();
  await db
    .insertInto('merchant_currencies')
    .values(currencies.map((currency) => ({ merchant_id: row.id, currency })))
    .execute();
}

export async function findMerchant(db: Db, id: string): Promise<MerchantRow | undefined> {
  return db.selectFrom('merchants').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Committed state only, through a prepared read (outside transactions). */
export function findCommittedMerchant(db: Db, id: string): Promise<MerchantRow | undefined> {
  return committedRead(db, 'merchants.byId', (d) => d.selectFrom('merchants').selectAll().where('id', '=', ''))([id]).then((rows) => rows[0]);
}

export async function countMerchants(db: Db): Promise<number> {
  const row = await db.selectFrom('merchants').select((eb) => eb.fn.countAll<bigint>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Committed state only, through a prepared read (outside transactions). */
export async function listCommittedCurrencies(db: Db, merchantId: string): Promise<string[]> {
  const read = committedRead(db, 'merchants.currencies', (d) => d.selectFrom('merchant_currencies').select('currency').where('merchant_id', '=', '').orderBy('currency'));
  return (await read([merchantId])).map((r) => r.currency);
}

export async function listCurrencies(db: Db, merchantId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('merchant_currencies')
    .select('currency')
    .where('merchant_id', '=', merchantId)
    .orderBy('currency')
    .execute();
  return rows.map((r) => r.currency);
}

export async function insertApp(db: Db, row: AppRow): Promise<void> {
  await db.insertInto('apps').values(row).execute();
}

/** A merchant's apps, oldest first. */
export async function listApps(db: Db, merchantId: string): Promise<AppRow[]> {
  return db.selectFrom('apps').selectAll().where('merchant_id', '=', merchantId).orderBy('created_at').orderBy('app_id').execute();
}

export async function findApp(db: Db, appId: string): Promise<AppRow | undefined> {
  return db.selectFrom('apps').selectAll().where('app_id', '=', appId).executeTakeFirst();
}

export async function updateApp(
  db: Db,
  appId: string,
  changes: Partial<Pick<AppRow, 'scopes' | 'ip_allow' | 'ack_mode' | 'status'>>,
  now: number,
): Promise<void> {
  // Disabling moves the token epoch on: the tokens issued so far end for good.
  await db
    .updateTable('apps')
    .set((eb) => ({ ...changes, updated_at: now, ...(changes.status === 'disabled' ? { token_epoch: eb('token_epoch', '+', 1n) } : {}) }))
    .where('app_id', '=', appId)
    .execute();
}

/** Disabling a merchant moves each of its apps' token epoch on, as disabling the app does. */
export async function setMerchantStatus(db: Db, merchantId: string, status: 'active' | 'disabled', now: number): Promise<void> {
  await db.updateTable('merchants').set({ status, updated_at: now }).where('id', '=', merchantId).execute();
  if (status === 'disabled') {
    await db
      .updateTable('apps')
      .set((eb) => ({ token_epoch: eb('token_epoch', '+', 1n), updated_at: now }))
      .where('merchant_id', '=', merchantId)
      .execute();
  }
}

/** The app with its merchant's status, in one round trip: the hot path of every request. */
export async function findAppForAuth(
  db: Db,
  appId: string,
): Promise<(AppRow & { merchant_status: string }) | undefined> {
  return db
    .selectFrom('apps')
    .innerJoin('merchants', 'merchants.id', 'apps.merchant_id')
    .selectAll('apps')
    .select('merchants.status as merchant_status')
    .where('apps.app_id', '=', appId)
    .executeTakeFirst();
}

export async function insertSecret(db: Db, row: AppSecretRow): Promise<void> {
  await db.insertInto('app_secrets').values(row).execute();
}

/** Newest first; ids are time-ordered, so two secrets made in the same millisecond keep their order too. */
export async function listSecrets(db: Db, appId: string): Promise<AppSecretRow[]> {
  return db.selectFrom('app_secrets').selectAll().where('app_id', '=', appId).orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
}

/** Ends the validity of every secret of the app still open, at `expiresAt`. */
export async function expireOpenSecrets(db: Db, appId: string, expiresAt: number): Promise<void> {
  await db
    .updateTable('app_secrets')
    .set({ expires_at: expiresAt })
    .where('app_id', '=', appId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', BigInt(expiresAt))]))
    .execute();
}
