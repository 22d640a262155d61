import { AppError, badRequest, unprocessable } from '../../platform/errors.ts';
import type { Direction } from '../orders/order.ts';
import { findBank, isValidIfsc } from './banks.ts';
import type { BankKind, Country } from './banks.ts';
import { compactPhone, isValidBankAccount, isValidMobile, pixKeyType } from './beneficiary.ts';
import { isValidClabe } from './sandbox/clabe.ts';
import { asciiUpper } from '../../platform/ascii.ts';

/**
 * The method catalogue (spec section 5): what each `payMethod` is, where it is
 * valid, what `extra` it needs and which `params` a pay-in returns.
 */

/** Pay-in params besides `url`/`paymentLink`, which every pay-in has. */
export type ParamKind = 'clabe' | 'qrCode' | 'content' | 'deeplink' | 'vaBank' | 'vaNumber' | 'expireTime';

type PerDirection<T> = Readonly<Partial<Record<Direction, T>>>;

export interface MethodDef {
  code: string;
  country: Country;
  currency: string;
  label: string;
  directions: readonly Direction[];
  requiredExtra: PerDirection<readonly string[]>;
  /** Validated when present, never required. */
  optionalExtra: PerDirection<readonly string[]>;
  paramKinds: readonly ParamKind[];
  /** Which kinds of `extra.bankCode` the method can address. */
  bankKinds?: readonly BankKind[];
  /** PK_WALLET: the allowed `extra.payType` values. */
  payTypes?: readonly string[];
  /** Other names merchants send for it (country prefix optional as for codes). */
  aliases?: readonly string[];
  /** The most one pay-in can be, in minor units, where the method's own format bounds it. */
  payinMaxMinor?: bigint;
}

/**
 * An EMV QR code (QRIS, PIX, PromptPay, QR Ph) writes the amount in at most 13
 * characters (tag 54, two decimals): 9 999 999 999.99.
 */
const EMV_QR_MAX_MINOR = 999_999_999_999n;

export const CURRENCY_COUNTRY: Readonly<Record<string, Country>> = {
  MXN: 'MX',
  BRL: 'BR',
  INR: 'IN',
  IDR: 'ID',
  THB: 'TH',
  PHP: 'PH',
  PKR: 'PK',
  BDT: 'BD',
};

const BENEFICIARY = ['accountName', 'accountNo', 'bankCode'] as const;
const EXPIRING: readonly ParamKind[] = ['expireTime'];

function payin(code: string, currency: string, label: string, paramKinds: readonly ParamKind[], more: Partial<MethodDef> = {}): MethodDef {
  return {
    code,
    currency,
    country: CURRENCY_COUNTRY[currency]!,
    label,
    directions: ['payin'],
    requiredExtra: {},
    optionalExtra: {},
    paramKinds: [...paramKinds, ...EXPIRING],
    ...more,
  };
}

function payout(code: string, currency: string, label: string, bankKinds: readonly BankKind[]): MethodDef {
  return {
    code,
    currency,
    country: CURRENCY_COUNTRY[currency]!,
    label,
    directions: ['payout'],
    requiredExtra: { payout: BENEFICIARY },
    optionalExtra: {},
    paramKinds: [],
    bankKinds,
  };
}

export const CATALOGUE: readonly MethodDef[] = [
  payin('MX_SPEI', 'MXN', 'SPEI bank transfer', ['clabe'], {
    directions: ['payin', 'payout'],
    requiredExtra: { payout: ['accountName', 'accountNo'] },
    optionalExtra: { payout: ['bankCode'] },
  }),
  payin('BR_PIX', 'BRL', 'PIX', ['qrCode', 'content'], {
    directions: ['payin', 'payout'],
    payinMaxMinor: EMV_QR_MAX_MINOR,
    requiredExtra: { payout: ['accountName', 'accountNo'] },
  }),
  payin('IN_UPI', 'INR', 'UPI', ['deeplink', 'qrCode']),
  payout('IN_IMPS', 'INR', 'IMPS bank transfer', ['bank']),
  payin('ID_QRIS', 'IDR', 'QRIS', ['qrCode'], { payinMaxMinor: EMV_QR_MAX_MINOR }),
  payin('ID_VA', 'IDR', 'Bank virtual account', ['vaBank', 'vaNumber'], {
    optionalExtra: { payin: ['bankCode'] },
    bankKinds: ['bank'],
    aliases: ['VA'],
  }),
  payin('ID_DANA', 'IDR', 'DANA', ['deeplink']),
  payin('ID_OVO', 'IDR', 'OVO', ['content'], { optionalExtra: { payin: ['mobile'] } }),
  payin('ID_SHOPEEPAY', 'IDR', 'ShopeePay', ['deeplink']),
  payin('ID_GOPAY', 'IDR', 'GoPay', ['deeplink']),
  payin('ID_LINKAJA', 'IDR', 'LinkAja', ['deeplink']),
  payout('ID_DF', 'IDR', 'Bank or e-wallet disbursement', ['bank', 'wallet']),
  payin('PROMPTPAY', 'THB', 'PromptPay QR', ['qrCode'], { payinMaxMinor: EMV_QR_MAX_MINOR }),
  payout('TH_DF', 'THB', 'Bank or PromptPay transfer', ['bank', 'wallet']),
  payin('PH_GCASH', 'PHP', 'GCash', ['deeplink']),
  payin('PH_MAYA', 'PHP', 'Maya', ['deeplink'], { aliases: ['PAYMAYA'] }),
  payin('PH_GRAB', 'PHP', 'GrabPay', ['deeplink'], { aliases: ['GRABPAY'] }),
  payin('PH_QRIS', 'PHP', 'QR Ph', ['qrCode'], { aliases: ['QRPH'], payinMaxMinor: EMV_QR_MAX_MINOR }),
  payout('PH_DF_BANK', 'PHP', 'Bank transfer (InstaPay/PESONet)', ['bank']),
  payout('PH_DF_WALLET', 'PHP', 'E-wallet transfer', ['wallet']),
  payin('PK_WALLET', 'PKR', 'JazzCash / Easypaisa wallet', ['content'], {
    requiredExtra: { payin: ['payType', 'mobile'] },
    payTypes: ['PK_WALLET_JAZZCASH', 'PK_WALLET_EASYPAISA'],
  }),
  payout('PK_DF', 'PKR', 'Bank or wallet transfer', ['bank', 'wallet']),
  payin('BD_BKASH', 'BDT', 'bKash', ['deeplink'], { aliases: ['BKASH'] }),
  payin('BD_NAGAD', 'BDT', 'Nagad', ['deeplink']),
  payout('BD_DF', 'BDT', 'Bank or mobile wallet transfer', ['bank', 'wallet']),
];

