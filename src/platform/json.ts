/**
 * Strict, lossless JSON body parser.
 *
 * JSON.parse is not enough for a payment API: it accepts duplicate keys (the last
 * one silently wins, so a signed `amount` can be shadowed), it loses the source
 * text of numbers (`100.00` and `100` become the same double, `12345678901234567890`
 * is rounded), and it has no depth limit. This parser is RFC 8259 exactly, refuses
 * those cases, and keeps every number's source token beside the parsed value.
 */
import { badRequest } from './errors.ts';
import type { AppError } from './errors.ts';

/**
 * Key of a non-enumerable property, on every object or array that has number
 * members, holding a map from member key (array index as a decimal string) to the
 * number's exact source text. Non-enumerable so that schema validators, spreads
 * and JSON.stringify do not see it.
 */
export const RAW_NUMBERS: unique symbol = Symbol('pagoda.json.rawNumbers');

export type RawNumbers = ReadonlyMap<string, string>;

/** Containers nested deeper than this are refused (the top-level value is depth 1). */
export const MAX_DEPTH = 32;

/**
 * Members and elements beyond this many in one body are refused. No request of
 * the API has a tenth of it; without a bound, a body of small numbers costs some
 * 30 times its size in memory before authentication has said who sent it.
 */
export const MAX_VALUES = 1000;

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes and parses a request body. Every failure is a 400 AppError whose detail
 * tells the merchant what is wrong and where (byte offset in the body).
 */
export function parseJsonBody(buf: Buffer): unknown {
  let text: string;
  try {
    // The decoder strips exactly one leading BOM (ignoreBOM defaults to false).
    text = decoder.decode(buf);
  } catch {
    throw badRequest('body is not valid UTF-8');
  }
  if (isBlank(text)) throw badRequest('body is empty');
  const bomBytes = buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  return new Parser(text, bomBytes).parseDocument();
}

/** The exact source text of the number member `key` of a parsed container. */
export function rawNumberText(container: object, key: string): string | undefined {
  const raw = (container as { [RAW_NUMBERS]?: RawNumbers })[RAW_NUMBERS];
  return raw?.get(key);
}

function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (!isWhitespace(text.charCodeAt(i))) return false;
  }
  return true;
}

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

const ESCAPES: ReadonlyMap<string, string> = new Map([
  ['"', '"'], ['\\', '\\'], ['/', '/'], ['b', '\b'], ['f', '\f'], ['n', '\n'], ['r', '\r'], ['t', '\t'],
]);

class Parser {
  private readonly text: string;
  private readonly bomBytes: number;
  private pos = 0;
  private values = 0;

  constructor(text: string, bomBytes: number) {
    this.text = text;
    this.bomBytes = bomBytes;
  }

  parseDocument(): unknown {
    this.skipWhitespace();
    const value = this.parseValue(0);
    this.skipWhitespace();
    if (this.pos < this.text.length) throw this.unexpected();
    return value;
  }

  private parseValue(depth: number): unknown {
    const c = this.text.charCodeAt(this.pos);
    if (c === 0x7b) return this.parseObject(depth + 1);
    if (c === 0x5b) return this.parseArray(depth + 1);
    if (c === 0x22) return this.parseString();
    if (c === 0x2d || isDigit(c)) {
      const start = this.pos;
      return this.valueOf(this.scanNumber(), start);
    }
    if (this.text.startsWith('true', this.pos)) return this.literal(4, true);
    if (this.text.startsWith('false', this.pos)) return this.literal(5, false);
    if (this.text.startsWith('null', this.pos)) return this.literal(4, null);
    throw this.unexpected();
  }

  private literal<T>(length: number, value: T): T {
    this.pos += length;
    return value;
  }

