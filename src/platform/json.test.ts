import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from './errors.ts';
import { MAX_DEPTH, MAX_VALUES, RAW_NUMBERS, parseJsonBody, rawNumberText } from './json.ts';

const parse = (text: string): unknown => parseJsonBody(Buffer.from(text, 'utf8'));

/** Asserts a 400 whose detail matches `detail`. */
function assertRefused(body: string | Buffer, detail: RegExp): void {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  assert.throws(
    () => parseJsonBody(buf),
    (err: unknown) => {
      assert.ok(err instanceof AppError, `expected AppError, got ${String(err)}`);
      assert.equal(err.code, 'BAD_REQUEST');
      assert.match(err.detail ?? '', detail);
      return true;
    },
    `expected ${JSON.stringify(body.toString())} to be refused`,
  );
}

describe('parseJsonBody: valid documents', () => {
  const cases: Array<[string, unknown]> = [
    ['{}', {}],
    ['[]', []],
    ['"x"', 'x'],
    ['""', ''],
    ['0', 0],
    ['-0', -0],
    ['12.5', 12.5],
    ['1e2', 100],
    ['-1.5E-3', -0.0015],
    ['1E+2', 100],
    ['true', true],
    ['false', false],
    ['null', null],
    [' \t\r\n{ "a" : [ 1 , "b" , null , true , false , { } , [ ] ] } \n', { a: [1, 'b', null, true, false, {}, []] }],
    ['{"a":{"b":{"c":"d"}}}', { a: { b: { c: 'd' } } }],
    ['{"constructor":1,"toString":"x","prototype":{}}', { constructor: 1, toString: 'x', prototype: {} }],
    ['"caf\u00e9 \u4e2d \ud83d\ude00"', 'caf\u00e9 \u4e2d \ud83d\ude00'],
  ];
  for (const [text, expected] of cases) {
    it(`parses ${JSON.stringify(text)}`, () => {
      assert.deepStrictEqual(parse(text), expected);
    });
  }

  it('strips exactly one leading BOM', () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    assert.deepStrictEqual(parseJsonBody(Buffer.concat([bom, Buffer.from('{"a":1}')])), { a: 1 });
    assertRefused(Buffer.concat([bom, bom, Buffer.from('{}')]), /unexpected U\+FEFF at offset 3/);
  });

  it('builds objects with Object.prototype and no way to reach it', () => {
    const obj = parse('{"a":{"constructor":{"prototype":{"polluted":1}}}}') as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(obj), Object.prototype);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });
});

describe('parseJsonBody: string escapes', () => {
  const cases: Array<[string, string]> = [
    ['"a\\"b"', 'a"b'],
    ['"a\\\\b"', 'a\\b'],
    ['"a\\/b"', 'a/b'],
    ['"\\b\\f\\n\\r\\t"', '\b\f\n\r\t'],
    ['"\\u0041\\u00e9\\u4E2D"', 'A\u00e9\u4e2d'],
    ['"\\uD83D\\uDE00"', '\ud83d\ude00'],
    ['"x\\uD800y"', 'x\ud800y'],
    ['"\\uDC00"', '\udc00'],
    ['"pre \\n mid \\t post"', 'pre \n mid \t post'],
  ];
  for (const [text, expected] of cases) {
    it(`decodes ${text}`, () => {
      assert.equal(parse(text), expected);
    });
  }
});