/** A stored order's method, by exact code; undefined for codes not in the catalogue. */
export function findMethod(code: string): MethodDef | undefined {
  return CATALOGUE.find((m) => m.code === code);
}

export function methodsFor(currency: string, direction: Direction): MethodDef[] {
  const cur = asciiUpper(currency);
  return CATALOGUE.filter((m) => m.currency === cur && m.directions.includes(direction));
}

function normalizeName(s: string): string {
  return asciiUpper(s.trim()).replace(/[\s-]+/g, '_');
}

function withoutCountry(name: string, country: Country): string {
  return name.startsWith(`${country}_`) ? name.slice(country.length + 1) : name;
}

function matches(def: MethodDef, wanted: string): boolean {
  const w = withoutCountry(wanted, def.country);
  return [def.code, ...(def.aliases ?? [])].some((name) => withoutCountry(name, def.country) === w);
}

/**
 * The catalogue entry a merchant's `payMethod` names: case-insensitive, country
 * prefix optional, within the order's currency. Known elsewhere but not here
 * (other currency or direction) is a business refusal (422); unknown is a 400.
 */
export function resolveMethod(input: string, currency: string, direction: Direction): MethodDef {
  const wanted = normalizeName(input);
  if (wanted === '') throw badRequest('payMethod must not be empty');
  const shown = wanted.slice(0, 64);
  const cur = asciiUpper(currency.trim());
  const def = CATALOGUE.find((m) => m.currency === cur && matches(m, wanted));
  if (def === undefined) {
    const elsewhere = [...new Set(CATALOGUE.filter((m) => matches(m, wanted)).map((m) => m.currency))];
    if (elsewhere.length > 0) throw unprocessable(`payMethod ${shown} is for ${elsewhere.join(', ')}, not ${cur}`);
    throw badRequest(`payMethod ${shown} is not a known method`);
  }
  if (!def.directions.includes(direction)) {
    throw unprocessable(`payMethod ${def.code} is not available for ${direction}s`);
  }
  return def;
}

type Extra = Readonly<Record<string, string>>;
type Check = (def: MethodDef, value: string, extra: Extra) => void;

const CHECKS: Readonly<Record<string, Check>> = {
  accountName: (_def, v) => {
    if (v.trim().length > 128 || /\p{Cc}/u.test(v)) {
      throw badRequest('extra.accountName must be at most 128 characters, without control characters');
    }
  },
  bankCode: checkBankCode,
  accountNo: checkAccountNo,
  mobile: (def, v) => {
    if (!isValidMobile(def.country, v)) throw badRequest(`extra.mobile must be a ${def.country} mobile number`);
  },
  payType: (def, v) => {
    if (!def.payTypes?.includes(asciiUpper(v))) {
      throw badRequest(`extra.payType must be one of ${(def.payTypes ?? []).join(', ')}`);
    }
  },
};

// bankCode before accountNo: what an accountNo must look like depends on the bank.
const CHECK_ORDER = ['accountName', 'bankCode', 'accountNo', 'mobile', 'payType'] as const;

