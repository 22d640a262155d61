/**
 * What a line of text for people (a name, a reason) must not hold: control
 * characters, line and paragraph separators, and format characters such as
 * bidi overrides, which make a terminal or a page show something else than is
 * stored. Zero-width joiners (U+200C, U+200D) stay: some scripts need them
 * inside words.
 */
export const NOT_ONE_LINE = /\p{Cc}|\p{Zl}|\p{Zp}|(?![\u200c\u200d])\p{Cf}/u;
