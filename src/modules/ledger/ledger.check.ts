/**
 * Reconciliation: proves the ledger to the cent. Each invariant is one
 * set-based query (see ledger.check.repository.ts); this file says what is
 * expected and words what is wrong.
 */
import type { Db } from '../../platform/db/database.ts';
import { ORDER_ENTRY_KINDS, postingsFor, SPLIT_POSTINGS, UNGUARDED_MERCHANT_KINDS, type LedgerEvent, type OrderEntryKind } from './ledger.ts';
import * as repo from './ledger.check.repository.ts';

/** The entries an order in each status must have (a REFUNDED pay-in: only if it was ever PAID). */
export const EXPECTED_ORDER_ENTRIES: readonly repo.ExpectedKind[] = [
  { direction: 'payin', status: 'PAID', kind: 'payin.paid' },
  { direction: 'payin', status: 'REFUNDED', kind: 'payin.paid' },
  { direction: 'payin', status: 'REFUNDED', kind: 'payin.refunded' },
  ...['CREATED', 'PENDING', 'EXCEPTION', 'PAID', 'FAILED', 'REFUNDED'].map((status) => ({ direction: 'payout', status, kind: 'payout.freeze' })),
  { direction: 'payout', status: 'PAID', kind: 'payout.paid' },
  { direction: 'payout', status: 'FAILED', kind: 'payout.released' },
  { direction: 'payout', status: 'REFUNDED', kind: 'payout.paid' },
  { direction: 'payout', status: 'REFUNDED', kind: 'payout.returned' },
];

function eventOf(kind: OrderEntryKind, paid: bigint, fee: bigint, amount: bigint): LedgerEvent {
  if (kind === 'payin.paid' || kind === 'payin.refunded') return { kind, merchantId: 'x', paid, fee };
  return { kind, merchantId: 'x', amount, fee };
}

function movement(kind: OrderEntryKind, paid: bigint, fee: bigint, amount: bigint): Map<string, bigint> {
  const moved = new Map<string, bigint>();
  for (const p of postingsFor(eventOf(kind, paid, fee, amount))) moved.set(p.account.kind, (moved.get(p.account.kind) ?? 0n) + p.amount);
  return moved;
}

/**
 * The order rules as coefficients (account delta = cp·paid + cf·fee + ca·amount),
 * read off `postingsFor` itself, which is linear in the amounts, so the check
 * and the posting code cannot disagree about what an entry should move.
 */
export function ruleCoefficients(): repo.RuleCoefficient[] {
  const out: repo.RuleCoefficient[] = [];
  for (const kind of ORDER_ENTRY_KINDS) {
    // Probes valid for every rule (fee ≤ paid): f(1,0,0), f(1,1,0), f(0,0,1).
    const base = movement(kind, 1n, 0n, 0n);
    const withFee = movement(kind, 1n, 1n, 0n);
    const withAmount = movement(kind, 0n, 0n, 1n);
    const accounts = new Set([...base.keys(), ...withFee.keys(), ...withAmount.keys()]);
    for (const account of accounts) {
      const cp = base.get(account) ?? 0n;
      out.push({ kind, account, cp, cf: (withFee.get(account) ?? 0n) - cp, ca: withAmount.get(account) ?? 0n });
    }
  }
  return out;
}

/**
 * The accounts a rule splits at posting time (`SPLIT_POSTINGS`), checked by
 * their sum: a refund's payin + receivable postings together must move
 * −(paid − fee), however the payin balance of the moment divided them.
 */
export function accountGroups(): repo.AccountGroup[] {
  return SPLIT_POSTINGS.flatMap(({ kind, accounts }) => accounts.map((account) => ({ kind, account, label: accounts.join('+') })));
}

/** Every invariant that fails, in words; empty when the ledger is consistent. */
export async function checkLedger(db: Db): Promise<string[]> {
  const problems: string[] = [];
  for (const r of await repo.unbalancedEntries(db)) problems.push(`entry ${r.id}: postings sum to ${r.total}, not 0`);
  for (const r of await repo.currencyMismatches(db)) {
    problems.push(`posting ${r.posting_id}: account ${r.account_id} is in ${r.account_currency}, its entry in ${r.entry_currency}`);
  }
  const inexact = await repo.inexactBalances(db);
  for (const r of inexact) problems.push(`account ${r.id}: balance stored inexactly (${r.balance}), past ±2^63 minor units (by a version before migration 0010)`);
  // Such an account's postings sum past what SQLite's sum() can hold: it would fail rather than report.
  if (inexact.length === 0) for (const r of await repo.staleBalances(db)) problems.push(`account ${r.id}: balance ${r.balance} but its postings sum to ${r.total}`);
  for (const r of await repo.guardViolations(db, UNGUARDED_MERCHANT_KINDS)) {
    problems.push(r.non_negative === 0n ? `account ${r.id}: a merchant account is not guarded against going negative` : `account ${r.id}: negative balance ${r.balance}`);
  }
  for (const r of await repo.orphanEntries(db)) problems.push(`entry ${r.id}: order ${r.order_no} does not exist`);
  for (const r of await repo.misnamedOrderEntries(db, ORDER_ENTRY_KINDS)) {
    problems.push(`entry ${r.id}: a ${r.kind} entry must be named ${r.kind}:<orderNo> (order ${r.order_no ?? 'missing'})`);
  }
  for (const r of await repo.orderEntryMismatches(db, EXPECTED_ORDER_ENTRIES)) {
    problems.push(`order ${r.order_no} (${r.direction} ${r.status}): ${r.expected} ${r.kind} entr${r.expected === 1n ? 'y' : 'ies'} expected, ${r.found} found`);
  }
  for (const r of await repo.orderAmountMismatches(db, ruleCoefficients(), accountGroups())) {
    problems.push(`entry ${r.entry_id}: moves ${r.account} by ${r.found}, its order implies ${r.expected}`);
  }
  return problems;
}
