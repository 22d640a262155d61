import type { Db } from '../../platform/db/database.ts';
import type { OrderRow } from '../../platform/db/schema.ts';
import { badRequest, conflict, unprocessable } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import { currencyInfo, formatMajor } from '../../platform/money.ts';
import { recordAudit } from '../audit/audit.service.ts';
import { merchantCurrencies } from '../merchants/merchant.service.ts';
import {
  accountId,
  entryId,
  isNonNegative,
  postingsFor,
  debtRepaid,
  refundSplit,
  sumOf,
  type AccountRef,
  type EntryKind,
  type LedgerEvent,
  type MerchantAccountKind,
  type OperatorAccount,
  type Posting,
} from './ledger.ts';
import { orderChangeEvent, payoutFreezeEvent } from './ledger.orders.ts';
import * as repo from './ledger.repository.ts';

export interface EntryInput {
  /** Derived from the business event (`payin.paid:<orderNo>`): the same event posts once. */
  id: string;
  kind: EntryKind;
  currency: string;
  orderNo?: string | null;
  reference?: string | null;
  actor: string;
  reason?: string | null;
  now: number;
}

export type PostResult = 'posted' | 'duplicate';

/** The merchant's three balances in one currency, in minor units. */
export interface MerchantBalances {
  payin: bigint;
  payout: bigint;
  frozen: bigint;
}

/**
 * Posts an entry in the caller's transaction: the entry (skipped when its id
 * exists: 'duplicate', nothing changes), its accounts (created on first use),
 * its postings, and its accounts' balances moved. A balance that would go
 * below zero is refused with 422; the caller's transaction must then roll back.
 */
export async function post(tx: Db, entry: EntryInput, postings: readonly Posting[]): Promise<PostResult> {
  return (await postMany(tx, [{ entry, postings }]))[0]!;
}

/**
 * post for several entries at once, in as few statements: each posts or is a
 * duplicate on its own, but a balance any of them cannot cover refuses them
 * all (422, the caller's transaction must roll back).
 */
export async function postMany(tx: Db, items: readonly { entry: EntryInput; postings: readonly Posting[] }[]): Promise<PostResult[]> {
  const firstOf = new Map<string, number>();
  const placed = items.map(({ entry, postings }, i) => {
    if (sumOf(postings) !== 0n) throw new Error(`entry ${entry.id}: postings sum to ${sumOf(postings)}, not 0`);
    if (!currencyInfo(entry.currency)) throw new RangeError(`entry ${entry.id}: unknown currency ${entry.currency}`);
    if (!firstOf.has(entry.id)) firstOf.set(entry.id, i);
    return { entry, rows: postings.map((p) => ({ ...p, id: accountId(p.account, entry.currency), currency: entry.currency })) };
  });
  // The same event twice in one call posts once, like twice in two calls.
  const candidates = placed.filter(({ entry }, i) => firstOf.get(entry.id) === i);
  const written = await repo.insertEntriesIfAbsent(
    tx,
    candidates.map(({ entry }) => ({
      id: entry.id,
      kind: entry.kind,
      currency: entry.currency,
      order_no: entry.orderNo ?? null,
      reference: entry.reference ?? null,
      actor: entry.actor,
      reason: entry.reason ?? null,
      created_at: entry.now,
    })),
    uniqueAccounts(candidates),
    candidates.flatMap(({ entry, rows }) => rows.map((p, i) => ({ id: `${entry.id}#${i}`, entry_id: entry.id, account_id: p.id, amount: p.amount, created_at: entry.now }))),
  );
  const moves = netMoves(candidates.filter(({ entry }) => written.has(entry.id)).flatMap(({ rows }) => rows));
  const moved = moves.length > 0 ? await repo.moveBalances(tx, moves) : 'ok';
  if (moved === 'refused') {
    const short = moves.filter((m) => m.amount < 0n && isNonNegative(m.account));
    const what = short.map((m) => `the ${m.account.kind} balance in ${m.currency} cannot cover ${formatMajor(-m.amount, m.currency)}`);
    throw unprocessable(`insufficient balance: ${what.join('; ') || 'a balance would go below zero'}`);
  }
  if (moved === 'out of range') {
    const currencies = [...new Set(moves.map((m) => m.currency))].join(', ');
    throw unprocessable(`balance out of range: an account in ${currencies} would go past ±2^63 minor units, the most a balance holds`);
  }
  return placed.map(({ entry }, i) => (firstOf.get(entry.id) === i && written.has(entry.id) ? 'posted' : 'duplicate'));
}

type PlacedPosting = Posting & { id: string; currency: string };

/** The accounts the entries use, as created on first use. */
function uniqueAccounts(entries: readonly { entry: EntryInput; rows: readonly PlacedPosting[] }[]) {
  const seen = new Map<string, { account: AccountRef; currency: string; now: number }>();
  for (const { entry, rows } of entries) for (const row of rows) if (!seen.has(row.id)) seen.set(row.id, { account: row.account, currency: row.currency, now: entry.now });
  return [...seen].map(([id, { account, currency, now }]) => ({
    id,
    merchant_id: account.owner === 'merchant' ? account.merchantId : null,
    currency,
    kind: account.kind,
    balance: 0n,
    non_negative: isNonNegative(account) ? 1n : 0n,
    created_at: now,
  }));
}

