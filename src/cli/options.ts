import { badRequest } from '../platform/errors.ts';
import { currencyInfo } from '../platform/money.ts';

/** A `--currency` option: an ISO 4217 code, any case, surrounding spaces ignored. */
export function parseCurrencyOption(text: string): string {
  const currency = text.trim().toUpperCase();
  if (!currencyInfo(currency)) throw badRequest(`currency: ${JSON.stringify(text)} is not an ISO 4217 currency`);
  return currency;
}
