import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OrderRow } from '../../platform/db/schema.ts';
import { signParams } from '../../platform/sign.ts';
import { RETURN_PARAMS, signedReturnUrl } from './return-url.ts';

const SECRET = 'daa153d25c25c3736b474a91aeaa7fa7';

function order(returnUrl: string | null, over: Partial<OrderRow> = {}): OrderRow {
  return {
    order_no: 'PO01',
    mer_order_no: 'm-1',
    status: 'PAID',
    generation: 'v3',
    acknowledged: 0n,
    amount: 125050n,
    currency: 'MXN',
    attach: null,
    return_url: returnUrl,
    ...over,
  } as OrderRow;
}

const SIGN_V3 = signParams({ orderNo: 'PO01', merOrderNo: 'm-1', status: 'PAID', amount: 1250.5, currency: 'MXN' }, SECRET);
const TAIL = `orderNo=PO01&merOrderNo=m-1&status=PAID&amount=1250.5&currency=MXN&sign=${SIGN_V3}`;

describe('signedReturnUrl', () => {
  const cases: Array<[string, string, string]> = [
    ['no query', 'https://shop.example/r', `https://shop.example/r?${TAIL}`],
    ['an empty query', 'https://shop.example/r?', `https://shop.example/r?${TAIL}`],
    ['a query ending in &', 'https://shop.example/r?a=1&', `https://shop.example/r?a=1&${TAIL}`],
    ['the merchant query kept byte for byte', 'https://shop.example/r?q=a%20b&flag&t=~&s=%7e&p=a+b', `https://shop.example/r?q=a%20b&flag&t=~&s=%7e&p=a+b&${TAIL}`],
    ['a fragment stays last', 'https://shop.example/r?x=1#done', `https://shop.example/r?x=1&${TAIL}#done`],
    ['a fragment without query', 'https://shop.example/r#done', `https://shop.example/r?${TAIL}#done`],
    ['a bare host gets its slash', 'https://shop.example', `https://shop.example/?${TAIL}`],
  ];
  for (const [name, url, expected] of cases) {
    it(name, () => assert.equal(signedReturnUrl(order(url), SECRET), expected));
  }

  it('none without a returnUrl', () => assert.equal(signedReturnUrl(order(null), SECRET), null));

  it('values are percent-encoded as UTF-8 (space %20, + %2B); the sign covers the raw values', () => {
    const attach = 'a&b=c d/é+%#';
    const url = signedReturnUrl(order('https://shop.example/r', { attach, generation: 'v2', acknowledged: 1n }), SECRET)!;
    const query = url.slice(url.indexOf('?') + 1);
    assert.match(query, /&attach=a%26b%3Dc%20d%2F%C3%A9%2B%25%23&/);
    const pairs = query.split('&').map((p) => p.split('=').map(decodeURIComponent) as [string, string]);
    const params = Object.fromEntries(pairs);
    assert.equal(params.attach, attach);
    assert.equal(params.orderStatus, '3');
    const { sign, ...signed } = params;
    assert.equal(sign, signParams(signed, SECRET));
    // A form decoder reads the same values.
    assert.equal(new URL(url).searchParams.get('attach'), attach);
  });
});

describe('RETURN_PARAMS', () => {
  it('names every parameter a redirect appends, in both generations', () => {
    for (const over of [{}, { generation: 'v2' }, { attach: 'a&b' }] as Array<Partial<OrderRow>>) {
      const appended = new URL(signedReturnUrl(order('https://shop.example/r', over), SECRET)!).searchParams;
      for (const name of appended.keys()) assert.ok(RETURN_PARAMS.has(name.toLowerCase()), name);
    }
  });
});
