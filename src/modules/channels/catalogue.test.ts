import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../platform/errors.ts';
import type { ErrorCode } from '../../platform/errors.ts';
import type { Direction } from '../orders/order.ts';
import { CATALOGUE, canonicalBankCode, channelExtra, findMethod, methodsFor, resolveMethod, validateExtra } from './catalogue.ts';

const isAppError = (code: ErrorCode, detail: string) => (err: unknown) =>
  err instanceof AppError && err.code === code && err.detail === detail;

type Resolved = string | { error: ErrorCode; detail: string };

const RESOLVE: ReadonlyArray<readonly [string, string, Direction, Resolved]> = [
  ['qris', 'IDR', 'payin', 'ID_QRIS'],
  ['QRIS', 'idr', 'payin', 'ID_QRIS'],
  ['ID_QRIS', 'IDR', 'payin', 'ID_QRIS'],
  ['id_qris', 'IDR', 'payin', 'ID_QRIS'],
  [' qris ', 'IDR', 'payin', 'ID_QRIS'],
  ['spei', 'MXN', 'payin', 'MX_SPEI'],
  ['MX_SPEI', 'MXN', 'payout', 'MX_SPEI'],
  ['PIX', 'BRL', 'payin', 'BR_PIX'],
  ['br_pix', 'BRL', 'payout', 'BR_PIX'],
  ['promptpay', 'THB', 'payin', 'PROMPTPAY'],
  ['TH_PROMPTPAY', 'THB', 'payin', 'PROMPTPAY'],
  ['gcash', 'PHP', 'payin', 'PH_GCASH'],
  ['PayMaya', 'PHP', 'payin', 'PH_MAYA'],
  ['maya', 'PHP', 'payin', 'PH_MAYA'],
  ['qris', 'PHP', 'payin', 'PH_QRIS'],
  ['df', 'IDR', 'payout', 'ID_DF'],
  ['DF_BANK', 'PHP', 'payout', 'PH_DF_BANK'],
  ['ph-df-wallet', 'PHP', 'payout', 'PH_DF_WALLET'],
  ['upi', 'INR', 'payin', 'IN_UPI'],
  ['IMPS', 'INR', 'payout', 'IN_IMPS'],
  ['wallet', 'PKR', 'payin', 'PK_WALLET'],
  ['PK_DF', 'PKR', 'payout', 'PK_DF'],
  ['bkash', 'BDT', 'payin', 'BD_BKASH'],
  ['NAGAD', 'BDT', 'payin', 'BD_NAGAD'],
  ['va', 'IDR', 'payin', 'ID_VA'],
  ['ovo', 'IDR', 'payin', 'ID_OVO'],
  ['TH_DF', 'THB', 'payout', 'TH_DF'],
  ['ID_QRIS', 'MXN', 'payin', { error: 'UNPROCESSABLE', detail: 'payMethod ID_QRIS is for IDR, not MXN' }],
  ['ID_QRIS', 'PHP', 'payin', { error: 'UNPROCESSABLE', detail: 'payMethod ID_QRIS is for IDR, not PHP' }],
  ['spei', 'USD', 'payin', { error: 'UNPROCESSABLE', detail: 'payMethod SPEI is for MXN, not USD' }],
  ['gcash', 'IDR', 'payin', { error: 'UNPROCESSABLE', detail: 'payMethod GCASH is for PHP, not IDR' }],
  ['ID_QRIS', 'IDR', 'payout', { error: 'UNPROCESSABLE', detail: 'payMethod ID_QRIS is not available for payouts' }],
  ['df', 'IDR', 'payin', { error: 'UNPROCESSABLE', detail: 'payMethod ID_DF is not available for payins' }],
  ['PROMPTPAY', 'THB', 'payout', { error: 'UNPROCESSABLE', detail: 'payMethod PROMPTPAY is not available for payouts' }],
  ['BITCOIN', 'IDR', 'payin', { error: 'BAD_REQUEST', detail: 'payMethod BITCOIN is not a known method' }],
  ['ıd_qrıs', 'IDR', 'payin', { error: 'BAD_REQUEST', detail: 'payMethod ıD_QRıS is not a known method' }],
  ['ſpei', 'MXN', 'payin', { error: 'BAD_REQUEST', detail: 'payMethod ſPEI is not a known method' }],
  ['XX_QRIS', 'IDR', 'payin', { error: 'BAD_REQUEST', detail: 'payMethod XX_QRIS is not a known method' }],
  ['', 'IDR', 'payin', { error: 'BAD_REQUEST', detail: 'payMethod must not be empty' }],
  ['   ', 'IDR', 'payin', { error: 'BAD_REQUEST', detail: 'payMethod must not be empty' }],
];