/** Each account's net movement, one per account, in account id order: the one lock order of every transaction. */
function netMoves(rows: readonly PlacedPosting[]): { id: string; amount: bigint; account: AccountRef; currency: string }[] {
  const byId = new Map<string, { id: string; amount: bigint; account: AccountRef; currency: string }>();
  for (const row of rows) {
    const seen = byId.get(row.id);
    if (seen) seen.amount += row.amount;
    else byId.set(row.id, { id: row.id, amount: row.amount, account: row.account, currency: row.currency });
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Posts the entry of a business event (see `postingsFor`). A refund whose split
 * is not given is split here: the merchant's payin and payout accounts are locked
 * and read in this transaction (the posting that follows is the same
 * transaction's, so no other can spend them in between), payin covers what it
 * can, then payout, and the rest goes on receivable: money the bank returned is
 * always recorded. A payment repays such a debt (its receivable, locked and
 * read the same way) before it credits payin.
 */
export async function postEvent(tx: Db, entry: Omit<EntryInput, 'kind'>, event: LedgerEvent): Promise<PostResult> {
  let settled = event;
  const balanceOf = async (merchantId: string, kind: MerchantAccountKind, forUpdate = true) =>
    (await repo.accountBalance(tx, accountId({ owner: 'merchant', merchantId, kind }, entry.currency), { forUpdate })) ?? 0n;
  // Most merchants owe nothing, which a plain read tells; a debt is read again
  // locked, after payin (account id order, the one lock order of every transaction).
  if (event.kind === 'payin.paid' && event.repaid === undefined && (await balanceOf(event.merchantId, 'receivable', false)) < 0n) {
    await balanceOf(event.merchantId, 'payin');
    settled = { ...event, repaid: debtRepaid(await balanceOf(event.merchantId, 'receivable'), event.paid, event.fee) };
  }
  if (event.kind === 'payin.refunded' && event.covered === undefined) {
    // Locked in account id order (payin < payout), the one lock order of every transaction.
    const payin = await balanceOf(event.merchantId, 'payin');
    const payout = await balanceOf(event.merchantId, 'payout');
    settled = { ...event, ...refundSplit(payin, payout, event.paid, event.fee) };
  }
  return post(tx, { ...entry, kind: event.kind }, postingsFor(settled));
}

/** The merchant's balances; 0 for accounts never used. */
function merchantAccountIds(merchantId: string, currency: string): [string, string, string] {
  return [
    accountId({ owner: 'merchant', merchantId, kind: 'payin' }, currency),
    accountId({ owner: 'merchant', merchantId, kind: 'payout' }, currency),
    accountId({ owner: 'merchant', merchantId, kind: 'frozen' }, currency),
  ];
}

function toBalances(ids: readonly string[], rows: ReadonlyArray<{ id: string; balance: bigint }>): MerchantBalances {
  const of = (id: string) => rows.find((r) => r.id === id)?.balance ?? 0n;
  return { payin: of(ids[0]!), payout: of(ids[1]!), frozen: of(ids[2]!) };
}

/** Balances as `db` sees them: inside a transaction, including its own writes. */
export async function balances(db: Db, merchantId: string, currency: string): Promise<MerchantBalances> {
  const ids = merchantAccountIds(merchantId, currency);
  return toBalances(ids, await repo.findAccounts(db, ids));
}

/** Committed balances, for the balance endpoints (not for use inside a transaction). */
export async function committedBalances(db: Db, merchantId: string, currency: string): Promise<MerchantBalances & { owed: bigint }> {
  const found = { payin: 0n, payout: 0n, frozen: 0n, owed: 0n };
  for (const row of await repo.readBalances(db, merchantId, currency)) {
    if (row.kind === 'payin' || row.kind === 'payout' || row.kind === 'frozen') found[row.kind] = row.balance;
    else if (row.kind === 'receivable') found.owed = -row.balance;
  }
  return found;
}

export interface OperatorDeps {
  now: number;
  /** `cli:<user>`, `operator:<name>`. */
  actor: string;
}

export interface OperatorResult {
  entryId: string;
  result: PostResult;
  balances: MerchantBalances;
}

/**
 * An operator action posts once per operation id; repeating the id with other
 * parameters is a mistake the operator must hear about (409), not a silent no-op.
 */
async function postOperation(tx: Db, entry: Omit<EntryInput, 'kind'>, event: LedgerEvent): Promise<PostResult> {
  const result = await postEvent(tx, entry, event);
  if (result === 'posted') return result;
  const stored = await repo.findEntry(tx, entry.id);
  const postings = await repo.listEntryPostings(tx, entry.id);
  const expected = postingsFor(event).map((p, i) => `${entry.id}#${i} ${accountId(p.account, entry.currency)} ${p.amount}`);
  const found = postings.map((p) => `${p.id} ${p.account_id} ${p.amount}`);
  if (stored?.kind !== event.kind || stored.currency !== entry.currency || expected.join('|') !== found.join('|')) {
    throw conflict(`operation ${entry.id} was already applied with other parameters`);
  }
  return result;
}

async function requireEnabledCurrency(db: Db, merchantId: string, currency: string): Promise<void> {
  const { currencies } = await merchantCurrencies(db, merchantId);
  if (!currencies.includes(currency)) throw unprocessable(`currency: ${currency} is not enabled for merchant ${merchantId}`);
}

export interface TransferInput {
  merchantId: string;
  currency: string;
  from: OperatorAccount;
  to: OperatorAccount;
  amount: bigint;
  reason?: string;
  /** Makes a retried request post once; a fresh id by default. */
  operationId?: string;
}

/** Operator moves a merchant's money between its balances (collected → available for payouts); audited. */
export async function transfer(tx: Db, deps: OperatorDeps, input: TransferInput): Promise<OperatorResult> {
  if (input.amount <= 0n) throw badRequest('amount: must be greater than 0');
  if (input.from === input.to) throw badRequest('to: must differ from from');
  return postAudited(tx, deps, input, 'balance.transfer', { kind: 'op.transfer', merchantId: input.merchantId, from: input.from, to: input.to, amount: input.amount }, { from: input.from, to: input.to });
}

export interface AdjustInput {
  merchantId: string;
  currency: string;
  account: OperatorAccount;
  /** Signed: + credits the merchant, − debits it. */
  amount: bigint;
  reason: string;
  operationId?: string;
}

/** Operator credits or debits a merchant balance against the platform's adjustments account; audited. */
export async function adjust(tx: Db, deps: OperatorDeps, input: AdjustInput): Promise<OperatorResult> {
  if (input.amount === 0n) throw badRequest('amount: must not be 0');
  if (!input.reason?.trim()) throw badRequest('reason: an adjustment needs a reason');
  if (!deps.actor.trim()) throw badRequest('actor: an adjustment needs an actor');
  return postAudited(tx, deps, input, 'balance.adjust', { kind: 'op.adjust', merchantId: input.merchantId, account: input.account, amount: input.amount }, { account: input.account });
}

/**
 * An operator's balance operation: posted once per operation id (a fresh id by
 * default), audited when it posts, answered with the balances after it.
 */
async function postAudited(
  tx: Db,
  deps: OperatorDeps,
  input: { merchantId: string; currency: string; amount: bigint; reason?: string; operationId?: string },
  action: string,
  event: LedgerEvent & { kind: 'op.transfer' | 'op.adjust' },
  detail: Record<string, unknown>,
): Promise<OperatorResult> {
  await requireEnabledCurrency(tx, input.merchantId, input.currency);
  const id = entryId(event.kind, input.operationId ?? newId('op_', deps.now));
  const result = await postOperation(tx, { id, currency: input.currency, actor: deps.actor, reason: input.reason ?? null, now: deps.now }, event);
  if (result === 'posted') {
    await recordAudit(tx, deps.now, {
      actor: deps.actor,
      action,
      subject: input.merchantId,
      reason: input.reason,
      detail: { entryId: id, currency: input.currency, ...detail, amount: formatMajor(input.amount, input.currency) },
    });
  }
  return { entryId: id, result, balances: await balances(tx, input.merchantId, input.currency) };
}

/**
 * The entry an order's state change implies (see `orderChangeEvent`), posted in
 * the state change's transaction; 'none' when the change moves no money.
 * Dated at the change (`after.updated_at`) so replays post identical facts.
 */
export async function postOrderChange(tx: Db, before: OrderRow, after: OrderRow, actor: string): Promise<PostResult | 'none'> {
  const event = orderChangeEvent(before, after);
  if (!event) return 'none';
  return postEvent(tx, orderEntry(event.kind, after, actor, after.updated_at), event);
}

/**
 * Freezes new payouts' amount + fee from their merchants' payout balances, in
 * the payouts' creating transaction (422 when a balance cannot cover them all).
 */
export async function freezeForPayouts(tx: Db, payouts: readonly { order: OrderRow; actor: string }[]): Promise<PostResult[]> {
  return postMany(
    tx,
    payouts.map(({ order, actor }) => {
      if (order.direction !== 'payout') throw new Error(`freezeForPayouts: ${order.order_no} is a ${order.direction}`);
      const event = payoutFreezeEvent(order);
      return { entry: { ...orderEntry(event.kind, order, actor, order.created_at), kind: event.kind }, postings: postingsFor(event) };
    }),
  );
}

function orderEntry(kind: EntryKind, order: OrderRow, actor: string, at: bigint): Omit<EntryInput, 'kind'> {
  return { id: entryId(kind, order.order_no), currency: order.currency, orderNo: order.order_no, reference: order.channel_ref, actor, now: Number(at) };
}
