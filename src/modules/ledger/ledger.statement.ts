/**
 * A merchant's daily statement as CSV: one row per journal entry that moved
 * one of its balances that UTC day, then a totals row.
 */
import type { Db } from '../../platform/db/database.ts';
import { badRequest, unprocessable } from '../../platform/errors.ts';
import { currencyInfo, formatMajor } from '../../platform/money.ts';
import { merchantCurrencies } from '../merchants/merchant.service.ts';
import { statementRows, type StatementRow } from './ledger.repository.ts';

export type { StatementRow } from './ledger.repository.ts';

export const STATEMENT_COLUMNS = ['time', 'entry', 'kind', 'orderNo', 'merOrderNo', 'reference', 'reason', 'payin', 'payout', 'frozen', 'receivable'] as const;

const DAY_MS = 86_400_000;
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV field (RFC 4180 quoting, `\n` line ends): quoted when it holds a quote, comma or line break.
 * A text cell starting like a formula (= + - @, tab, CR) gets a leading `'` so a
 * spreadsheet shows it instead of running it; amounts are written by us and
 * pass `numeric` to keep their minus sign.
 */
export function csvField(value: string, numeric = false): string {
  const safe = !numeric && FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function csvLine(cells: readonly { value: string; numeric?: boolean }[]): string {
  return cells.map((c) => csvField(c.value, c.numeric)).join(',') + '\n';
}

/** Midnight UTC of a `YYYY-MM-DD` day, refusing impossible dates. */
export function dayStartUtc(day: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== day) throw badRequest(`date: ${day} is not a YYYY-MM-DD day`);
  return ms;
}

export interface StatementTotals {
  payin: bigint;
  payout: bigint;
  frozen: bigint;
  receivable: bigint;
}

export function totalsOf(rows: readonly StatementTotals[]): StatementTotals {
  return rows.reduce(
    (t, r) => ({ payin: t.payin + r.payin, payout: t.payout + r.payout, frozen: t.frozen + r.frozen, receivable: t.receivable + r.receivable }),
    { payin: 0n, payout: 0n, frozen: 0n, receivable: 0n },
  );
}

/** Renders statement rows (pure): header, one line per entry, totals. */
export function renderStatement(rows: readonly StatementRow[], currency: string): string {
  const money = (v: bigint) => ({ value: formatMajor(v, currency), numeric: true });
  const text = (v: string | null) => ({ value: v ?? '' });
  let out = csvLine(STATEMENT_COLUMNS.map((c) => ({ value: c })));
  for (const r of rows) {
    out += csvLine([
      text(new Date(Number(r.created_at)).toISOString()),
      text(r.id),
      text(r.kind),
      text(r.order_no),
      text(r.mer_order_no),
      text(r.reference),
      text(r.reason),
      money(r.payin),
      money(r.payout),
      money(r.frozen),
      money(r.receivable),
    ]);
  }
  const totals = totalsOf(rows);
  out += csvLine([text('TOTAL'), text(`${rows.length} entries`), text(''), text(''), text(''), text(''), text(''), money(totals.payin), money(totals.payout), money(totals.frozen), money(totals.receivable)]);
  return out;
}

/** The entries that moved the merchant's balances in one currency on one UTC day, oldest first. */
export async function statementEntries(db: Db, merchantId: string, dayUtc: string, currency: string): Promise<StatementRow[]> {
  if (!currencyInfo(currency)) throw badRequest(`currency: ${currency} is not an ISO 4217 currency`);
  // 404 for an unknown merchant, 422 for a currency it does not have (as balance show): never an empty statement that looks like a quiet day.
  const { currencies } = await merchantCurrencies(db, merchantId);
  if (!currencies.includes(currency)) throw unprocessable(`currency: ${currency} is not enabled for merchant ${merchantId}`);
  const from = dayStartUtc(dayUtc);
  return statementRows(db, merchantId, currency, from, from + DAY_MS);
}

/** The merchant's statement for one UTC day in one currency, as CSV text. */
export async function merchantStatement(db: Db, merchantId: string, dayUtc: string, currency: string): Promise<string> {
  return renderStatement(await statementEntries(db, merchantId, dayUtc, currency), currency);
}
