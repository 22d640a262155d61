import ipaddr from 'ipaddr.js';
import { badRequest } from '../../platform/errors.ts';
import type { Scope } from '../../platform/http/auth.ts';
import { currencyInfo } from '../../platform/money.ts';
import { asciiUpper } from '../../platform/ascii.ts';
import { NOT_ONE_LINE, PILED_MARKS, showsNothing } from '../../platform/text.ts';

export type AckMode = 'strict' | 'any-2xx';
export const ACK_MODES: readonly AckMode[] = ['strict', 'any-2xx'];
export const SCOPES: readonly Scope[] = ['payin', 'payout'];

const HEX32 = /^[0-9a-f]{32}$/;

export interface NewMerchant {
  name: string;
  currencies: string[];
}

export function parseScopes(text: string): Scope[] {
  const parts = [...new Set(text.split(',').map((s) => s.trim()).filter(Boolean))];
  if (parts.length === 0) throw badRequest('scope: give payin, payout or payin,payout');
  for (const p of parts) {
    if (!SCOPES.includes(p as Scope)) throw badRequest(`scope: "${p}" is not payin or payout`);
  }
  return SCOPES.filter((s) => parts.includes(s));
}

export function parseCurrencies(text: string): string[] {
  const codes = [...new Set(text.split(',').map((s) => asciiUpper(s.trim())).filter(Boolean))];
  if (codes.length === 0) throw badRequest('currencies: at least one ISO 4217 code is required');
  for (const code of codes) {
    if (!currencyInfo(code)) throw badRequest(`currencies: ${code} is not an ISO 4217 currency`);
  }
  return codes;
}

export function parseMerchantName(name: string): string {
  const trimmed = name.trim();
  const length = Array.from(trimmed).length;
  if (length < 1 || length > 128 || showsNothing(trimmed)) throw badRequest('name: 1 to 128 characters, not all blank');
  // It is printed on operators' terminals and the cashier page.
  if (NOT_ONE_LINE.test(trimmed)) throw badRequest('name: must not contain control or format characters, or line breaks');
  if (PILED_MARKS.test(trimmed)) throw badRequest('name: must not pile combining marks on one character');
  return trimmed;
}

/** Imported credentials keep the Starpago shape: 32 lowercase hex chars each. */
export function checkCredential(field: 'appId' | 'appSecret', value: string): string {
  if (!HEX32.test(value)) throw badRequest(`${field}: must be 32 lowercase hex characters`);
  return value;
}

export function parseIpAllowList(text: string): string[] | null {
  const entries = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (entries.length === 0) return null;
  for (const entry of entries) {
    const ok = entry.includes('/') ? isCidr(entry) : ipaddr.isValid(entry);
    if (!ok) throw badRequest(`ip-allow: "${entry}" is not an IP address or CIDR`);
  }
  return entries;
}

function isCidr(entry: string): boolean {
  try {
    ipaddr.parseCIDR(entry);
    return true;
  } catch {
    return false;
  }
}

export function parseAckMode(text: string): AckMode {
  if (!ACK_MODES.includes(text as AckMode)) throw badRequest('ack: strict or any-2xx');
  return text as AckMode;
}

/** A secret stays valid until its expiry; null means it has not been rotated out. */
export function isSecretValid(expiresAt: bigint | null, now: number): boolean {
  return expiresAt === null || BigInt(now) < expiresAt;
}