function checkBankCode(def: MethodDef, v: string): void {
  if (def.country === 'IN') {
    if (!isValidIfsc(asciiUpper(v))) throw badRequest('extra.bankCode must be an IFSC code (e.g. HDFC0001234)');
    return;
  }
  const bank = findBank(def.country, v);
  if (bank === undefined) throw badRequest(`extra.bankCode ${v.slice(0, 32)} is not a known ${def.country} bank code (the codes are listed in docs/methods.md)`);
  if (def.bankKinds !== undefined && !def.bankKinds.includes(bank.kind)) {
    throw badRequest(`extra.bankCode ${bank.code} is a ${bank.kind}; ${def.code} accepts ${def.bankKinds.join(' or ')} codes only`);
  }
}

function checkAccountNo(def: MethodDef, v: string, extra: Extra): void {
  switch (def.country) {
    case 'MX':
      return checkClabe(v, extra.bankCode);
    case 'BR':
      if (pixKeyType(v) === undefined) {
        throw badRequest('extra.accountNo must be a PIX key: CPF (11 digits), CNPJ (14 digits), e-mail, +55 phone or random key (UUID)');
      }
      return;
    case 'IN':
      if (!isValidBankAccount('IN', v)) throw badRequest('extra.accountNo must be a 9–18 digit account number');
      return;
    default:
      return checkDomesticAccount(def.country, v, extra.bankCode);
  }
}

function checkClabe(v: string, bankCode: string | undefined): void {
  if (!isValidClabe(v)) throw badRequest('extra.accountNo must be an 18-digit CLABE with a valid check digit');
  const bank = findBank('MX', v.slice(0, 3));
  if (bank === undefined) throw badRequest(`extra.accountNo: CLABE bank ${v.slice(0, 3)} is not a known SPEI participant`);
  if (present(bankCode) && findBank('MX', bankCode)?.code !== bank.code) {
    throw badRequest(`extra.bankCode does not match the CLABE's bank ${bank.code} (${bank.name})`);
  }
}

function checkDomesticAccount(country: Country, v: string, bankCode: string | undefined): void {
  const bank = present(bankCode) ? findBank(country, bankCode) : undefined;
  if (bank?.kind === 'wallet') {
    // A PromptPay proxy is a mobile number or a 13-digit national / tax ID.
    const ok = isValidMobile(country, v) || (bank.code === 'PROMPTPAY' && /^\d{13}$/.test(v));
    if (!ok) throw badRequest(`extra.accountNo must be the ${bank.code} account's mobile number`);
    return;
  }
  if (!isValidBankAccount(country, v)) throw badRequest(`extra.accountNo is not a valid ${country} bank account number`);
}

function present(v: unknown): v is string {
  return typeof v === 'string' && v.trim() !== '';
}

/**
 * Checks the `extra` a method needs in a direction: required members present
 * (non-blank strings), and every declared member that is present well-formed.
 * Members the method does not declare are ignored (merchants send extras such
 * as email to every method).
 */
export function validateExtra(def: MethodDef, direction: Direction, extra: Record<string, string> | undefined): void {
  const values: Extra = extra ?? {};
  const required = def.requiredExtra[direction] ?? [];
  const declared = new Set([...required, ...(def.optionalExtra[direction] ?? [])]);
  for (const field of declared) {
    const v: unknown = values[field];
    if (v !== undefined && v !== null && typeof v !== 'string') throw badRequest(`extra.${field} must be a string`);
  }
  for (const field of required) {
    if (!present(values[field])) throw badRequest(`extra.${field} is required for ${def.code} ${direction}s`);
  }
  for (const field of CHECK_ORDER) {
    const v = values[field];
    if (declared.has(field) && present(v)) CHECKS[field]!(def, v, values);
  }
}

/** Whether `extra` (an order's, as stored) has what `def` needs in this direction: validateExtra without the error. */
export function extraSuits(def: MethodDef, direction: Direction, extra: Record<string, string> | undefined): boolean {
  try {
    validateExtra(def, direction, extra);
    return true;
  } catch (err) {
    if (err instanceof AppError) return false;
    throw err;
  }
}

/** The canonical form of a validated `extra.bankCode` (uppercase, aliases resolved), for channels. */
export function canonicalBankCode(def: MethodDef, code: string): string {
  if (def.country === 'IN') return asciiUpper(code.trim());
  return findBank(def.country, code)?.code ?? asciiUpper(code.trim());
}

/**
 * A validated `extra` as a channel gets it: `bankCode` in its canonical form,
 * and phone numbers (`mobile`, and the `accountNo` of a wallet), which the
 * checks accept with spaces, dots, dashes and brackets, without them. The
 * order keeps what the merchant sent.
 */
export function channelExtra(def: MethodDef, extra: Record<string, string> | null): Record<string, string> | null {
  if (!extra) return null;
  const out = { ...extra };
  const wallet = present(out.bankCode) && findBank(def.country, out.bankCode)?.kind === 'wallet';
  if (present(out.bankCode)) out.bankCode = canonicalBankCode(def, out.bankCode);
  if (present(out.mobile)) out.mobile = compactPhone(out.mobile);
  if (present(out.accountNo) && wallet) out.accountNo = compactPhone(out.accountNo);
  return out;
}