for (const [input, currency, direction, expected] of RESOLVE) {
  test(`resolveMethod(${JSON.stringify(input)}, ${currency}, ${direction})`, () => {
    if (typeof expected === 'string') {
      assert.equal(resolveMethod(input, currency, direction).code, expected);
    } else {
      assert.throws(() => resolveMethod(input, currency, direction), isAppError(expected.error, expected.detail));
    }
  });
}

test('the catalogue has every code of spec section 5, in the right currency and direction', () => {
  const payins: ReadonlyArray<readonly [string, string]> = [
    ['MX_SPEI', 'MXN'], ['BR_PIX', 'BRL'], ['IN_UPI', 'INR'], ['ID_QRIS', 'IDR'], ['ID_VA', 'IDR'],
    ['ID_DANA', 'IDR'], ['ID_OVO', 'IDR'], ['ID_SHOPEEPAY', 'IDR'], ['ID_GOPAY', 'IDR'], ['ID_LINKAJA', 'IDR'],
    ['PROMPTPAY', 'THB'], ['PH_GCASH', 'PHP'], ['PH_MAYA', 'PHP'], ['PH_GRAB', 'PHP'], ['PH_QRIS', 'PHP'],
    ['PK_WALLET', 'PKR'], ['BD_BKASH', 'BDT'], ['BD_NAGAD', 'BDT'],
  ];
  const payouts: ReadonlyArray<readonly [string, string]> = [
    ['MX_SPEI', 'MXN'], ['BR_PIX', 'BRL'], ['IN_IMPS', 'INR'], ['ID_DF', 'IDR'], ['TH_DF', 'THB'],
    ['PH_DF_BANK', 'PHP'], ['PH_DF_WALLET', 'PHP'], ['PK_DF', 'PKR'], ['BD_DF', 'BDT'],
  ];
  for (const [code, currency] of payins) {
    assert.ok(methodsFor(currency, 'payin').some((m) => m.code === code), `${code} pay-in`);
  }
  for (const [code, currency] of payouts) {
    assert.ok(methodsFor(currency, 'payout').some((m) => m.code === code), `${code} payout`);
  }
  assert.equal(new Set(CATALOGUE.map((m) => m.code)).size, CATALOGUE.length);
  for (const m of CATALOGUE) {
    assert.equal(m.directions.includes('payin'), m.paramKinds.length > 0, `${m.code}: pay-ins and only pay-ins return params`);
  }
  assert.equal(findMethod('ID_QRIS')?.label, 'QRIS');
  assert.equal(findMethod('qris'), undefined);
  assert.deepEqual(methodsFor('xyz', 'payin'), []);
});

const ok = undefined;
type ExtraRow = readonly [string, Direction, Record<string, string> | undefined, string | undefined];
const BENEFICIARY = { accountName: 'Juan Perez' };