describe('parseJsonBody: refusals', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /^body is empty$/],
    ['  \n', /^body is empty$/],
    ['{"amount":1,}', /^body is not valid JSON: unexpected '}' at offset 12$/],
    ['[1,2,]', /unexpected '\]' at offset 5/],
    ["{'a':1}", /unexpected "'" at offset 1/],
    ['{"a":NaN}', /unexpected 'N' at offset 5/],
    ['{"a":Infinity}', /unexpected 'I'/],
    ['{"a":1e999}', /^number 1e999 is out of range at offset 5$/],
    ['{"a":-1e309}', /^number -1e309 is out of range at offset 5$/],
    ['[1,1e400]', /^number 1e400 is out of range at offset 3$/],
    ['1e999', /^number 1e999 is out of range at offset 0$/],
    [`{"a":${'9'.repeat(400)}}`, /^number 999999999999999999999999… is out of range at offset 5$/],
    ['{"a":012}', /invalid number \(leading zero\) at offset 5/],
    ['-012', /leading zero/],
    ['{"a":+1}', /unexpected '\+' at offset 5/],
    ['{"a":.5}', /unexpected '\.' at offset 5/],
    ['{"a":1.}', /invalid number at offset 5/],
    ['{"a":1e}', /invalid number/],
    ['{"a":1e+}', /invalid number/],
    ['{"a":-}', /invalid number/],
    ['{"a":0x10}', /unexpected 'x'/],
    ['{"a":"abc', /unterminated string at offset 5/],
    ['{"a":"ab\\', /unterminated string/],
    ['"a\nb"', /unescaped control character U\+000A in string at offset 2/],
    ['"a\tb"', /unescaped control character U\+0009/],
    ['"\\x"', /invalid escape 'x' in string/],
    ['"\\u12"', /invalid \\u escape/],
    ['"\\u12G4"', /invalid \\u escape/],
    ['"a\\u0000b"', /^the NUL character \(\\u0000\) is not allowed in a string at offset 2$/],
    ['{"\\u0000":1}', /NUL character/],
    ['{"a" 1}', /unexpected '1'/],
    ['{a:1}', /unexpected 'a' at offset 1/],
    ['{"a":1 "b":2}', /unexpected '"'/],
    ['[1 2]', /unexpected '2'/],
    ['{"a":1}}', /unexpected '}' at offset 7/],
    ['{"a":1} x', /unexpected 'x'/],
    ['{"a":1', /unexpected end of input at offset 6/],
    ['[', /unexpected end of input/],
    ['tru', /unexpected 't'/],
    ['nul', /unexpected 'n'/],
    ['True', /unexpected 'T'/],
    ['{"a":undefined}', /unexpected 'u'/],
    ['{"é":1,"é":2}', /^duplicate key "é" at offset 8$/],
    ['{"amount":1,"amount":1}', /^duplicate key "amount" at offset 12$/],
    ['{"a":{"x":1,"x":2}}', /duplicate key "x"/],
    ['{"__proto__":{"polluted":1}}', /^key "__proto__" is not allowed at offset 1$/],
    ['{"a":[{"__proto__":1}]}', /key "__proto__" is not allowed/],
    ['{"a":1}\u00a0', /unexpected U\+00A0/],
    ['\u00e9', /unexpected U\+00E9 at offset 0/],
    ['{"a":\ud83d\ude00}', /unexpected U\+1F600 at offset 5/],
  ];
  for (const [text, detail] of cases) {
    it(`refuses ${JSON.stringify(text)}`, () => assertRefused(text, detail));
  }

  it('reports byte offsets, counting multi-byte characters and the BOM', () => {
    assertRefused('{"é":1,}', /unexpected '}' at offset 8/);
    assertRefused(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[1,]')]), /offset 6/);
  });

  it('caps echoed keys', () => {
    const key = 'k'.repeat(1000);
    assertRefused(`{"${key}":1,"${key}":2}`, /^duplicate key "k{64}…" at offset \d+$/);
  });

  const invalidUtf8: Array<[string, number[]]> = [
    ['0xff', [0x7b, 0xff, 0x7d]],
    ['lone continuation byte', [0x22, 0x80, 0x22]],
    ['truncated sequence', [0x22, 0xe2, 0x82, 0x22]],
    ['overlong encoding', [0x22, 0xc0, 0xaf, 0x22]],
    ['encoded surrogate', [0x22, 0xed, 0xa0, 0x80, 0x22]],
    ['beyond U+10FFFF', [0x22, 0xf4, 0x90, 0x80, 0x80, 0x22]],
  ];
  for (const [name, bytes] of invalidUtf8) {
    it(`refuses invalid UTF-8 (${name})`, () => assertRefused(Buffer.from(bytes), /^body is not valid UTF-8$/));
  }
});

