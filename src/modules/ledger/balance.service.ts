import type { Db } from '../../platform/db/database.ts';
import { badRequest, unprocessable } from '../../platform/errors.ts';
import { currencyInfo } from '../../platform/money.ts';
import { merchantCurrencies } from '../merchants/merchant.service.ts';
import { committedBalances } from './ledger.service.ts';
import { asciiUpper } from '../../platform/ascii.ts';

export interface Balance {
  currency: string;
  /** Collected funds. */
  payin: bigint;
  /** Available for payouts. */
  payout: bigint;
  /** Frozen by payouts in flight. */
  frozen: bigint;
  /** What the merchant owes: refunds its balances could not cover, repaid from its next payments. */
  owed: bigint;
}

export type CurrenciesOf = (merchantId: string) => Promise<{ defaultCurrency: string; currencies: string[] }>;

/** Which currency a balance request means: the one asked for, or the merchant's default. */
export async function resolveBalanceCurrency(currenciesOf: CurrenciesOf, merchantId: string, asked: string | undefined): Promise<string> {
  const { defaultCurrency, currencies } = await currenciesOf(merchantId);
  if (asked === undefined || asked === '') return defaultCurrency;
  const code = asciiUpper(asked);
  if (!currencyInfo(code)) throw badRequest(`currency: ${asked} is not an ISO 4217 currency`);
  if (!currencies.includes(code)) throw unprocessable(`currency: ${code} is not enabled for this merchant`);
  return code;
}

/**
 * The merchant's balances in one currency, read from its ledger accounts (0 for
 * accounts never used). `currenciesOf` lets the hot path use a cached copy of the
 * merchant's currencies; the balances themselves are always read fresh.
 */
export async function getBalance(db: Db, merchantId: string, asked: string | undefined, currenciesOf: CurrenciesOf = (id) => merchantCurrencies(db, id)): Promise<Balance> {
  const currency = await resolveBalanceCurrency(currenciesOf, merchantId, asked);
  return { currency, ...(await committedBalances(db, merchantId, currency)) };
}