const EXTRA: readonly ExtraRow[] = [
  // pay-ins: modest requirements
  ['MX_SPEI', 'payin', undefined, ok],
  ['PROMPTPAY', 'payin', { bankCode: 'TMB', accountNo: 'whatever', email: 'a@b.c' }, ok], // undeclared extras ignored
  ['ID_QRIS', 'payin', {}, ok],
  ['PK_WALLET', 'payin', { payType: 'PK_WALLET_JAZZCASH', mobile: '03001234567' }, ok],
  ['PK_WALLET', 'payin', { payType: 'pk_wallet_easypaisa', mobile: '+923451234567' }, ok],
  ['PK_WALLET', 'payin', { mobile: '03001234567' }, 'extra.payType is required for PK_WALLET payins'],
  ['PK_WALLET', 'payin', { payType: 'PK_WALLET_JAZZCASH' }, 'extra.mobile is required for PK_WALLET payins'],
  ['PK_WALLET', 'payin', { payType: 'PK_WALLET_SADAPAY', mobile: '03001234567' }, 'extra.payType must be one of PK_WALLET_JAZZCASH, PK_WALLET_EASYPAISA'],
  ['PK_WALLET', 'payin', { payType: 'PK_WALLET_JAZZCASH', mobile: '12345' }, 'extra.mobile must be a PK mobile number'],
  ['ID_OVO', 'payin', {}, ok],
  ['ID_OVO', 'payin', { mobile: '081234567890' }, ok],
  ['ID_OVO', 'payin', { mobile: '0212345678' }, 'extra.mobile must be a ID mobile number'],
  ['ID_VA', 'payin', { bankCode: 'bca' }, ok],
  ['ID_VA', 'payin', { bankCode: 'OVO' }, 'extra.bankCode OVO is a wallet; ID_VA accepts bank codes only'],
  // MX_SPEI payouts: CLABE, optional matching bankCode
  ['MX_SPEI', 'payout', { ...BENEFICIARY, accountNo: '002010077777777771' }, ok],
  ['MX_SPEI', 'payout', { ...BENEFICIARY, accountNo: '002010077777777771', bankCode: '002' }, ok],
  ['MX_SPEI', 'payout', { ...BENEFICIARY, accountNo: '002010077777777771', bankCode: 'banamex' }, ok],
  ['MX_SPEI', 'payout', { ...BENEFICIARY, accountNo: '012180012345678909', bankCode: 'BBVA' }, ok],
  ['MX_SPEI', 'payout', { ...BENEFICIARY, accountNo: '646180157000000004', bankCode: '' }, ok],
  ['MX_SPEI', 'payout', { ...BENEFICIARY, accountNo: '002010077777777772' }, 'extra.accountNo must be an 18-digit CLABE with a valid check digit'],
  ['MX_SPEI', 'payout', { ...BENEFICIARY, accountNo: '1234567890' }, 'extra.accountNo must be an 18-digit CLABE with a valid check digit'],
  ['MX_SPEI', 'payout', { ...BENEFICIARY, accountNo: '999180012345678909' }, 'extra.accountNo: CLABE bank 999 is not a known SPEI participant'],
  ['MX_SPEI', 'payout', { ...BENEFICIARY, accountNo: '002010077777777771', bankCode: '012' }, "extra.bankCode does not match the CLABE's bank 002 (BANAMEX)"],
  ['MX_SPEI', 'payout', { ...BENEFICIARY, accountNo: '002010077777777771', bankCode: 'XYZ' }, 'extra.bankCode XYZ is not a known MX bank code (the codes are listed in docs/methods.md)'],
  ['MX_SPEI', 'payout', { accountNo: '002010077777777771' }, 'extra.accountName is required for MX_SPEI payouts'],
  ['MX_SPEI', 'payout', { accountName: '  ', accountNo: '002010077777777771' }, 'extra.accountName is required for MX_SPEI payouts'],
  ['MX_SPEI', 'payout', undefined, 'extra.accountName is required for MX_SPEI payouts'],
  // BR_PIX payouts: a PIX key
  ['BR_PIX', 'payout', { ...BENEFICIARY, accountNo: '52998224725' }, ok],
  ['BR_PIX', 'payout', { ...BENEFICIARY, accountNo: '11222333000181' }, ok],
  ['BR_PIX', 'payout', { ...BENEFICIARY, accountNo: 'joao@example.com.br' }, ok],
  ['BR_PIX', 'payout', { ...BENEFICIARY, accountNo: '+5511987654321' }, ok],
  ['BR_PIX', 'payout', { ...BENEFICIARY, accountNo: '123e4567-e12b-12d1-a456-426655440000' }, ok],
  ['BR_PIX', 'payout', { ...BENEFICIARY, accountNo: '52998224726' }, 'extra.accountNo must be a PIX key: CPF (11 digits), CNPJ (14 digits), e-mail, +55 phone or random key (UUID)'],
  // IN_IMPS: IFSC
  ['IN_IMPS', 'payout', { ...BENEFICIARY, accountNo: '50100012345678', bankCode: 'HDFC0001234' }, ok],
  ['IN_IMPS', 'payout', { ...BENEFICIARY, accountNo: '50100012345678', bankCode: 'sbin0000691' }, ok],
  ['IN_IMPS', 'payout', { ...BENEFICIARY, accountNo: '50100012345678', bankCode: 'HDFC1001234' }, 'extra.bankCode must be an IFSC code (e.g. HDFC0001234)'],
  ['IN_IMPS', 'payout', { ...BENEFICIARY, accountNo: '50100012345678' }, 'extra.bankCode is required for IN_IMPS payouts'],
  ['IN_IMPS', 'payout', { ...BENEFICIARY, accountNo: '1234', bankCode: 'HDFC0001234' }, 'extra.accountNo must be a 9–18 digit account number'],
  // bank-table countries
  ['ID_DF', 'payout', { ...BENEFICIARY, accountNo: '1234567890', bankCode: 'BCA' }, ok],
  ['ID_DF', 'payout', { ...BENEFICIARY, accountNo: '081234567890', bankCode: 'dana' }, ok],
  ['ID_DF', 'payout', { ...BENEFICIARY, accountNo: '1234567890', bankCode: 'DANA' }, "extra.accountNo must be the DANA account's mobile number"],
  ['ID_DF', 'payout', { ...BENEFICIARY, accountNo: '12AB', bankCode: 'BRI' }, 'extra.accountNo is not a valid ID bank account number'],
  ['ID_DF', 'payout', { ...BENEFICIARY, accountNo: '1234567890', bankCode: 'KBANK' }, 'extra.bankCode KBANK is not a known ID bank code (the codes are listed in docs/methods.md)'],
  ['ID_DF', 'payout', { ...BENEFICIARY, accountNo: '1234567890' }, 'extra.bankCode is required for ID_DF payouts'],
  ['TH_DF', 'payout', { accountName: 'NGUYEN TIEN HUY', accountNo: '1234561234', bankCode: 'TMB' }, ok],
  ['TH_DF', 'payout', { ...BENEFICIARY, accountNo: '0812345678', bankCode: 'PROMPTPAY' }, ok],
  ['TH_DF', 'payout', { ...BENEFICIARY, accountNo: '1234567890123', bankCode: 'PROMPTPAY' }, ok],
  ['PH_DF_BANK', 'payout', { ...BENEFICIARY, accountNo: '001234567890', bankCode: 'BDO' }, ok],
  ['PH_DF_BANK', 'payout', { ...BENEFICIARY, accountNo: '09171234567', bankCode: 'GCASH' }, 'extra.bankCode GCASH is a wallet; PH_DF_BANK accepts bank codes only'],
  ['PH_DF_WALLET', 'payout', { ...BENEFICIARY, accountNo: '09171234567', bankCode: 'MAYA' }, ok],
  ['PH_DF_WALLET', 'payout', { ...BENEFICIARY, accountNo: '001234567890', bankCode: 'BPI' }, 'extra.bankCode BPI is a bank; PH_DF_WALLET accepts wallet codes only'],
  ['PK_DF', 'payout', { ...BENEFICIARY, accountNo: 'PK36SCBL0000001123456702', bankCode: 'SCBPL' }, ok],
  ['PK_DF', 'payout', { ...BENEFICIARY, accountNo: '03001234567', bankCode: 'EASYPAISA' }, ok],
  ['BD_DF', 'payout', { ...BENEFICIARY, accountNo: '01712345678', bankCode: 'BKASH' }, ok],
  ['BD_DF', 'payout', { ...BENEFICIARY, accountNo: '1234567890123', bankCode: 'DBBL' }, ok],
  ['BD_DF', 'payout', { accountName: 'A\u0000B', accountNo: '1234567890123', bankCode: 'DBBL' }, 'extra.accountName must be at most 128 characters, without control characters'],
];

