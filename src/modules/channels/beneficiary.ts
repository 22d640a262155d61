import type { Country } from './banks.ts';

/**
 * Format rules for what merchants put in `extra`: mobile numbers, bank account
 * numbers, PIX keys. Pure predicates; `validateExtra` (catalogue.ts) turns a
 * false into a 400 naming the field.
 */

// National formats with the country code or the trunk 0; separators are
// stripped first because merchants paste numbers the way people write them.
const MOBILE: Readonly<Record<Country, RegExp>> = {
  ID: /^(?:\+?62|0)8\d{7,11}$/,
  TH: /^(?:\+?66|0)[689]\d{8}$/,
  PH: /^(?:\+?63|0)9\d{9}$/,
  PK: /^(?:\+?92|0)3\d{9}$/,
  BD: /^(?:\+?880|0)1[3-9]\d{8}$/,
  IN: /^(?:\+?91)?[6-9]\d{9}$/,
  MX: /^(?:\+?52)?\d{10}$/,
  BR: /^(?:\+?55)?\d{10,11}$/,
};

/** A phone number without the spaces, dots, dashes and brackets people write in it. */
export function compactPhone(s: string): string {
  return s.replace(/[\s().-]/g, '');
}

export function isValidMobile(country: Country, s: string): boolean {
  return MOBILE[country].test(compactPhone(s));
}

// Domestic account numbers vary by bank; these bound what any bank of the
// country issues, which is all a gateway can check without the bank.
const ACCOUNT: Readonly<Record<Country, RegExp>> = {
  ID: /^\d{6,20}$/,
  TH: /^\d{10,15}$/,
  PH: /^\d{8,16}$/,
  PK: /^\d{8,20}$/,
  BD: /^\d{8,20}$/,
  IN: /^\d{9,18}$/,
  MX: /^\d{18}$/,
  BR: /^\d{4,20}$/,
};

export function isValidBankAccount(country: Country, s: string): boolean {
  if (country === 'PK' && s.startsWith('PK')) return isValidIban(s, 'PK', 24);
  return ACCOUNT[country].test(s);
}

/** ISO 13616 IBAN of a given country and length, checked with mod 97. */
export function isValidIban(s: string, country: string, length: number): boolean {
  if (s.length !== length || !s.startsWith(country) || !/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(s)) return false;
  const rearranged = s.slice(4) + s.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const value = ch >= 'A' ? ch.charCodeAt(0) - 55 : Number(ch);
    remainder = Number(String(remainder) + String(value)) % 97;
  }
  return remainder === 1;
}

export type PixKeyType = 'cpf' | 'cnpj' | 'email' | 'phone' | 'evp';

function allSame(digits: string): boolean {
  return /^(\d)\1*$/.test(digits);
}

function mod11Digit(digits: string, weights: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) sum += Number(digits[i]) * weights[i]!;
  const r = sum % 11;
  return r < 2 ? 0 : 11 - r;
}

export function isValidCpf(s: string): boolean {
  if (!/^\d{11}$/.test(s) || allSame(s)) return false;
  const d1 = mod11Digit(s, [10, 9, 8, 7, 6, 5, 4, 3, 2]);
  const d2 = mod11Digit(s, [11, 10, 9, 8, 7, 6, 5, 4, 3, 2]);
  return s.endsWith(`${d1}${d2}`);
}

export function isValidCnpj(s: string): boolean {
  if (!/^\d{14}$/.test(s) || allSame(s)) return false;
  const d1 = mod11Digit(s, [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]);
  const d2 = mod11Digit(s, [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]);
  return s.endsWith(`${d1}${d2}`);
}

const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$/;
const EVP = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The kind of a PIX key as the DICT registers it: CPF/CNPJ as bare digits with
 * valid check digits, e-mail (≤ 77), phone as +55 + area code + number, or the
 * random key (EVP, a UUID). Undefined when it is none of them.
 */
export function pixKeyType(key: string): PixKeyType | undefined {
  if (isValidCpf(key)) return 'cpf';
  if (isValidCnpj(key)) return 'cnpj';
  if (/^\+55\d{10,11}$/.test(key)) return 'phone';
  if (EVP.test(key)) return 'evp';
  if (key.length <= 77 && EMAIL.test(key)) return 'email';
  return undefined;
}
