/**
 * The v2 sign algorithm (merchant-api.md section 2): SHA-256 over the canonical
 * `key=value&…` string of the parameters plus `&key=<appSecret>`. Used for v2
 * requests and responses, notifications of both generations and return redirects.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ExactNumber } from './exact-number.ts';

export interface CanonicalOptions {
  /**
   * Keep empty-string members of nested objects as `k=` instead of dropping them.
   * Some merchant libraries sign that way; we accept it on verify, never emit it.
   */
  keepEmptyNested?: boolean;
  /**
   * Leave out a nested object with no members left (`extra: {}`) instead of
   * rendering it as `extra=`. Also accepted on verify, never emitted.
   */
  omitEmptyObjects?: boolean;
}

const SIGN_HEX = /^[0-9a-fA-F]{64}$/;

/**
 * The string that is signed, without the trailing `&key=`.
 *
 * - Every top-level key except `sign`; `null`, `undefined` and `""` are dropped
 *   (0 and false are kept). Nested objects may contain a `sign` member; it is kept.
 * - Keys sorted by Unicode code point (not UTF-16 unit order, not locale).
 * - Strings verbatim, numbers in JavaScript's shortest form (an ExactNumber as the
 *   number JavaScript reads from its digits), booleans `true`/`false`.
 * - A nested plain object renders as its own canonical string, used as the value
 *   (an object with no members left renders as `key=`).
 * - Arrays are outside the contract; they render as their JSON text so that the
 *   result is at least deterministic for a given input (a repeated query key
 *   arrives as an array).
 * - Any other value (bigint, Date, function, non-finite number) is a bug in the
 *   caller and throws a TypeError: amounts must be rendered to major units first.
 */
export function canonicalString(params: Record<string, unknown>, opts: CanonicalOptions = {}): string {
  return render(params, true, opts);
}

/** Lowercase hex SHA-256 of the canonical string with the secret appended. */
export function signParams(params: Record<string, unknown>, secret: string): string {
  return digest(canonicalString(params), secret).toString('hex');
}

/**
 * Checks `params.sign`: a 64-char hex string (either case), compared in constant
 * time against the signature of each way merchant libraries render nested
 * objects: empty members dropped (the rule), kept as `k=`, and an object left
 * empty rendered as `extra=` (the rule) or left out. Anything else (missing,
 * wrong type, wrong length, non-hex) is simply false; the caller answers 401.
 */
export function verifySign(params: Record<string, unknown>, secret: string): boolean {
  const sign = params['sign'];
  if (typeof sign !== 'string' || !SIGN_HEX.test(sign)) return false;
  const given = Buffer.from(sign, 'hex');
  const variants = new Set([canonicalString(params)]);
  // The variants differ only in how nested objects render.
  if (Object.values(params).some((v) => typeof v === 'object' && v !== null)) {
    for (const opts of NESTED_VARIANTS) variants.add(canonicalString(params, opts));
  }
  let ok = false;
  // Every distinct variant is compared, so timing does not tell which matched.
  for (const canonical of variants) ok = timingSafeEqual(given, digest(canonical, secret)) || ok;
  return ok;
}

const NESTED_VARIANTS: readonly CanonicalOptions[] = [
  { keepEmptyNested: true },
  { omitEmptyObjects: true },
  { keepEmptyNested: true, omitEmptyObjects: true },
];

function digest(canonical: string, secret: string): Buffer {
  return createHash('sha256').update(`${canonical}&key=${secret}`, 'utf8').digest();
}

function render(obj: Record<string, unknown>, top: boolean, opts: CanonicalOptions): string {
  const parts: string[] = [];
  for (const key of Object.keys(obj).sort(compareCodePoints)) {
    if (top && key === 'sign') continue;
    const value = obj[key];
    if (value === null || value === undefined) continue;
    if (value === '' && (top || !opts.keepEmptyNested)) continue;
    const rendered = renderValue(value, key, opts);
    if (rendered === '' && opts.omitEmptyObjects && typeof value === 'object') continue;
    parts.push(`${key}=${rendered}`);
  }
  return parts.join('&');
}

function renderValue(value: unknown, key: string, opts: CanonicalOptions): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`cannot sign ${key}: ${value}`);
      return String(value);
    case 'object':
      // A number the way JavaScript reads it (the algorithm's rule), though the answer carries its exact digits.
      if (value instanceof ExactNumber) return String(value.toJSON());
      if (Array.isArray(value)) return JSON.stringify(value);
      if (value !== null && isPlainObject(value)) return render(value, false, opts);
  }
  throw new TypeError(`cannot sign ${key}: unsupported ${describeType(value)}`);
}

/** Query-string parsers build null-prototype objects; both kinds are plain. */
function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describeType(value: unknown): string {
  if (typeof value !== 'object' || value === null) return typeof value;
  return (value as object).constructor?.name ?? 'object';
}

/**
 * Code-point order. Plain `<` compares UTF-16 units, which agrees with code-point
 * order except that surrogates (D800–DFFF, i.e. characters above U+FFFF) sort
 * below E000–FFFF; shifting the two ranges past each other repairs that.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}
