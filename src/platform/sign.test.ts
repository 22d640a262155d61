import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ExactNumber } from './exact-number.ts';
import { parseJsonBody } from './json.ts';
import { canonicalString, compareCodePoints, signParams, verifySign } from './sign.ts';

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

describe('sign: test vector of merchant-api.md section 2', () => {
  const secret = 'daa153d25c25c3736b474a91aeaa7fa7';
  const body =
    '{"appId":"af37752d8bfc9c23ce9a39e6cf44d135","merOrderNo":"4085_12200315","notifyUrl":"https://19fb-15-164-4-252.ngrok-free.app/Payin/Callback/StarPagoPayTHB/4085","currency":"THB","amount":"100","payMethod":"PROMPTPAY","extra":{"accountName":"NGUYEN TIEN HUY","accountNo":"123456123456","bankCode":"TMB","email":"StarPago@gmail.com","mobile":"0123445677"},"return_url":"/","attach":"StarPago"}';
  const canonical =
    'amount=100&appId=af37752d8bfc9c23ce9a39e6cf44d135&attach=StarPago&currency=THB&extra=accountName=NGUYEN TIEN HUY&accountNo=123456123456&bankCode=TMB&email=StarPago@gmail.com&mobile=0123445677&merOrderNo=4085_12200315&notifyUrl=https://19fb-15-164-4-252.ngrok-free.app/Payin/Callback/StarPagoPayTHB/4085&payMethod=PROMPTPAY&return_url=/';
  const expected = 'e751a90689e87ffdbc3025d9e37825f11ed76742e9d1316c0cfbac6313c580aa';
  const params = parseJsonBody(Buffer.from(body)) as Record<string, unknown>;

  it('builds the exact canonical string', () => {
    assert.equal(canonicalString(params), canonical);
  });
  it('signs to the exact sign', () => {
    assert.equal(signParams(params, secret), expected);
    assert.equal(sha256(`${canonical}&key=${secret}`), expected);
  });
  it('verifies, in either letter case', () => {
    assert.equal(verifySign({ ...params, sign: expected }, secret), true);
    assert.equal(verifySign({ ...params, sign: expected.toUpperCase() }, secret), true);
  });
  it('is unaffected by an empty nested member, whichever way it was signed', () => {
    const withEmpty = { ...params, extra: { ...(params['extra'] as object), remark: '' } };
    assert.equal(canonicalString(withEmpty), canonical);
    assert.equal(verifySign({ ...withEmpty, sign: expected }, secret), true);
  });
  it('fails when the amount is tampered with', () => {
    assert.equal(verifySign({ ...params, amount: '1000', sign: expected }, secret), false);
    assert.equal(verifySign({ ...params, amount: 100, sign: expected }, secret), true);
    assert.equal(verifySign({ ...params, amount: '100.00', sign: expected }, secret), false);
  });
  it('fails with another secret', () => {
    assert.equal(verifySign({ ...params, sign: expected }, secret.replace('d', 'e')), false);
  });
});

