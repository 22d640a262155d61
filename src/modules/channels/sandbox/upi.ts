/**
 * UPI intent deeplink (NPCI "UPI Linking Specification"): the URI a UPI app
 * opens directly and the same text a UPI QR encodes.
 */
export interface UpiInput {
  /** Payee virtual payment address, e.g. merchant@bank. */
  vpa: string;
  payeeName: string;
  /** Rupees with 2 decimals, e.g. "499.00". */
  amountText: string;
  /** Merchant transaction reference (≤ 35 characters). */
  txnRef: string;
  note?: string;
}

const VPA = /^[A-Za-z0-9._-]{2,256}@[A-Za-z0-9]{2,64}$/;

/**
 * RFC 3986 encoding of a query value, leaving "@" readable: it is legal in a
 * query, and several UPI apps fail to decode %40 inside `pa`.
 */
export function upiEncode(value: string): string {
  return encodeURIComponent(value).replace(/%40/g, '@').replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

export function upiDeeplink(input: UpiInput): string {
  if (!VPA.test(input.vpa)) throw new RangeError(`not a UPI VPA: "${input.vpa}"`);
  if (!/^\d+\.\d{2}$/.test(input.amountText)) throw new RangeError(`UPI amount must have 2 decimals: "${input.amountText}"`);
  const params: Array<[string, string]> = [
    ['pa', input.vpa],
    ['pn', input.payeeName],
    ['am', input.amountText],
    ['cu', 'INR'],
    ['tr', input.txnRef.slice(0, 35)],
  ];
  if (input.note !== undefined && input.note !== '') params.push(['tn', input.note.slice(0, 80)]);
  return 'upi://pay?' + params.map(([k, v]) => `${k}=${upiEncode(v)}`).join('&');
}
