import { seedDigits } from './seed.ts';
import { asciiUpper } from '../../../platform/ascii.ts';

/**
 * Indonesian virtual account numbers: the bank's prefix (the company / client
 * code the bank assigns to a merchant) followed by a customer number. The
 * prefixes are the sandbox's own; lengths follow each bank's real format.
 */
interface VaFormat {
  prefix: string;
  length: number;
}

export const VA_FORMATS: Readonly<Record<string, VaFormat>> = {
  BCA: { prefix: '39358', length: 16 },
  BNI: { prefix: '8808', length: 16 },
  BRI: { prefix: '26215', length: 15 },
  MANDIRI: { prefix: '89608', length: 16 },
  PERMATA: { prefix: '8625', length: 16 },
  CIMB: { prefix: '5919', length: 16 },
  BSI: { prefix: '9347', length: 16 },
  DANAMON: { prefix: '7915', length: 16 },
  BTN: { prefix: '9413', length: 16 },
  MAYBANK: { prefix: '7812', length: 16 },
};

/** The bank used when the order names none (or one without VA support in the sandbox). */
export const DEFAULT_VA_BANK = 'BNI';

export function vaBankFor(bankCode: string | undefined): string {
  const code = asciiUpper(bankCode ?? '');
  return code in VA_FORMATS ? code : DEFAULT_VA_BANK;
}

/** Same order number → same VA, so a retried create shows the consumer the same number. */
export function makeVaNumber(bankCode: string | undefined, orderNo: string): string {
  const format = VA_FORMATS[vaBankFor(bankCode)]!;
  return format.prefix + seedDigits(orderNo, 'va', format.length - format.prefix.length);
}
