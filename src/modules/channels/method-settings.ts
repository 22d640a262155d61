import { committedRead, dialectOf, type Db } from '../../platform/db/database.ts';
import { unprocessable } from '../../platform/errors.ts';
import { formatMajor } from '../../platform/money.ts';
import type { FeeRule } from '../orders/fee.ts';
import type { Direction } from '../orders/order.ts';
import { extraSuits, findMethod, methodsFor, type MethodDef } from './catalogue.ts';
import { SANDBOX } from './sandbox/sandbox.channel.ts';

/** How a merchant's method is served: which channel, at what fee, within which limits. */
export interface MethodSettings {
  channel: string;
  enabled: boolean;
  fee: FeeRule;
  minAmount: bigint | null;
  maxAmount: bigint | null;
}

/** A merchant's methods go to the sandbox, free and unlimited, until the operator says otherwise. */
export const DEFAULT_SETTINGS: MethodSettings = { channel: SANDBOX, enabled: true, fee: { bps: 0n, fixedMinor: 0n }, minAmount: null, maxAmount: null };

const settingsQuery = (db: Db, merchantId = '', direction = '', method = '') =>
  db.selectFrom('method_settings').selectAll().where('merchant_id', '=', merchantId).where('direction', '=', direction).where('method', '=', method);

/** The merchant's settings for a method; `committed` reads outside a transaction through the prepared path. */
export async function methodSettings(db: Db, merchantId: string, direction: Direction, method: string, opts: { committed?: boolean } = {}): Promise<MethodSettings> {
  const row = opts.committed
    ? (await committedRead(db, 'method_settings.one', (d) => settingsQuery(d))([merchantId, direction, method]))[0]
    : await settingsQuery(db, merchantId, direction, method).executeTakeFirst();
  return row ? settingsOf(row) : DEFAULT_SETTINGS;
}

function settingsOf(row: { channel: string; enabled: bigint; fee_bps: bigint; fee_fixed: bigint; min_amount: bigint | null; max_amount: bigint | null }): MethodSettings {
  return {
    channel: row.channel,
    enabled: row.enabled === 1n,
    fee: { bps: row.fee_bps, fixedMinor: row.fee_fixed },
    minAmount: row.min_amount,
    maxAmount: row.max_amount,
  };
}

/**
 * Changes the merchant's settings for a method in the caller's transaction: the
 * row is made first (with the defaults) so that it can be read locked, then
 * `change` decides from what it holds. Two operators changing different fields at
 * once both keep their change; `change` may throw to change nothing.
 */
export async function changeMethodSettings(
  tx: Db,
  now: number,
  key: { merchantId: string; direction: Direction; method: string },
  change: (current: MethodSettings) => MethodSettings,
): Promise<MethodSettings> {
  const { merchantId, direction, method } = key;
  // On SQLite this write also takes the database's write lock, which the read below then holds.
  await tx
    .insertInto('method_settings')
    .values({ merchant_id: merchantId, direction, method, ...rowValues(DEFAULT_SETTINGS, now) })
    .onConflict((oc) => oc.columns(['merchant_id', 'direction', 'method']).doNothing())
    .execute();
  const read = settingsQuery(tx, merchantId, direction, method);
  const next = change(settingsOf(await (dialectOf(tx) === 'postgres' ? read.forUpdate() : read).executeTakeFirstOrThrow()));
  await saveMethodSettings(tx, now, merchantId, direction, method, next);
  return next;
}

function rowValues(s: MethodSettings, now: number) {
  return {
    channel: s.channel,
    enabled: s.enabled ? 1n : 0n,
    fee_bps: s.fee.bps,
    fee_fixed: s.fee.fixedMinor,
    min_amount: s.minAmount,
    max_amount: s.maxAmount,
    updated_at: now,
  };
}

export async function saveMethodSettings(db: Db, now: number, merchantId: string, direction: Direction, method: string, s: MethodSettings): Promise<void> {
  const values = rowValues(s, now);
  await db
    .insertInto('method_settings')
    .values({ merchant_id: merchantId, direction, method, ...values })
    .onConflict((oc) => oc.columns(['merchant_id', 'direction', 'method']).doUpdateSet(values))
    .execute();
}

/**
 * Why a method is refused for this amount (switched off, outside the merchant's limits, or more than
 * the method's own format carries); null when it is allowed.
 */
function amountRefusal(s: MethodSettings, method: string, direction: Direction, amount: bigint, currency: string): string | null {
  if (!s.enabled) return `payMethod: ${method} is not enabled for this merchant`;
  if (s.minAmount !== null && amount < s.minAmount) return `amount: below the minimum of ${formatMajor(s.minAmount, currency)} ${currency} for ${method}`;
  if (s.maxAmount !== null && amount > s.maxAmount) return `amount: above the maximum of ${formatMajor(s.maxAmount, currency)} ${currency} for ${method}`;
  const cap = direction === 'payin' ? findMethod(method)?.payinMaxMinor : undefined;
  if (cap !== undefined && amount > cap) return `amount: above the maximum of ${formatMajor(cap, currency)} ${currency} that a ${method} QR code carries`;
  return null;
}

/** 422 when the method is switched off or the amount is outside its limits. */
export function checkAmountAllowed(s: MethodSettings, method: string, direction: Direction, amount: bigint, currency: string): void {
  const refusal = amountRefusal(s, method, direction, amount, currency);
  if (refusal !== null) throw unprocessable(refusal);
}

/**
 * The methods a consumer can pick for a pay-in without one: of its currency,
 * given what the merchant sent in `extra` (PK_WALLET needs its payType), and
 * allowed by the merchant's settings for the amount.
 */
export async function payableMethods(
  settingsOf: (method: string) => Promise<MethodSettings>,
  currency: string,
  amount: bigint,
  extra: Record<string, string> | undefined,
): Promise<MethodDef[]> {
  const out: MethodDef[] = [];
  for (const def of methodsFor(currency, 'payin')) {
    if (extraSuits(def, 'payin', extra) && amountRefusal(await settingsOf(def.code), def.code, 'payin', amount, currency) === null) out.push(def);
  }
  return out;
}
