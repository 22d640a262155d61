/**
 * The ledger's pure rules: which accounts exist, how they are named, and which
 * postings each business event makes. Every rule's postings sum to zero, so
 * money is only ever moved, never created or lost.
 */

/**
 * A merchant's accounts, per currency. `payin`, `payout` and `frozen` hold the
 * merchant's money and may never go negative. `receivable` is what the merchant
 * owes the platform (a refund its collected and available balances together
 * could no longer cover): it holds a debit balance, so it is zero or negative
 * and is not guarded.
 */
export type MerchantAccountKind = 'payin' | 'payout' | 'frozen' | 'receivable';
/** The platform's accounts, per currency. */
export type PlatformAccountKind = 'fees' | 'clearing' | 'adjustments';
export type AccountKind = MerchantAccountKind | PlatformAccountKind;

/** Merchant accounts that may go negative (see `MerchantAccountKind`). */
export const UNGUARDED_MERCHANT_KINDS: readonly MerchantAccountKind[] = ['receivable'];

export type AccountRef =
  | { owner: 'merchant'; merchantId: string; kind: MerchantAccountKind }
  | { owner: 'platform'; kind: PlatformAccountKind };

export interface Posting {
  account: AccountRef;
  /** Signed minor units: + increases the account's balance, − decreases it. */
  amount: bigint;
}

/** Merchant accounts hold the merchant's money and must never go below zero; its receivable may. */
export function isNonNegative(ref: AccountRef): boolean {
  return ref.owner === 'merchant' && !UNGUARDED_MERCHANT_KINDS.includes(ref.kind);
}

/** Deterministic account id: `m:<merchantId>:<CUR>:<kind>` or `p:<CUR>:<kind>`. */
export function accountId(ref: AccountRef, currency: string): string {
  return ref.owner === 'merchant' ? `m:${ref.merchantId}:${currency}:${ref.kind}` : `p:${currency}:${ref.kind}`;
}

/** The balance a merchant can move by operator action. */
export type OperatorAccount = 'payin' | 'payout';

export function isOperatorAccount(value: string): value is OperatorAccount {
  return value === 'payin' || value === 'payout';
}

export interface PayinEvent {
  kind: 'payin.paid' | 'payin.refunded';
  merchantId: string;
  /** What the consumer actually paid. */
  paid: bigint;
  fee: bigint;
  /**
   * Refunds only: how much of `paid − fee` the merchant's payin balance covers
   * (`covered`) and then its payout balance (`fromPayout`); the rest goes on its
   * receivable. Absent: payin covers all of it (a plain reversal). `postEvent`
   * sets both from the balances read with the accounts locked, so a refund the
   * bank reported is always recorded (see `refundSplit`).
   */
  covered?: bigint;
  fromPayout?: bigint;
  /**
   * Payments only: how much of `paid − fee` repays what the merchant owes
   * (its receivable) before the rest is credited to payin. Absent: nothing.
   * `postEvent` sets it from the receivable read with the account locked.
   */
  repaid?: bigint;
}

export interface PayoutEvent {
  kind: 'payout.freeze' | 'payout.paid' | 'payout.released' | 'payout.returned';
  merchantId: string;
  /** What the beneficiary receives; the merchant pays amount + fee. */
  amount: bigint;
  fee: bigint;
}

export interface TransferEvent {
  kind: 'op.transfer';
  merchantId: string;
  from: OperatorAccount;
  to: OperatorAccount;
  amount: bigint;
}

export interface AdjustEvent {
  kind: 'op.adjust';
  merchantId: string;
  account: OperatorAccount;
  /** Signed, never 0: + credits the merchant. */
  amount: bigint;
}

export type LedgerEvent = PayinEvent | PayoutEvent | TransferEvent | AdjustEvent;

export type EntryKind = LedgerEvent['kind'];

/** Entry kinds that belong to an order; their entry id is `<kind>:<orderNo>`. */
export const ORDER_ENTRY_KINDS = [
  'payin.paid',
  'payin.refunded',
  'payout.freeze',
  'payout.paid',
  'payout.released',
  'payout.returned',
] as const;

export type OrderEntryKind = (typeof ORDER_ENTRY_KINDS)[number];

/**
 * Postings a rule splits between accounts at posting time, which the
 * reconciliation checks by their sum: a refund debits payin and receivable
 * together by `paid − fee`, split by the payin balance of the moment.
 */
export const SPLIT_POSTINGS: readonly { kind: OrderEntryKind; accounts: readonly MerchantAccountKind[] }[] = [
  { kind: 'payin.paid', accounts: ['payin', 'receivable'] },
  { kind: 'payin.refunded', accounts: ['payin', 'payout', 'receivable'] },
];

/**
 * The entry id derived from the business event, so the same event applied twice
 * posts once: `payin.paid:<orderNo>`, `op.transfer:<operationId>`, …
 */
export function entryId(kind: EntryKind, key: string): string {
  return `${kind}:${key}`;
}

const merchant = (merchantId: string, kind: MerchantAccountKind): AccountRef => ({ owner: 'merchant', merchantId, kind });
const platform = (kind: PlatformAccountKind): AccountRef => ({ owner: 'platform', kind });

function requireNonNegative(event: LedgerEvent, values: Record<string, bigint>): void {
  for (const [name, value] of Object.entries(values)) {
    if (value < 0n) throw new RangeError(`${event.kind}: ${name} must not be negative (got ${value})`);
  }
}

