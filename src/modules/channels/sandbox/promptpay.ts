import { assertEmvAmount, emvPayload, emvText, tlv } from './emv.ts';

/**
 * Thai PromptPay "credit transfer" QR: EMV MPM with merchant account template 29
 * (AID A000000677010111) addressing a PromptPay proxy. Field order follows the
 * widely used promptpay-qr generators so payloads compare byte for byte.
 */
export const PROMPTPAY_AID = 'A000000677010111';

export type PromptPayProxy =
  | { type: 'mobile'; value: string } // Thai mobile, e.g. 0812345678 or +66812345678
  | { type: 'taxId'; value: string } // national ID or tax ID, 13 digits
  | { type: 'eWallet'; value: string }; // e-wallet ID, 15 digits

export interface PromptPayInput {
  proxy: PromptPayProxy;
  /** Major units ("100.00"); present makes a one-time (dynamic, 12) QR, absent a reusable one (11). */
  amountText?: string;
  /** Reference shown to the payer (field 62, sub-field 05); omitted when absent. */
  reference?: string;
}

/** Mobile proxies are 13 digits: 0066 + the number without its trunk 0. */
export function promptPayMobile(mobile: string): string {
  const digits = mobile.replace(/\D/g, '');
  const national = digits.startsWith('66') ? digits.slice(2) : digits.replace(/^0/, '');
  if (!/^\d{9}$/.test(national)) throw new RangeError(`not a Thai mobile number: "${mobile}"`);
  return ('66' + national).padStart(13, '0');
}

function proxyField(proxy: PromptPayProxy): string {
  switch (proxy.type) {
    case 'mobile':
      return tlv('01', promptPayMobile(proxy.value));
    case 'taxId':
      if (!/^\d{13}$/.test(proxy.value)) throw new RangeError('PromptPay tax ID must be 13 digits');
      return tlv('02', proxy.value);
    case 'eWallet':
      if (!/^\d{15}$/.test(proxy.value)) throw new RangeError('PromptPay e-wallet ID must be 15 digits');
      return tlv('03', proxy.value);
  }
}

export function promptPayPayload(input: PromptPayInput): string {
  if (input.amountText !== undefined) assertEmvAmount(input.amountText);
  return emvPayload([
    ['00', '01'],
    ['01', input.amountText === undefined ? '11' : '12'],
    ['29', tlv('00', PROMPTPAY_AID) + proxyField(input.proxy)],
    ['58', 'TH'],
    ['53', '764'],
    ['54', input.amountText ?? ''],
    ['62', input.reference ? tlv('05', emvText(input.reference, 25)) : ''],
  ]);
}