describe('canonicalString: filtering and rendering', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['null dropped', { a: null, b: '1' }, 'b=1'],
    ['undefined dropped', { a: undefined, b: '1' }, 'b=1'],
    ['empty string dropped', { a: '', b: '1' }, 'b=1'],
    ['zero kept', { a: 0, b: '1' }, 'a=0&b=1'],
    ['string zero kept', { a: '0' }, 'a=0'],
    ['false kept', { a: false }, 'a=false'],
    ['true kept', { a: true }, 'a=true'],
    ['whitespace kept verbatim', { a: ' ' }, 'a= '],
    ['sign excluded', { sign: 'abc', a: '1' }, 'a=1'],
    ['nothing left', { sign: 'abc', a: null }, ''],
    ['numbers in shortest form', { a: 100.0, b: 12.5, c: -0.01, d: 1e21, e: -0 }, 'a=100&b=12.5&c=-0.01&d=1e+21&e=0'],
    ['exact numbers as JavaScript reads them', { a: new ExactNumber('99999999999999.99'), b: new ExactNumber('-0.5') }, 'a=99999999999999.98&b=-0.5'],
    ['strings verbatim', { a: '100.00', b: 'x&y=z', c: 'caf\u00e9 %20' }, 'a=100.00&b=x&y=z&c=caf\u00e9 %20'],
    ['nested rendered as its own canonical string', { extra: { b: '2', a: '1' }, z: 1 }, 'extra=a=1&b=2&z=1'],
    ['nested filtered', { extra: { a: '', b: null, c: 0, d: 'x' } }, 'extra=c=0&d=x'],
    ['nested keeps its own sign member', { extra: { sign: 's' } }, 'extra=sign=s'],
    ['deeper nesting', { p: { q: { s: 'x', r: 'y' } } }, 'p=q=r=y&s=x'],
    ['empty nested object kept as key=', { extra: {}, a: '1' }, 'a=1&extra='],
    ['nested object emptied by filtering', { extra: { a: '' } }, 'extra='],
    ['arrays as JSON text', { list: ['a', 1, null, { b: 2 }] }, 'list=["a",1,null,{"b":2}]'],
    ['null-prototype objects', Object.assign(Object.create(null), { b: '2', a: { d: '1' } }), 'a=d=1&b=2'],
  ];
  for (const [name, params, expected] of cases) {
    it(name, () => assert.equal(canonicalString(params), expected));
  }

  it('keepEmptyNested keeps empty strings inside nested objects only', () => {
    const params = { top: '', extra: { a: '', b: '1', n: null, deep: { c: '' } } };
    assert.equal(canonicalString(params), 'extra=b=1&deep=');
    assert.equal(canonicalString(params, { keepEmptyNested: true }), 'extra=a=&b=1&deep=c=');
  });

  it('ignores the raw-number map the JSON parser attaches', () => {
    const params = parseJsonBody(Buffer.from('{"amount":100.00,"extra":{"n":1.50}}')) as Record<string, unknown>;
    assert.equal(canonicalString(params), 'amount=100&extra=n=1.5');
  });

  const bugs: Array<[string, Record<string, unknown>]> = [
    ['bigint', { amount: 100n }],
    ['NaN', { amount: Number.NaN }],
    ['Infinity', { amount: Number.POSITIVE_INFINITY }],
    ['Date', { at: new Date(0) }],
    ['Map', { m: new Map() }],
    ['function', { f: () => 1 }],
    ['symbol', { s: Symbol('x') }],
  ];
  for (const [name, params] of bugs) {
    it(`refuses to sign a ${name} (caller bug)`, () => assert.throws(() => canonicalString(params), TypeError));
  }
});

