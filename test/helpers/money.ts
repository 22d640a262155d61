/**
 * Shared helpers of the payout and money-integrity tests: funding a merchant
 * through the ledger's operator functions, reading balances and journal
 * entries, building valid payout requests and signed sandbox bank reports.
 * Expected values are computed by the tests themselves (independent fee rule
 * below), never read back from the gateway's own modules.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../../src/platform/db/database.ts';
import { adjust, transfer } from '../../src/modules/ledger/ledger.service.ts';
import { saveMethodSettings } from '../../src/modules/channels/method-settings.ts';
import type { SandboxBank } from '../../src/modules/channels/sandbox/sandbox.bank.ts';
import { SIGNATURE_HEADER, signSandboxReport } from '../../src/modules/channels/sandbox/sandbox.channel.ts';
import type { TestGateway } from './gateway.ts';
import { bearer, newRef } from './payins.ts';

/** A CLABE with a valid check digit (bank 002, Banamex). */
export const CLABE = '002010077777777771';
/** The same CLABE with a wrong check digit. */
export const BAD_CLABE = '002010077777777772';

/** A valid v3 MX_SPEI payout body; `over` replaces or (with undefined) removes members. */
export function payoutBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  const body: Record<string, unknown> = {
    merOrderNo: newRef('po'),
    currency: 'MXN',
    amount: 30,
    payMethod: 'MX_SPEI',
    notifyUrl: 'https://merchant.example/payout-notify',
    extra: { accountName: 'JUAN PEREZ', accountNo: CLABE },
    ...over,
  };
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  return body;
}

export function createPayoutV3(gw: TestGateway, token: string, body: Record<string, unknown> | string) {
  return gw.call('POST', '/api/v3/payout/create', { body: typeof body === 'string' ? body : JSON.stringify(body), headers: bearer(token) });
}

/** Operator credit (+) or debit (−) of a merchant balance, in its own transaction. */
export async function fund(gw: TestGateway, merchantId: string, minor: bigint, account: 'payin' | 'payout' = 'payout', currency = 'MXN') {
  return gw.core.db.transaction().execute((tx) =>
    adjust(tx, { now: gw.clock.now(), actor: 'test:funding' }, { merchantId, currency, account, amount: minor, reason: 'test funding' }),
  );
}

export async function move(gw: TestGateway, merchantId: string, minor: bigint, currency = 'MXN') {
  return gw.core.db.transaction().execute((tx) =>
    transfer(tx, { now: gw.clock.now(), actor: 'test:transfer' }, { merchantId, currency, from: 'payin', to: 'payout', amount: minor }),
  );
}

export interface Balances {
  payin: bigint;
  payout: bigint;
  frozen: bigint;
}

/** The merchant's three balances, read straight from ledger_accounts (0 for an account never used). */
export async function balancesOf(db: Db, merchantId: string, currency = 'MXN'): Promise<Balances> {
  const rows = await db.selectFrom('ledger_accounts').select(['kind', 'balance']).where('merchant_id', '=', merchantId).where('currency', '=', currency).execute();
  const of = (kind: string) => BigInt(rows.find((r) => r.kind === kind)?.balance ?? 0n);
  return { payin: of('payin'), payout: of('payout'), frozen: of('frozen') };
}

/** What the merchant owes the platform (≤ 0; 0 for an account never used): refunds its payin and payout balances could not cover. */
export async function receivableOf(db: Db, merchantId: string, currency = 'MXN'): Promise<bigint> {
  const row = await db.selectFrom('ledger_accounts').select('balance').where('merchant_id', '=', merchantId).where('currency', '=', currency).where('kind', '=', 'receivable').executeTakeFirst();
  return BigInt(row?.balance ?? 0n);
}

export interface PlatformBalances {
  fees: bigint;
  clearing: bigint;
  adjustments: bigint;
}

export async function platformOf(db: Db, currency = 'MXN'): Promise<PlatformBalances> {
  const rows = await db.selectFrom('ledger_accounts').select(['kind', 'balance']).where('merchant_id', 'is', null).where('currency', '=', currency).execute();
  const of = (kind: string) => BigInt(rows.find((r) => r.kind === kind)?.balance ?? 0n);
  return { fees: of('fees'), clearing: of('clearing'), adjustments: of('adjustments') };
}

/** The journal entry kinds of an order, sorted. */
export async function entryKinds(db: Db, orderNo: string): Promise<string[]> {
  const rows = await db.selectFrom('journal_entries').select('kind').where('order_no', '=', orderNo).execute();
  return rows.map((r) => r.kind).sort();
}

