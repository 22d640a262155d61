/**
 * What a line of text for people (a name, a reason) must not hold: control
 * characters, line and paragraph separators, and format characters such as
 * bidi overrides, which make a terminal or a page show something else than is
 * stored. Zero-width joiners (U+200C, U+200D) stay: some scripts need them
 * inside words.
 */
export const NOT_ONE_LINE = /\p{Cc}|\p{Zl}|\p{Zp}|(?![\u200c\u200d])\p{Cf}/u;

/** Text that shows nothing: whitespace, joiners, and the fillers fonts draw blank (Hangul fillers, the blank Braille pattern). */
const SHOWS_NOTHING = /^[\p{White_Space}\u115f\u1160\u3164\uffa0\u2800\u200c\u200d]*$/u;

export function showsNothing(text: string): boolean {
  return SHOWS_NOTHING.test(text);
}

/** Combining marks piled on one character (five or more) draw over the lines around them; no script needs that many. */
export const PILED_MARKS = /\p{M}{5,}/u;
