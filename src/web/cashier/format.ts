import type { Lang } from './i18n.ts';

/**
 * Display rules of the cashier: amounts, digit groups, countdowns and which
 * links the page may render.
 */

interface Separators {
  group: string;
  decimal: string;
}

// Spanish follows Mexico (1,250.50), not Spain (1.250,50): MXN is the only
// Spanish-speaking market of the catalogue. Portuguese follows Brazil.
const SEPARATORS: Readonly<Record<Lang, Separators>> = {
  en: { group: ',', decimal: '.' },
  es: { group: ',', decimal: '.' },
  pt: { group: '.', decimal: ',' },
  id: { group: '.', decimal: ',' },
};

/**
 * "1250.50" → "1,250.50" (en) or "1.250,50" (pt), by splitting the text:
 * the amount is exact and must never pass through a float. The digits are the
 * caller's (every minor digit of the currency, see formatMajor). Text that is
 * not a plain decimal is shown as it is.
 */
export function formatAmount(amountText: string, lang: Lang): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(amountText.trim());
  if (m === null) return amountText;
  const { group, decimal } = SEPARATORS[lang];
  const int = (m[2] ?? '').replace(/\B(?=(\d{3})+(?!\d))/g, group);
  const frac = m[3] === undefined ? '' : decimal + m[3];
  return `${m[1] ?? ''}${int}${frac}`;
}

/** Splits a long number for reading aloud or retyping: "012180", [3,3] → "012 180". */
export function groupDigits(value: string, sizes: readonly number[]): string {
  const parts: string[] = [];
  let at = 0;
  for (const size of sizes) {
    if (at >= value.length) break;
    parts.push(value.slice(at, at + size));
    at += size;
  }
  if (at < value.length) parts.push(value.slice(at));
  return parts.join(' ');
}

// CLABE = bank (3) + plaza (3) + account (11) + check digit (1); the account
// is split further so every group can be read at a glance.
export const CLABE_GROUPS: readonly number[] = [3, 3, 4, 4, 4];

export function groupVa(value: string): string {
  return /^\d+$/.test(value) ? groupDigits(value, Array<number>(Math.ceil(value.length / 4)).fill(4)) : value;
}

export function groupClabe(value: string): string {
  return /^\d{18}$/.test(value) ? groupDigits(value, CLABE_GROUPS) : value;
}

/** "mm:ss", or "h:mm:ss" from an hour up; the same rule as the page script. */
export function formatRemaining(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mmss = `${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  return h > 0 ? `${h}:${mmss}` : mmss;
}

// Schemes of the wallet and UPI apps our methods hand over to. A deeplink comes
// from a channel (an upstream provider), so it is data, not trusted markup:
// javascript:, data:, file: and unknown schemes are never rendered.
const APP_SCHEMES: ReadonlySet<string> = new Set([
  'upi', 'phonepe', 'paytmmp', 'tez', 'gpay',
  'gojek', 'shopeeid', 'dana', 'ovo', 'linkaja',
  'gcash', 'paymaya', 'grab',
  'bkash', 'nagad',
  'jazzcash', 'easypaisa',
]);

// The URL parser silently strips tabs, newlines and edge spaces ("java\tscript:"
// parses as javascript:); refusing them keeps what we check equal to what we render.
function hasControlOrSpace(url: string): boolean {
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c <= 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

function parseUrl(url: string): URL | null {
  if (url.length > 4096 || hasControlOrSpace(url)) return null;
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/** The deeplink when its scheme is https or a known app's; null otherwise. */
export function safeDeeplink(url: string): string | null {
  const parsed = parseUrl(url);
  if (parsed === null) return null;
  const scheme = parsed.protocol.slice(0, -1);
  return scheme === 'https' || APP_SCHEMES.has(scheme) ? url : null;
}

/** The link when it is an absolute http(s) URL; null otherwise. */
export function safeHttpUrl(url: string): string | null {
  const parsed = parseUrl(url);
  if (parsed === null) return null;
  return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? url : null;
}