  private parseObject(depth: number): Record<string, unknown> {
    this.enter(depth);
    // A plain object is safe here because `__proto__`, the only key whose
    // assignment does not create an own property, is refused below.
    const obj: Record<string, unknown> = {};
    let raw: Map<string, string> | undefined;
    this.pos++;
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return obj;
    }
    for (;;) {
      this.count();
      if (this.text.charCodeAt(this.pos) !== 0x22) throw this.unexpected();
      const keyStart = this.pos;
      const key = this.parseString();
      if (key === '__proto__') throw this.refuse(`key "__proto__" is not allowed`, keyStart);
      if (Object.hasOwn(obj, key)) throw this.refuse(`duplicate key ${quoteKey(key)}`, keyStart);
      this.skipWhitespace();
      if (this.text.charCodeAt(this.pos) !== 0x3a) throw this.unexpected();
      this.pos++;
      this.skipWhitespace();
      if (this.atNumber()) {
        const start = this.pos;
        const token = this.scanNumber();
        obj[key] = this.valueOf(token, start);
        (raw ??= new Map()).set(key, token);
      } else {
        obj[key] = this.parseValue(depth);
      }
      if (this.endOfMembers(0x7d)) break;
    }
    if (raw) attachRaw(obj, raw);
    return obj;
  }

  private parseArray(depth: number): unknown[] {
    this.enter(depth);
    const arr: unknown[] = [];
    let raw: Map<string, string> | undefined;
    this.pos++;
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return arr;
    }
    for (;;) {
      this.count();
      if (this.atNumber()) {
        const start = this.pos;
        const token = this.scanNumber();
        const value = this.valueOf(token, start);
        (raw ??= new Map()).set(String(arr.length), token);
        arr.push(value);
      } else {
        arr.push(this.parseValue(depth));
      }
      if (this.endOfMembers(0x5d)) break;
    }
    if (raw) attachRaw(arr, raw);
    return arr;
  }

  private count(): void {
    if (++this.values > MAX_VALUES) throw this.refuse(`body has more than ${MAX_VALUES} members and elements`, this.pos);
  }

  private enter(depth: number): void {
    if (depth > MAX_DEPTH) throw this.refuse(`body nests deeper than ${MAX_DEPTH} levels`, this.pos);
  }

  /** After a member: true at the closing bracket, false after a comma. */
  private endOfMembers(close: number): boolean {
    this.skipWhitespace();
    const c = this.text.charCodeAt(this.pos);
    if (c === close) {
      this.pos++;
      return true;
    }
    if (c !== 0x2c) throw this.unexpected();
    this.pos++;
    this.skipWhitespace();
    return false;
  }

  private atNumber(): boolean {
    const c = this.text.charCodeAt(this.pos);
    return c === 0x2d || isDigit(c);
  }

  /**
   * The value of a number scanned from `start`. One beyond a double's range
   * (`1e999`) is refused rather than read as Infinity, which no field accepts and
   * no signature can render.
   */
  private valueOf(token: string, start: number): number {
    const value = Number(token);
    if (!Number.isFinite(value)) throw this.refuse(`number ${token.length > 24 ? `${token.slice(0, 24)}…` : token} is out of range`, start);
    return value;
  }

  /** Scans an RFC 8259 number and returns its source text. */
  private scanNumber(): string {
    const { text } = this;
    const start = this.pos;
    let i = start;
    if (text.charCodeAt(i) === 0x2d) i++;
    if (text.charCodeAt(i) === 0x30) {
      i++;
      if (isDigit(text.charCodeAt(i))) throw this.fail('invalid number (leading zero)', start);
    } else {
      i = this.digits(i, start);
    }
    if (text.charCodeAt(i) === 0x2e) i = this.digits(i + 1, start);
    const e = text.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      i++;
      const sign = text.charCodeAt(i);
      if (sign === 0x2b || sign === 0x2d) i++;
      i = this.digits(i, start);
    }
    this.pos = i;
    return text.slice(start, i);
  }

  /** Skips one or more digits from `i`; a number without them is malformed. */
  private digits(i: number, start: number): number {
    const { text } = this;
    if (!isDigit(text.charCodeAt(i))) throw this.fail('invalid number', start);
    while (isDigit(text.charCodeAt(i))) i++;
    return i;
  }

  private parseString(): string {
    const { text } = this;
    const start = this.pos;
    // Fast path: most strings have no escapes and come back as one slice.
    let i = start + 1;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        this.pos = i + 1;
        return text.slice(start + 1, i);
      }
      if (c === 0x5c || c < 0x20 || Number.isNaN(c)) break;
      i++;
    }
    return this.parseEscapedString(start, i);
  }

  /** Slow path from the first backslash: collects slices between escapes. */
  private parseEscapedString(start: number, from: number): string {
    const { text } = this;
    const parts: string[] = [text.slice(start + 1, from)];
    let chunk = from;
    let i = from;
    for (;;) {
      if (i >= text.length) throw this.fail('unterminated string', start);
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) throw this.fail(`unescaped control character ${codePoint(c)} in string`, i);
      if (c !== 0x5c) {
        i++;
        continue;
      }
      parts.push(text.slice(chunk, i));
      i = this.readEscape(i, parts);
      chunk = i;
    }
    parts.push(text.slice(chunk, i));
    this.pos = i + 1;
    return parts.join('');
  }

  /** Decodes the escape at `i` (a backslash) into `parts`; returns the index after it. */
  private readEscape(i: number, parts: string[]): number {
    const { text } = this;
    const e = text.charAt(i + 1);
    const simple = ESCAPES.get(e);
    if (simple !== undefined) {
      parts.push(simple);
      return i + 2;
    }
    if (e === 'u') {
      const hex = text.slice(i + 2, i + 6);
      // Lone surrogates are legal JSON (RFC 8259 §8.2) and kept as they are.
      if (/^[0-9a-fA-F]{4}$/.test(hex)) {
        const code = parseInt(hex, 16);
        // Legal JSON, but no text column (PostgreSQL's least of all) can hold it.
        if (code === 0) throw this.refuse('the NUL character (\\u0000) is not allowed in a string', i);
        parts.push(String.fromCharCode(code));
        return i + 6;
      }
      throw this.fail('invalid \\u escape in string', i);
    }
    if (e === '') throw this.fail('unterminated string', i);
    throw this.fail(`invalid escape ${describe(text.charCodeAt(i + 1))} in string`, i);
  }

  private skipWhitespace(): void {
    const { text } = this;
    let i = this.pos;
    while (isWhitespace(text.charCodeAt(i))) i++;
    this.pos = i;
  }

  private unexpected(): AppError {
    if (this.pos >= this.text.length) return this.fail('unexpected end of input', this.pos);
    return this.fail(`unexpected ${describe(this.text.codePointAt(this.pos) ?? 0)}`, this.pos);
  }

  /** Syntax error: the body is not RFC 8259 JSON. */
  private fail(what: string, at: number): AppError {
    return badRequest(`body is not valid JSON: ${what} at offset ${this.byteOffset(at)}`);
  }

  /** Valid JSON that we refuse anyway (duplicate keys, `__proto__`, depth). */
  private refuse(what: string, at: number): AppError {
    return badRequest(`${what} at offset ${this.byteOffset(at)}`);
  }

  /** Offsets are bytes of the body as received, which is what a client can inspect. */
  private byteOffset(at: number): number {
    return this.bomBytes + Buffer.byteLength(this.text.slice(0, at), 'utf8');
  }
}

function attachRaw(container: object, raw: Map<string, string>): void {
  Object.defineProperty(container, RAW_NUMBERS, { value: raw, enumerable: false, writable: false, configurable: false });
}

function describe(c: number): string {
  if (c > 0x20 && c < 0x7f) return c === 0x27 ? `"'"` : `'${String.fromCharCode(c)}'`;
  return codePoint(c);
}

function codePoint(c: number): string {
  return `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Keys are echoed to the caller; cap them so an error never reflects a huge input. */
function quoteKey(key: string): string {
  return JSON.stringify(key.length > 64 ? `${key.slice(0, 64)}…` : key);
}
