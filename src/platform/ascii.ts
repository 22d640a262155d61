/**
 * Upper case for codes (currencies, methods, banks): only a–z change. String#toUpperCase
 * follows Unicode, where "ı" becomes "I" and "ſ" becomes "S", so a code no one sent
 * would match.
 */
export function asciiUpper(text: string): string {
  return text.replace(/[a-z]+/g, (letters) => letters.toUpperCase());
}