for (const [code, direction, extra, error] of EXTRA) {
  test(`validateExtra ${code} ${direction} ${JSON.stringify(extra)} → ${error ?? 'ok'}`, () => {
    const def = findMethod(code);
    assert.ok(def, code);
    if (error === undefined) validateExtra(def, direction, extra);
    else assert.throws(() => validateExtra(def, direction, extra), isAppError('BAD_REQUEST', error));
  });
}

test('validateExtra refuses non-string members it uses', () => {
  const def = findMethod('ID_DF')!;
  const extra = { accountName: 'A', accountNo: 1234567890, bankCode: 'BCA' } as unknown as Record<string, string>;
  assert.throws(() => validateExtra(def, 'payout', extra), isAppError('BAD_REQUEST', 'extra.accountNo must be a string'));
});

test('canonicalBankCode resolves case and aliases', () => {
  assert.equal(canonicalBankCode(findMethod('TH_DF')!, 'tmb'), 'TTB');
  assert.equal(canonicalBankCode(findMethod('PH_DF_WALLET')!, 'maya'), 'PAYMAYA');
  assert.equal(canonicalBankCode(findMethod('MX_SPEI')!, 'bbva'), '012');
  assert.equal(canonicalBankCode(findMethod('IN_IMPS')!, 'sbin0000691'), 'SBIN0000691');
});

