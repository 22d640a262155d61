import type { MethodDef } from '../catalogue.ts';
import { makeClabe } from './clabe.ts';
import { pixCopyPaste } from './pix.ts';
import { promptPayPayload } from './promptpay.ts';
import { qrPhPayload, qrisPayload } from './qris.ts';
import { seedDigits, seedHex } from './seed.ts';
import { upiDeeplink } from './upi.ts';
import { makeVaNumber, vaBankFor } from './va.ts';
import { asciiUpper } from '../../../platform/ascii.ts';

/**
 * The `params` the sandbox channel returns for a pay-in: the same shapes a real
 * channel returns (a valid CLABE, scannable EMV QR strings with correct CRCs, a
 * UPI intent), derived only from the order, so a retried create returns the
 * same values. Receiving identities (PIX key, VPA, PromptPay ID) are derived from
 * the merchant name. `url`/`paymentLink` are the caller's.
 */
export interface SandboxOrder {
  orderNo: string;
  /** Major units as on the wire, e.g. "100", "100.5" or "100.50". */
  amountText: string;
  currency: string;
  merchantName: string;
  /** Epoch ms after which the pay-in expires. */
  expireTime: number;
  /** The order's `extra` (ID_VA bankCode, PK_WALLET payType and mobile, ID_OVO mobile). */
  extra?: Readonly<Record<string, string>> | null;
}

/** "100" → "100.00", "100.5" → "100.50": QR and UPI amounts carry two decimals. */
export function twoDecimals(amountText: string): string {
  const match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(amountText);
  if (match === null) throw new RangeError(`sandbox: amount must look like 123.45, got "${amountText}"`);
  return `${match[1]}.${(match[2] ?? '').padEnd(2, '0')}`;
}

type Generator = (o: SandboxOrder) => Record<string, string>;

// SPEI collection CLABEs are typically issued by STP (646) on plaza 180.
const spei: Generator = (o) => ({ clabe: makeClabe('646', '180', seedDigits(o.orderNo, 'clabe', 11)) });

function uuidFrom(hex: string): string {
  // Shaped as a version-4 UUID, like the random keys (EVP) the DICT issues.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const pix: Generator = (o) => {
  const code = pixCopyPaste({
    key: uuidFrom(seedHex(o.merchantName, 'pix-key', 32)),
    merchantName: o.merchantName,
    merchantCity: 'SAO PAULO',
    amountText: twoDecimals(o.amountText),
    txid: o.orderNo,
  });
  return { qrCode: code, content: code };
};

// "@pagoda" is no real PSP handle, so a real UPI app can never pay this VPA.
const upi: Generator = (o) => {
  const link = upiDeeplink({
    vpa: `sandbox.${seedDigits(o.merchantName, 'vpa', 8)}@pagoda`,
    payeeName: o.merchantName,
    amountText: twoDecimals(o.amountText),
    txnRef: o.orderNo,
    note: `Order ${o.orderNo}`,
  });
  return { deeplink: link, qrCode: link };
};

const qris: Generator = (o) => ({
  qrCode: qrisPayload({
    acquirerDomain: 'ID.CO.PAGODA.WWW',
    panWithoutCheck: '93609999' + seedDigits(o.merchantName, 'qris-pan', 10),
    merchantId: seedDigits(o.merchantName, 'qris-mid', 15),
    nmid: 'ID' + seedDigits(o.merchantName, 'qris-nmid', 13),
    merchantName: o.merchantName,
    merchantCity: 'JAKARTA',
    postalCode: '10110',
    amountText: o.amountText,
    billNumber: o.orderNo,
  }),
});

const promptpay: Generator = (o) => ({
  qrCode: promptPayPayload({
    proxy: { type: 'taxId', value: '0' + seedDigits(o.merchantName, 'promptpay', 12) },
    amountText: twoDecimals(o.amountText),
    reference: o.orderNo,
  }),
});

const qrph: Generator = (o) => ({
  qrCode: qrPhPayload({
    acquirerBic: 'PAGOPHM1XXX',
    merchantId: seedDigits(o.merchantName, 'qrph-mid', 10),
    merchantName: o.merchantName,
    merchantCity: 'MANILA',
    amountText: twoDecimals(o.amountText),
    reference: o.orderNo,
  }),
});

/** App-scheme links as wallet providers return them; the sandbox's own paths. */
function walletLink(scheme: string): Generator {
  return (o) => {
    const query = new URLSearchParams({ ref: o.orderNo, amount: twoDecimals(o.amountText), currency: o.currency, merchant: o.merchantName });
    return { deeplink: `${scheme}://pay?${query.toString()}` };
  };
}

const ovo: Generator = (o) => {
  const to = o.extra?.mobile ? ` sent to ${o.extra.mobile}` : '';
  return { content: `Approve the OVO payment request for order ${o.orderNo}, IDR ${o.amountText} to ${o.merchantName}${to}, in the OVO app.` };
};

const pkWallet: Generator = (o) => {
  const wallet = asciiUpper(o.extra?.payType ?? '') === 'PK_WALLET_EASYPAISA' ? 'Easypaisa' : 'JazzCash';
  const to = o.extra?.mobile ? ` sent to ${o.extra.mobile}` : '';
  return { content: `Approve the ${wallet} payment request for order ${o.orderNo}, PKR ${twoDecimals(o.amountText)} to ${o.merchantName}${to}.` };
};

const GENERATORS: Readonly<Record<string, Generator>> = {
  MX_SPEI: spei,
  BR_PIX: pix,
  IN_UPI: upi,
  ID_QRIS: qris,
  // The bank the account is at: the one the merchant named when it offers virtual accounts, BNI otherwise.
  ID_VA: (o) => ({ vaBank: vaBankFor(o.extra?.bankCode), vaNumber: makeVaNumber(o.extra?.bankCode, o.orderNo) }),
  ID_DANA: walletLink('dana'),
  ID_OVO: ovo,
  ID_SHOPEEPAY: walletLink('shopeeid'),
  ID_GOPAY: walletLink('gojek'),
  ID_LINKAJA: walletLink('linkaja'),
  PROMPTPAY: promptpay,
  PH_GCASH: walletLink('gcash'),
  PH_MAYA: walletLink('paymaya'),
  PH_GRAB: walletLink('grab'),
  PH_QRIS: qrph,
  PK_WALLET: pkWallet,
  BD_BKASH: walletLink('bkash'),
  BD_NAGAD: walletLink('nagad'),
};

/** The pay-in params of `method` for `order`; empty for methods that are not pay-ins. */
export function sandboxParams(method: MethodDef, order: SandboxOrder): Record<string, string> {
  if (!method.directions.includes('payin')) return {};
  const generated = GENERATORS[method.code]?.(order) ?? {};
  return { ...generated, expireTime: String(order.expireTime) };
}
