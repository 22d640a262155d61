import { assertEmvAmount, emvPayload, emvText, tlv } from './emv.ts';

/**
 * PIX "copia e cola" (BR Code): an EMV MPM payload per the Banco Central do
 * Brasil manual. Static form (key + txid), which every bank app accepts when
 * pasted or scanned.
 */
export interface PixInput {
  key: string;
  merchantName: string;
  merchantCity: string;
  /** Major units, e.g. "10.50"; absent: the payer types the amount. */
  amountText?: string;
  /** Reconciliation id; reduced to 1–25 alphanumerics, "***" when none. */
  txid?: string;
}

export const PIX_GUI = 'br.gov.bcb.pix';

/** The BCB allows only [A-Za-z0-9]{1,25} in a static txid; "***" means "none". */
export function pixTxid(raw: string | undefined): string {
  const cleaned = (raw ?? '').replace(/[^A-Za-z0-9]/g, '').slice(0, 25);
  return cleaned === '' ? '***' : cleaned;
}

export function pixCopyPaste(input: PixInput): string {
  if (input.key === '' || input.key.length > 77) throw new RangeError('pix key must be 1–77 characters');
  if (input.amountText !== undefined) assertEmvAmount(input.amountText);
  const account = tlv('00', PIX_GUI) + tlv('01', input.key);
  return emvPayload([
    ['00', '01'],
    ['26', account],
    ['52', '0000'],
    ['53', '986'],
    ['54', input.amountText ?? ''],
    ['58', 'BR'],
    ['59', emvText(input.merchantName, 25) || 'PAGODA'],
    ['60', emvText(input.merchantCity, 15) || 'SAO PAULO'],
    ['62', tlv('05', pixTxid(input.txid))],
  ]);
}
