/**
 * Exact money. Inside the gateway an amount is a `bigint` of minor units; it is
 * parsed from, and rendered to, decimal TEXT in major units. No floating point
 * ever carries an amount: the JSON parser keeps the source token of every number
 * (see json.ts) and that text, not the double, is what is parsed here.
 */
import { badRequest } from './errors.ts';
import { ExactNumber } from './exact-number.ts';

export interface CurrencyInfo {
  readonly code: string;
  readonly minorUnits: number;
}

export interface AmountOptions {
  /** Field name used in error details; default `amount`. */
  field?: string;
  allowZero?: boolean;
  allowNegative?: boolean;
  /**
   * A business cap on decimals below the currency's own minor units (the
   * contract caps order amounts at 2 even for 3-decimal dinars). Storage stays in
   * the currency's minor units.
   */
  maxDecimals?: number;
}

/**
 * Largest accepted magnitude, in minor units: 15 digits, so that every amount
 * accepted comes back exact as a JSON number (a double keeps 15 significant
 * decimal digits; see toMajorNumber). A balance is a sum of them: it can pass
 * 15 digits (written exactly, see exact-number.ts), and a posting that would
 * take it past a 64-bit column is refused (migration 0010).
 * 9 999 999 999 999.99 in a 2-decimal currency.
 */
export const MAX_MINOR = 999_999_999_999_999n;

/**
 * ISO 4217 active codes by minor units (List One; funds codes included; precious
 * metals, SDR and other codes without minor units excluded since nothing is
 * paid in them). Codes being withdrawn (ANG, BGN, CUC, SLL, ZWL) are kept while
 * money in them may still be in flight.
 */
const CODES_BY_MINOR_UNITS: Readonly<Record<number, string>> = {
  0: 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF',
  2:
    'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD ' +
    'BTN BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD ' +
    'EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR ' +
    'IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP ' +
    'MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN ' +
    'QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL ' +
    'THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ' +
    'ZMW ZWG ZWL',
  3: 'BHD IQD JOD KWD LYD OMR TND',
  4: 'CLF UYW',
};

const CURRENCIES: ReadonlyMap<string, CurrencyInfo> = buildTable();

function buildTable(): Map<string, CurrencyInfo> {
  const table = new Map<string, CurrencyInfo>();
  for (const [units, codes] of Object.entries(CODES_BY_MINOR_UNITS)) {
    for (const code of codes.split(' ')) {
      table.set(code, Object.freeze({ code, minorUnits: Number(units) }));
    }
  }
  return table;
}

/** Exact uppercase ISO code only; callers normalise user input first. */
export function currencyInfo(code: string): CurrencyInfo | undefined {
  return CURRENCIES.get(code);
}

/** Every known code, sorted; for listings and pickers. */
export function currencyCodes(): string[] {
  return [...CURRENCIES.keys()].sort();
}

const DECIMAL = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

/**
 * Parses an amount in major units into minor units.
 *
 * `value` is what json.ts produced: a string (parsed verbatim), or a number whose
 * exact source text is `rawToken` (from `rawNumberText`). A number without its
 * token is accepted only when it is a safe integer, whose text is unambiguous.
 */
export function parseAmount(value: unknown, rawToken: string | undefined, currency: string, opts: AmountOptions = {}): bigint {
  const field = opts.field ?? 'amount';
  const info = currencyInfo(currency);
  if (!info) throw badRequest(`${field}: unknown currency ${JSON.stringify(currency)}`);
  const text = amountText(value, rawToken, field);
  const m = DECIMAL.exec(text);
  if (!m) throw badRequest(`${field}: must be a plain decimal number like 100 or 12.50 (no exponent, sign or leading zeros)`);
  const [, minus = '', intPart = '', fraction = ''] = m;
  // Any minus sign, even on zero, is refused unless negatives are allowed.
  if (minus && !opts.allowNegative) throw badRequest(negativeDetail(field, opts));
  const decimals = fraction.replace(/0+$/, '');
  const allowed = Math.min(info.minorUnits, opts.maxDecimals ?? Infinity);
  if (decimals.length > allowed) throw badRequest(decimalsDetail(field, allowed, info.code));
  // Long integer parts are refused before BigInt sees them: cheap and bounded.
  if (intPart.length > String(MAX_MINOR).length) throw badRequest(`${field}: is too large`);
  const magnitude = BigInt(intPart + decimals.padEnd(info.minorUnits, '0'));
  return checkRange(minus === '-' ? -magnitude : magnitude, field, opts);
}

/** CLI convenience: "100.50", "-5"; same rules as a string value. */
export function parseMajorText(text: string, currency: string, opts: AmountOptions = {}): bigint {
  return parseAmount(text, undefined, currency, opts);
}

function amountText(value: unknown, rawToken: string | undefined, field: string): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'number') throw badRequest(`${field}: must be a number or a numeric string`);
  if (rawToken === undefined) {
    if (Number.isSafeInteger(value)) return String(value);
    throw badRequest(`${field}: must be a plain decimal number like 100 or 12.50`);
  }
  // A token that does not denote the value means the caller mixed up members.
  if (Number(rawToken) !== value) throw new Error(`raw token ${rawToken} does not match value ${value}`);
  return rawToken;
}

function negativeDetail(field: string, opts: AmountOptions): string {
  return opts.allowZero ? `${field}: must not be negative` : `${field}: must be greater than 0`;
}

function decimalsDetail(field: string, allowed: number, code: string): string {
  if (allowed === 0) return `${field}: must be a whole number for ${code}`;
  return `${field}: must be a number of at most ${allowed} decimal${allowed === 1 ? '' : 's'} for ${code}`;
}

function checkRange(minor: bigint, field: string, opts: AmountOptions): bigint {
  if (minor > MAX_MINOR || minor < -MAX_MINOR) throw badRequest(`${field}: is too large`);
  if (minor === 0n && !opts.allowZero) throw badRequest(opts.allowNegative ? `${field}: must not be 0` : `${field}: must be greater than 0`);
  return minor;
}

/**
 * Shortest exact decimal text in major units: "12.5", "100", "-0.01"; with
 * `fixed`, every minor digit of the currency, as people read prices: "12.50", "100.00".
 */
export function formatMajor(minor: bigint, currency: string, fixed = false): string {
  const { minorUnits } = requireCurrency(currency);
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString();
  if (minorUnits === 0) return negative ? `-${digits}` : digits;
  const padded = digits.padStart(minorUnits + 1, '0');
  const intPart = padded.slice(0, -minorUnits);
  const fraction = fixed ? padded.slice(-minorUnits) : padded.slice(-minorUnits).replace(/0+$/, '');
  const text = fraction ? `${intPart}.${fraction}` : intPart;
  return negative ? `-${text}` : text;
}

/**
 * The JSON number for an amount, at the output edge only. Exact (String of the
 * result equals formatMajor) whenever the decimal has at most 15 significant
 * digits, i.e. for every |minor| < 10^15; larger amounts of currencies with minor
 * units may come out as the nearest double.
 */
export function toMajorNumber(minor: bigint, currency: string): number {
  return Number(formatMajor(minor, currency));
}

/** The JSON number for a sum that may exceed 15 significant digits (a balance): exact, written by stringifyJson. */
export function toMajorExact(minor: bigint, currency: string): ExactNumber {
  return new ExactNumber(formatMajor(minor, currency));
}

function requireCurrency(code: string): CurrencyInfo {
  const info = currencyInfo(code);
  // Amounts are only ever stored with a validated currency: this is a bug.
  if (!info) throw new RangeError(`unknown currency ${JSON.stringify(code)}`);
  return info;
}