describe('canonicalString: key order', () => {
  const cases: Array<[string[], string[]]> = [
    [['a', 'B'], ['B', 'a']],
    [['b', 'a', 'A', 'Z', '_', '1'], ['1', 'A', 'Z', '_', 'a', 'b']],
    [['appId', 'amount', 'app', 'attach'], ['amount', 'app', 'appId', 'attach']],
    [['return_url', 'returnUrl'], ['returnUrl', 'return_url']],
    [['\u00e9', 'z', '\u4e2d'], ['z', '\u00e9', '\u4e2d']],
    // U+1F600 (a surrogate pair) is above U+FF01 by code point, below it by UTF-16 unit.
    [['\ud83d\ude00', '\uff01', 'a'], ['a', '\uff01', '\ud83d\ude00']],
  ];
  for (const [keys, expected] of cases) {
    it(`${JSON.stringify(keys)} → ${JSON.stringify(expected)}`, () => {
      const params = Object.fromEntries(keys.map((k) => [k, 'v']));
      assert.equal(canonicalString(params), expected.map((k) => `${k}=v`).join('&'));
    });
  }

  it('compareCodePoints agrees with code-point order on random strings', () => {
    const alphabet = ['a', 'B', '\u00e9', '\ud7ff', '\ue000', '\uffff', '\ud800\udc00', '\ud83d\ude00', '\udbff\udfff'];
    const pick = (): string => Array.from({ length: 1 + Math.floor(Math.random() * 3) }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('');
    const byCodePoints = (a: string, b: string): number => {
      const x = [...a].map((c) => c.codePointAt(0) ?? 0);
      const y = [...b].map((c) => c.codePointAt(0) ?? 0);
      for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
      return x.length - y.length;
    };
    for (let i = 0; i < 2000; i++) {
      const a = pick();
      const b = pick();
      assert.equal(Math.sign(compareCodePoints(a, b)), Math.sign(byCodePoints(a, b)), `${a} vs ${b}`);
    }
  });
});

describe('verifySign', () => {
  const secret = '0123456789abcdef0123456789abcdef';
  const base = { appId: 'a'.repeat(32), merOrderNo: 'M1', amount: 12.5, currency: 'MXN', extra: { accountNo: '1', remark: '' } };
  const good = signParams(base, secret);
  const keptWay = sha256(`${canonicalString(base, { keepEmptyNested: true })}&key=${secret}`);

  const cases: Array<[string, unknown, boolean]> = [
    ['correct sign', good, true],
    ['uppercase hex', good.toUpperCase(), true],
    ['mixed-case hex', good.slice(0, 32) + good.slice(32).toUpperCase(), true],
    ['signed with nested empties kept', keptWay, true],
    ['wrong sign', good.replace(/^./, good[0] === '0' ? '1' : '0'), false],
    ['missing sign', undefined, false],
    ['null sign', null, false],
    ['empty sign', '', false],
    ['non-hex sign', 'z'.repeat(64), false],
    ['too short', good.slice(0, 63), false],
    ['too long', `${good}0`, false],
    ['surrounding whitespace', ` ${good}`, false],
    ['number sign', 12345, false],
    ['array sign', [good], false],
    ['sign over another secret', signParams(base, 'other'), false],
  ];
  for (const [name, sign, expected] of cases) {
    it(`${name} → ${expected}`, () => {
      assert.equal(verifySign({ ...base, sign }, secret), expected);
    });
  }

  it('the two variants really differ here', () => assert.notEqual(good, keptWay));

  it('an empty extra is accepted signed as extra= (the rule) or left out; the gateway renders extra=', () => {
    const empty = { appId: 'a'.repeat(32), amount: 1, extra: {} as Record<string, string> };
    assert.equal(canonicalString(empty), `amount=1&appId=${'a'.repeat(32)}&extra=`);
    assert.equal(canonicalString(empty, { omitEmptyObjects: true }), `amount=1&appId=${'a'.repeat(32)}`);
    const withKey = sha256(`amount=1&appId=${'a'.repeat(32)}&extra=&key=${secret}`);
    const without = sha256(`amount=1&appId=${'a'.repeat(32)}&key=${secret}`);
    assert.equal(verifySign({ ...empty, sign: withKey }, secret), true);
    assert.equal(verifySign({ ...empty, sign: without }, secret), true);
    // Emptied by its own empty members: kept as extra=remark= by some libraries, or left out by others.
    const emptied = { ...empty, extra: { remark: '' } };
    assert.equal(verifySign({ ...emptied, sign: sha256(`amount=1&appId=${'a'.repeat(32)}&extra=remark=&key=${secret}`) }, secret), true);
    assert.equal(verifySign({ ...emptied, sign: without }, secret), true);
    // Leaving out a non-empty extra is still a wrong sign.
    assert.equal(verifySign({ ...empty, extra: { a: '1' }, sign: without }, secret), false);
  });

  const tampered: Array<[string, Record<string, unknown>]> = [
    ['amount', { amount: 125 }],
    ['amount as string', { amount: '12.50' }],
    ['currency', { currency: 'USD' }],
    ['nested member', { extra: { accountNo: '2', remark: '' } }],
    ['added field', { attach: 'x' }],
  ];
  for (const [name, change] of tampered) {
    it(`tampered ${name} fails`, () => {
      assert.equal(verifySign({ ...base, ...change, sign: good }, secret), false);
    });
  }

  it('fields that sign as absent may be added or removed', () => {
    assert.equal(verifySign({ ...base, attach: '', note: null, sign: good }, secret), true);
  });
});