/** Accounts that must not go negative and are. */
export async function negativeAccounts(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('ledger_accounts').select(['id', 'balance']).where('non_negative', '=', 1n).where('balance', '<', 0n).execute();
  return rows.map((r) => `${r.id}=${r.balance}`);
}

export async function orderRow(db: Db, orderNo: string) {
  return db.selectFrom('orders').selectAll().where('order_no', '=', orderNo).executeTakeFirstOrThrow();
}

export async function countRows(db: Db, table: 'orders' | 'sandbox_bank' | 'journal_entries' | 'notifications', where?: { column: 'order_no' | 'merchant_id'; value: string }): Promise<number> {
  let q = db.selectFrom(table as 'orders').select(sql<number>`count(*)`.as('n'));
  if (where) q = q.where(where.column as 'order_no', '=', where.value);
  return Number((await q.executeTakeFirstOrThrow()).n);
}

/** A fee rule for a merchant's method (the channel stays the sandbox). */
export async function setFee(gw: TestGateway, merchantId: string, direction: 'payin' | 'payout', method: string, bps: bigint, fixedMinor: bigint) {
  await saveMethodSettings(gw.core.db, gw.clock.now(), merchantId, direction, method, {
    channel: 'sandbox',
    enabled: true,
    fee: { bps, fixedMinor },
    minAmount: null,
    maxAmount: null,
  });
}

/** The fee rule of merchant-api (percentage half up + fixed, capped at the amount), written here independently. */
export function expectedFee(amount: bigint, bps: bigint, fixed: bigint): bigint {
  let fee = (amount * bps + 5000n) / 10000n + fixed;
  if (fee > amount) fee = amount;
  return fee;
}

/** A sandbox bank report as the bank sends it: the exact body and its signature. */
export function sandboxReport(gw: TestGateway, report: { orderNo: string; outcome: string; paidAmountMinor?: string | null; eventId?: string; message?: string | null }) {
  const raw = JSON.stringify({
    orderNo: report.orderNo,
    channelRef: `sbx_${report.orderNo}`,
    outcome: report.outcome,
    paidAmountMinor: report.paidAmountMinor ?? null,
    message: report.message ?? null,
    eventId: report.eventId ?? `sbe_${randomBytes(8).toString('hex')}`,
  });
  return { raw, signature: signSandboxReport(gw.core.box.derive('channel:sandbox'), raw) };
}

/**
 * A channel that may report anything in any order (what the sandbox bank itself
 * never does): its record says `outcome`, and its signed report goes through
 * the callback path. Returns the report as sent, to replay it.
 */
export async function reportAsAnyChannel(
  bank: SandboxBank,
  order: { orderNo: string; direction: 'payin' | 'payout'; amount: bigint },
  outcome: string,
  paidAmount: bigint | null,
): Promise<{ raw: Buffer; headers: Record<string, string> }> {
  // What arrived: on PAID the amount unless told otherwise; on a pay-in's EXCEPTION only if told.
  const paid = outcome === 'PAID' ? (paidAmount ?? order.amount) : outcome === 'EXCEPTION' && order.direction === 'payin' ? paidAmount : null;
  const status = { status: outcome, paid_amount: paid, event_id: null, due_at: null, updated_at: bank.now() };
  await bank.db
    .insertInto('sandbox_bank')
    .values({ order_no: order.orderNo, direction: order.direction, amount: order.amount, ...status })
    .onConflict((oc) => oc.column('order_no').doUpdateSet(status))
    .execute();
  const raw = JSON.stringify({
    orderNo: order.orderNo,
    channelRef: `sbx_${order.orderNo}`,
    outcome,
    paidAmountMinor: paid === null ? null : String(paid),
    message: outcome === 'PAID' ? null : `reported ${outcome}`,
    eventId: `sbe_${randomBytes(8).toString('hex')}`,
  });
  const sent = { raw: Buffer.from(raw, 'utf8'), headers: { [SIGNATURE_HEADER]: signSandboxReport(bank.key, raw), 'content-type': 'application/json' } };
  await bank.report(sent.raw, sent.headers);
  return sent;
}

/** POST /channels/sandbox/callback with a signed report. */
export function postSandboxReport(gw: TestGateway, signed: { raw: string; signature: string }) {
  return gw.call('POST', '/channels/sandbox/callback', { body: signed.raw, headers: { 'x-sandbox-signature': signed.signature } });
}

/** Runs `fn` and returns the AppError status it threw (or 'ok'). */
export async function statusOf(fn: () => Promise<unknown>): Promise<number | 'ok'> {
  try {
    await fn();
    return 'ok';
  } catch (err) {
    const status = (err as { status?: unknown }).status;
    if (typeof status === 'number') return status;
    throw err;
  }
}
