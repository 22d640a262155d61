/**
 * A minimal HTML builder: interpolated values are escaped unless they are
 * SafeHtml, which only `html` itself and `raw` produce. Attribute values
 * must always be quoted in templates; escaping then covers both text and
 * attribute contexts. It does not make a URL safe: check schemes separately.
 */

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  // Backticks delimited attribute values in old IE; cheap to cover.
  '`': '&#96;',
};

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);
}

const MINT = Symbol('SafeHtml');

export class SafeHtml {
  readonly #value: string;

  constructor(value: string, token: symbol) {
    // Only this module holds the token, so nothing else can mint SafeHtml.
    if (token !== MINT) throw new TypeError('SafeHtml is created with html`` or raw()');
    this.#value = value;
  }

  toString(): string {
    return this.#value;
  }
}

/** Values a template accepts; false/null/undefined render nothing, for `cond && html`…``. */
export type HtmlValue = string | number | bigint | SafeHtml | false | null | undefined | readonly HtmlValue[];

/** Marks trusted markup. Only for markup we generate ourselves (our SVG, our data). */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup, MINT);
}

function render(value: HtmlValue): string {
  if (value === false || value === null || value === undefined) return '';
  if (value instanceof SafeHtml) return value.toString();
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) {
    out += render(values[i]) + (strings[i + 1] ?? '');
  }
  return new SafeHtml(out, MINT);
}