function payinPostings(event: PayinEvent): Posting[] {
  const net = event.paid - event.fee;
  requireNonNegative(event, { paid: event.paid, fee: event.fee, 'paid - fee': net });
  if (event.kind === 'payin.paid') {
    if (event.covered !== undefined || event.fromPayout !== undefined) throw new RangeError('payin.paid: a split is for refunds only');
    // A debt the merchant owes is repaid first from what it collects.
    const repaid = event.repaid ?? 0n;
    requireNonNegative(event, { repaid, 'paid - fee - repaid': net - repaid });
    return [
      { account: platform('clearing'), amount: -event.paid },
      { account: merchant(event.merchantId, 'receivable'), amount: repaid },
      { account: merchant(event.merchantId, 'payin'), amount: net - repaid },
      { account: platform('fees'), amount: event.fee },
    ];
  }
  if (event.repaid !== undefined) throw new RangeError('payin.refunded: repaid is for payments only');
  // A refund reverses the credit: from payin as far as it covers, then from payout, the rest is owed (receivable).
  const covered = event.covered ?? net;
  const fromPayout = event.fromPayout ?? 0n;
  const owed = net - covered - fromPayout;
  requireNonNegative(event, { covered, fromPayout, 'paid - fee - covered - fromPayout': owed });
  return [
    { account: platform('clearing'), amount: event.paid },
    { account: merchant(event.merchantId, 'payin'), amount: -covered },
    { account: merchant(event.merchantId, 'payout'), amount: -fromPayout },
    { account: merchant(event.merchantId, 'receivable'), amount: -owed },
    { account: platform('fees'), amount: -event.fee },
  ];
}

/** How much of `amount` a balance covers: all of it, part of it, or nothing. */
function coverOf(balance: bigint, amount: bigint): bigint {
  if (balance <= 0n) return 0n;
  return balance < amount ? balance : amount;
}

/** How much of a refund's `paid − fee` a payin balance covers: all of it, part of it, or nothing. */
export function refundCover(payinBalance: bigint, paid: bigint, fee: bigint): bigint {
  return coverOf(payinBalance, paid - fee);
}

/** How much of a payment's `paid − fee` repays a debt (a receivable balance of −owed). */
export function debtRepaid(receivableBalance: bigint, paid: bigint, fee: bigint): bigint {
  return coverOf(-receivableBalance, paid - fee);
}

/**
 * Where a refund's `paid − fee` comes from: the collected (payin) balance first,
 * then the available (payout) one; only what both cannot cover is owed.
 * Frozen funds belong to payouts in flight and are never taken.
 */
export function refundSplit(payinBalance: bigint, payoutBalance: bigint, paid: bigint, fee: bigint): { covered: bigint; fromPayout: bigint } {
  const covered = refundCover(payinBalance, paid, fee);
  return { covered, fromPayout: coverOf(payoutBalance, paid - fee - covered) };
}

function payoutPostings(event: PayoutEvent): Posting[] {
  const m = (kind: MerchantAccountKind) => merchant(event.merchantId, kind);
  requireNonNegative(event, { amount: event.amount, fee: event.fee });
  const total = event.amount + event.fee;
  switch (event.kind) {
    case 'payout.freeze':
      return [{ account: m('payout'), amount: -total }, { account: m('frozen'), amount: total }];
    case 'payout.paid':
      return [{ account: m('frozen'), amount: -total }, { account: platform('clearing'), amount: event.amount }, { account: platform('fees'), amount: event.fee }];
    case 'payout.released':
      return [{ account: m('frozen'), amount: -total }, { account: m('payout'), amount: total }];
    case 'payout.returned':
      return [{ account: platform('clearing'), amount: -event.amount }, { account: platform('fees'), amount: -event.fee }, { account: m('payout'), amount: total }];
  }
}

function operatorPostings(event: TransferEvent | AdjustEvent): Posting[] {
  if (event.kind === 'op.transfer') {
    if (event.amount <= 0n) throw new RangeError(`op.transfer: amount must be positive (got ${event.amount})`);
    if (event.from === event.to) throw new RangeError('op.transfer: from and to must differ');
    return [
      { account: merchant(event.merchantId, event.from), amount: -event.amount },
      { account: merchant(event.merchantId, event.to), amount: event.amount },
    ];
  }
  if (event.amount === 0n) throw new RangeError('op.adjust: amount must not be zero');
  return [
    { account: merchant(event.merchantId, event.account), amount: event.amount },
    { account: platform('adjustments'), amount: -event.amount },
  ];
}

/**
 * The postings of a business event. Zero-amount postings (a fee of 0) are left
 * out: they would move nothing. The result always sums to zero.
 */
export function postingsFor(event: LedgerEvent): Posting[] {
  return rawPostings(event).filter((p) => p.amount !== 0n);
}

function rawPostings(event: LedgerEvent): Posting[] {
  switch (event.kind) {
    case 'payin.paid':
    case 'payin.refunded':
      return payinPostings(event);
    case 'op.transfer':
    case 'op.adjust':
      return operatorPostings(event);
    default:
      return payoutPostings(event);
  }
}

export function sumOf(postings: readonly Posting[]): bigint {
  return postings.reduce((sum, p) => sum + p.amount, 0n);
}
