/**
 * CLABE (Clave Bancaria Estandarizada), the 18-digit Mexican account number SPEI
 * routes on: 3 digits bank, 3 digits branch (plaza), 11 digits account, 1 check
 * digit.
 */

const WEIGHTS = [3, 7, 1] as const;

/**
 * Banxico's check digit: weight the 17 digits 3,7,1,3,7,1…, keep each product
 * mod 10, sum, and the check digit is (10 − sum mod 10) mod 10.
 */
export function clabeCheckDigit(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new RangeError(`clabeCheckDigit: need 17 digits, got "${first17}"`);
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    sum += (Number(first17[i]) * WEIGHTS[i % 3]!) % 10;
  }
  return String((10 - (sum % 10)) % 10);
}

export function isValidClabe(s: string): boolean {
  return /^\d{18}$/.test(s) && clabeCheckDigit(s.slice(0, 17)) === s[17];
}

export function makeClabe(bankCode3: string, branch3: string, account11: string): string {
  if (!/^\d{3}$/.test(bankCode3) || !/^\d{3}$/.test(branch3) || !/^\d{11}$/.test(account11)) {
    throw new RangeError('makeClabe: need 3 + 3 + 11 digits');
  }
  const first17 = bankCode3 + branch3 + account11;
  return first17 + clabeCheckDigit(first17);
}

/** The 3-digit bank code a CLABE starts with (the SPEI participant). */
export function clabeBank(clabe: string): string {
  return clabe.slice(0, 3);
}