test('channelExtra: what a channel gets is canonical; other members pass unchanged', () => {
  const rows: Array<[string, Record<string, string>, Record<string, string>]> = [
    ['ID_DF', { bankCode: ' bca ', accountNo: '1234567890', accountName: 'Budi' }, { bankCode: 'BCA', accountNo: '1234567890', accountName: 'Budi' }],
    ['ID_DF', { bankCode: 'Bank Central Asia', accountNo: '1234567890' }, { bankCode: 'BCA', accountNo: '1234567890' }],
    ['ID_DF', { bankCode: 'dana', accountNo: '0812-3456-7890' }, { bankCode: 'DANA', accountNo: '081234567890' }],
    ['TH_DF', { bankCode: 'tmb', accountNo: '1234567890' }, { bankCode: 'TTB', accountNo: '1234567890' }],
    ['MX_SPEI', { bankCode: 'bbva mexico', accountNo: '012180001234567897' }, { bankCode: '012', accountNo: '012180001234567897' }],
    ['IN_IMPS', { bankCode: 'sbin0000691 ', accountNo: '123456789' }, { bankCode: 'SBIN0000691', accountNo: '123456789' }],
    ['ID_OVO', { mobile: '+62 812 (3456) 7890', email: 'a@b.c' }, { mobile: '+6281234567890', email: 'a@b.c' }],
    ['BR_PIX', { accountNo: 'pix@example.com', accountName: 'Ana' }, { accountNo: 'pix@example.com', accountName: 'Ana' }],
  ];
  for (const [code, given, expected] of rows) assert.deepEqual(channelExtra(findMethod(code)!, given), expected, `${code} ${JSON.stringify(given)}`);
  assert.equal(channelExtra(findMethod('ID_QRIS')!, null), null);
  const kept = { bankCode: 'bca' };
  channelExtra(findMethod('ID_DF')!, kept);
  assert.deepEqual(kept, { bankCode: 'bca' }, 'the order keeps what the merchant sent');
});
