import { badRequest } from '../platform/errors.ts';
import { currencyInfo } from '../platform/money.ts';
import { asciiUpper } from '../platform/ascii.ts';

/** A `--currency` option: an ISO 4217 code, any case, surrounding spaces ignored. */
export function parseCurrencyOption(text: string): string {
  const currency = asciiUpper(text.trim());
  if (!currencyInfo(currency)) throw badRequest(`currency: ${JSON.stringify(text)} is not an ISO 4217 currency`);
  return currency;
}
