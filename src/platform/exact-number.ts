/**
 * JSON numbers written from their decimal text, never through a double.
 *
 * A balance is a sum of amounts and can exceed the 15 significant digits a double
 * always carries exactly (10^13 major units of a two-decimal currency). The wire
 * still wants a JSON number there, so such values travel as an ExactNumber and are
 * written digit for digit by `stringifyJson`; a merchant whose JSON library keeps
 * decimals (BigDecimal, Python's Decimal) reads the exact balance.
 */

const DECIMAL = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?$/;

export class ExactNumber {
  readonly text: string;

  constructor(text: string) {
    // Only the shortest form of a finite decimal: what formatMajor writes.
    if (!DECIMAL.test(text) || text === '-0') throw new TypeError(`not a plain decimal: ${JSON.stringify(text)}`);
    this.text = text;
  }

  /** Anything that serializes it with JSON.stringify still gets a number (the nearest double). */
  toJSON(): number {
    return Number(this.text);
  }
}

/**
 * JSON text of a value made of plain objects, arrays, strings, finite numbers,
 * booleans, null and ExactNumbers. Members that are undefined are left out, as
 * JSON.stringify leaves them; anything else is a bug in the caller.
 */
export function stringifyJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'string' || typeof value === 'boolean' || value === null) return JSON.stringify(value);
    if (typeof value === 'number' && Number.isFinite(value)) return JSON.stringify(value);
    throw new TypeError(`cannot write ${typeof value === 'number' ? value : `a ${typeof value}`} as JSON`);
  }
  if (value instanceof ExactNumber) return value.text;
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + stringifyJson(value[i] === undefined ? null : value[i]);
    return out + ']';
  }
  let out = '{';
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) out += (out.length > 1 ? ',' : '') + JSON.stringify(key) + ':' + stringifyJson(member);
  }
  return out + '}';
}
