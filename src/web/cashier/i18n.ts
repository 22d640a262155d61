import { MESSAGES } from './messages.ts';
import type { Messages } from './messages.ts';

/** Languages of the cashier page: which one a request gets, and its strings. */

export type Lang = 'en' | 'es' | 'pt' | 'id';

export const LANGS: readonly Lang[] = ['en', 'es', 'pt', 'id'];

export type OrderStatus = 'CREATED' | 'PENDING' | 'PAID' | 'FAILED' | 'EXPIRED' | 'REFUNDED' | 'EXCEPTION';

export type { Messages };

export function messages(lang: Lang): Messages {
  return MESSAGES[lang];
}

// Primary subtags we serve; "in" is the pre-1989 code for Indonesian that old
// Android builds still send.
const PRIMARY: Readonly<Record<string, Lang>> = { en: 'en', es: 'es', pt: 'pt', id: 'id', in: 'id' };

const TAG = /^(?:\*|[a-z]{1,8}(?:-[a-z0-9]{1,8})*)$/;
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;
// The header is attacker-controlled; bound the work spent on it.
const MAX_HEADER = 1024;
const MAX_RANGES = 32;

interface Range {
  tag: string;
  q: number;
}

function parseRange(part: string): Range | null {
  const [rawTag, ...params] = part.split(';').map((s) => s.trim());
  const tag = (rawTag ?? '').toLowerCase();
  if (!TAG.test(tag)) return null;
  let q = 1;
  for (const p of params) {
    const m = /^q\s*=\s*(.*)$/i.exec(p);
    if (m === null) continue; // other parameters are legal and meaningless here
    if (!QVALUE.test(m[1] ?? '')) return null;
    q = Number(m[1]);
  }
  return { tag, q };
}

/**
 * The best language for an `Accept-Language` header (RFC 9110 §12.5.4):
 * highest q first, header order among equals; ranges we cannot parse are
 * skipped, and anything unserved falls back to English.
 */
export function negotiateLanguage(acceptLanguage: string | undefined): Lang {
  if (acceptLanguage === undefined || acceptLanguage.length > MAX_HEADER) return 'en';
  const ranges = acceptLanguage
    .split(',')
    .slice(0, MAX_RANGES)
    .map((part) => parseRange(part.trim()))
    .filter((r): r is Range => r !== null && r.q > 0);
  // Array.prototype.sort is stable, so equal q keeps the header's order.
  ranges.sort((a, b) => b.q - a.q);
  for (const r of ranges) {
    if (r.tag === '*') return 'en';
    const lang = PRIMARY[r.tag.split('-')[0] ?? ''];
    if (lang !== undefined) return lang;
  }
  return 'en';
}
