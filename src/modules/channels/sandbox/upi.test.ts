import { test } from 'node:test';
import assert from 'node:assert/strict';
import { upiDeeplink, upiEncode } from './upi.ts';

test('deeplink with all fields, in spec order', () => {
  assert.equal(
    upiDeeplink({
      vpa: 'pagoda.sandbox@pagoda',
      payeeName: 'Chai & Co. Pvt Ltd',
      amountText: '499.00',
      txnRef: 'PI20240101000001',
      note: 'Order #42 (2 items)',
    }),
    'upi://pay?pa=pagoda.sandbox@pagoda&pn=Chai%20%26%20Co.%20Pvt%20Ltd&am=499.00&cu=INR&tr=PI20240101000001&tn=Order%20%2342%20%282%20items%29',
  );
});

test('deeplink round-trips through URL parsing', () => {
  const link = upiDeeplink({
    vpa: 'shop-01@okaxis',
    payeeName: 'Ānanda Stores = best?',
    amountText: '1.50',
    txnRef: 'R-1',
  });
  const url = new URL(link);
  assert.equal(url.protocol, 'upi:');
  assert.equal(url.searchParams.get('pa'), 'shop-01@okaxis');
  assert.equal(url.searchParams.get('pn'), 'Ānanda Stores = best?');
  assert.equal(url.searchParams.get('am'), '1.50');
  assert.equal(url.searchParams.get('cu'), 'INR');
  assert.equal(url.searchParams.get('tn'), null);
});

const ENCODED: ReadonlyArray<readonly [string, string]> = [
  ['a b', 'a%20b'],
  ['a+b', 'a%2Bb'],
  ['a@b', 'a@b'],
  ["it's (ok)!*", 'it%27s%20%28ok%29%21%2A'],
  ['₹', '%E2%82%B9'],
];

for (const [raw, expected] of ENCODED) {
  test(`upiEncode(${raw})`, () => assert.equal(upiEncode(raw), expected));
}

test('refuses a bad VPA or amount, truncates a long reference', () => {
  const base = { vpa: 'a.b@bank', payeeName: 'X', amountText: '1.00', txnRef: 'r' };
  assert.throws(() => upiDeeplink({ ...base, vpa: 'nobank' }), RangeError);
  assert.throws(() => upiDeeplink({ ...base, vpa: 'a b@bank' }), RangeError);
  assert.throws(() => upiDeeplink({ ...base, amountText: '1' }), RangeError);
  const link = upiDeeplink({ ...base, txnRef: 'x'.repeat(50) });
  assert.equal(new URL(link).searchParams.get('tr'), 'x'.repeat(35));
});