describe('parseJsonBody: depth', () => {
  const nest = (n: number): string => '['.repeat(n) + ']'.repeat(n);
  it(`accepts ${MAX_DEPTH} levels`, () => {
    assert.ok(Array.isArray(parse(nest(MAX_DEPTH))));
    assert.ok(parse('{"a":'.repeat(MAX_DEPTH - 1) + '{}' + '}'.repeat(MAX_DEPTH - 1)));
  });
  it(`accepts ${MAX_VALUES} members and elements in all, refuses one more`, () => {
    const zeros = (n: number) => `[${Array(n).fill('0').join(',')}]`;
    assert.equal((parse(zeros(MAX_VALUES)) as unknown[]).length, MAX_VALUES);
    assertRefused(zeros(MAX_VALUES + 1), /^body has more than 1000 members and elements at offset 2001$/);
    // Counted across the whole body: members of objects and elements of nested arrays alike.
    const half = Array.from({ length: MAX_VALUES / 2 }, (_, i) => `"k${i}":0`).join(',');
    assert.ok(parse(`{${half.split(',').slice(1).join(',')},"a":[${Array(MAX_VALUES / 2).fill('1').join(',')}]}`));
    assertRefused(`{${half},"a":[${Array(MAX_VALUES / 2).fill('1').join(',')}]}`, /more than 1000 members/);
  });

  it(`refuses ${MAX_DEPTH + 1} levels`, () => {
    assertRefused(nest(MAX_DEPTH + 1), /^body nests deeper than 32 levels at offset 32$/);
    assertRefused('{"a":'.repeat(MAX_DEPTH) + '{}' + '}'.repeat(MAX_DEPTH), /deeper than 32/);
  });
  it('refuses a deep bomb without overflowing the stack', () => {
    assertRefused(nest(100_000), /deeper than 32/);
  });
});

describe('parseJsonBody: raw number tokens', () => {
  it('records the source text of number members of objects and arrays', () => {
    const body = parse(
      '{"amount":100.00,"big":12345678901234567890,"e":1e2,"neg":-0.50,"s":"100.00","list":[1.10,"x",2E-1],"o":{"n":0}}',
    ) as Record<string, unknown>;
    assert.equal(rawNumberText(body, 'amount'), '100.00');
    assert.equal(body['amount'], 100);
    assert.equal(rawNumberText(body, 'big'), '12345678901234567890');
    assert.equal(rawNumberText(body, 'e'), '1e2');
    assert.equal(rawNumberText(body, 'neg'), '-0.50');
    assert.equal(rawNumberText(body, 's'), undefined);
    assert.equal(rawNumberText(body, 'missing'), undefined);
    const list = body['list'] as unknown[];
    assert.equal(rawNumberText(list, '0'), '1.10');
    assert.equal(rawNumberText(list, '1'), undefined);
    assert.equal(rawNumberText(list, '2'), '2E-1');
    assert.equal(rawNumberText(body['o'] as object, 'n'), '0');
  });

  it('keeps the map invisible to enumeration, spreads and JSON.stringify', () => {
    const body = parse('{"amount":100.00,"list":[1.0]}') as Record<string, unknown>;
    assert.deepStrictEqual(Object.keys(body), ['amount', 'list']);
    assert.equal(JSON.stringify(body), '{"amount":100,"list":[1]}');
    assert.equal(Object.getOwnPropertyDescriptor(body, RAW_NUMBERS)?.enumerable, false);
    assert.equal(Object.getOwnPropertySymbols({ ...body }).length, 0);
    assert.deepStrictEqual(body, { amount: 100, list: [1] });
  });

  it('adds no map to containers without number members', () => {
    const body = parse('{"a":"1","b":[true]}') as Record<string, unknown>;
    assert.equal(Object.getOwnPropertySymbols(body).length, 0);
    assert.equal(Object.getOwnPropertySymbols(body['b']).length, 0);
  });
});

describe('parseJsonBody: size', () => {
  it('parses a 60 KiB body as JSON.parse does, with its numbers\' text', () => {
    // Under MAX_VALUES: 80 items of 12 members and elements each (the item itself counted), the size in their notes.
    const items = Array.from({ length: 80 }, (_, i) => ({
      merOrderNo: `order_${i}`,
      amount: `${i}.50`,
      note: `caf\u00e9 "quoted" \\ line\n ${i} ${'x'.repeat(640)}`,
      extra: { accountNo: String(1e11 + i), flag: i % 2 === 0, none: null },
      list: [i, -i / 4, 1e21],
    }));
    const text = JSON.stringify({ items });
    const buf = Buffer.from(text, 'utf8');
    assert.ok(buf.length > 60 * 1024 && buf.length < 64 * 1024, `size ${buf.length}`);
    const parsed = parseJsonBody(buf);
    assert.deepStrictEqual(parsed, JSON.parse(text));
    const first = (parsed as { items: Array<{ list: unknown[] }> }).items[3];
    assert.ok(first);
    assert.equal(rawNumberText(first.list, '1'), '-0.75');
  });
});
