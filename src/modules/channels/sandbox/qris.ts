import { assertEmvAmount, emvPayload, emvText, tlv } from './emv.ts';

/**
 * Indonesian QRIS (Bank Indonesia / ASPI profile of EMV MPM) and the Philippine
 * QR Ph P2M code, which the catalogue calls PH_QRIS. Identifiers (PAN, NMID,
 * merchant id) come from the caller so the sandbox can derive them from a seed.
 */

/** Luhn check digit, as QRIS merchant PANs carry one like card PANs. */
export function luhnCheckDigit(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

/** QRIS amounts are whole rupiah in practice; "10000.00" is written "10000". */
export function qrisAmount(amountText: string): string {
  assertEmvAmount(amountText);
  return amountText.replace(/\.0{1,2}$/, '');
}

export interface QrisInput {
  /** Reverse domain of the acquirer, e.g. ID.CO.BANKMANDIRI.WWW. */
  acquirerDomain: string;
  /** 18 digits: NNS (9360 + 4) + merchant number; a Luhn digit is appended. */
  panWithoutCheck: string;
  merchantId: string;
  /** National Merchant ID: "ID" + 13 digits. */
  nmid: string;
  merchantName: string;
  merchantCity: string;
  postalCode: string;
  amountText: string;
  billNumber: string;
}

export function qrisPayload(q: QrisInput): string {
  if (!/^9360\d{14}$/.test(q.panWithoutCheck)) throw new RangeError('QRIS PAN must be 9360 + 14 digits');
  if (!/^ID\d{13}$/.test(q.nmid)) throw new RangeError('QRIS NMID must be ID + 13 digits');
  const pan = q.panWithoutCheck + luhnCheckDigit(q.panWithoutCheck);
  return emvPayload([
    ['00', '01'],
    ['01', '12'],
    ['26', tlv('00', q.acquirerDomain) + tlv('01', pan) + tlv('02', q.merchantId) + tlv('03', 'UMI')],
    ['51', tlv('00', 'ID.CO.QRIS.WWW') + tlv('02', q.nmid) + tlv('03', 'UMI')],
    ['52', '5999'],
    ['53', '360'],
    ['54', qrisAmount(q.amountText)],
    ['58', 'ID'],
    ['59', emvText(q.merchantName, 25) || 'PAGODA'],
    ['60', emvText(q.merchantCity, 15) || 'JAKARTA'],
    ['61', q.postalCode],
    ['62', tlv('01', emvText(q.billNumber, 25))],
  ]);
}

export interface QrPhInput {
  /** BIC of the acquiring institution (8 or 11 characters). */
  acquirerBic: string;
  merchantId: string;
  merchantName: string;
  merchantCity: string;
  amountText: string;
  reference: string;
}

export function qrPhPayload(q: QrPhInput): string {
  assertEmvAmount(q.amountText);
  const account = tlv('00', 'ph.ppmi.p2m') + tlv('01', q.acquirerBic) + tlv('03', q.merchantId);
  return emvPayload([
    ['00', '01'],
    ['01', '12'],
    ['28', account],
    ['52', '5999'],
    ['53', '608'],
    ['54', q.amountText],
    ['58', 'PH'],
    ['59', emvText(q.merchantName, 25) || 'PAGODA'],
    ['60', emvText(q.merchantCity, 15) || 'MANILA'],
    ['62', tlv('05', emvText(q.reference, 25))],
  ]);
}
