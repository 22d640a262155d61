import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertEmvAmount, crc16ccitt, emvPayload, emvText, hasValidCrc, parseTlv, tlv, withCrc } from './emv.ts';

test('CRC-16/CCITT-FALSE check value', () => {
  assert.equal(crc16ccitt('123456789'), '29B1');
  assert.equal(crc16ccitt(''), 'FFFF');
});

/** The CRC bit by bit over UTF-8 bytes, without the table: a second opinion. */
function bitwiseCrc(text: string): string {
  let crc = 0xffff;
  for (const byte of Buffer.from(text, 'utf8')) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc.toString(16).toUpperCase().padStart(4, '0');
}

for (const text of ['123456789', '000201010212', 'Jos\u00e9 S\u00e3o Paulo', '\u4e2d\u6587', 'a\u{1f600}b']) {
  test(`CRC of ${JSON.stringify(text)} is over its UTF-8 bytes`, () => assert.equal(crc16ccitt(text), bitwiseCrc(text)));
}

test('withCrc reproduces the PIX example of the BR Code manual', () => {
  // Banco Central do Brasil, "Manual de Padrões para Iniciação do Pix", static QR example.
  const published =
    '00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D';
  assert.equal(withCrc(published.slice(0, -8)), published);
  assert.equal(hasValidCrc(published), true);
  assert.equal(hasValidCrc(published.replace('Fulano', 'Fulana')), false);
});

const TLVS: ReadonlyArray<readonly [string, string, string]> = [
  ['00', '01', '000201'],
  ['53', '986', '5303986'],
  ['59', '', '5900'],
  ['26', 'x'.repeat(99), '2699' + 'x'.repeat(99)],
];

for (const [id, value, expected] of TLVS) {
  test(`tlv(${id}, ${value.length} chars)`, () => assert.equal(tlv(id, value), expected));
}

test('tlv refuses bad ids and long values', () => {
  assert.throws(() => tlv('1', 'x'), RangeError);
  assert.throws(() => tlv('ab', 'x'), RangeError);
  assert.throws(() => tlv('26', 'x'.repeat(100)), RangeError);
});

test('emvPayload skips empty values, parseTlv reads it back', () => {
  const p = emvPayload([
    ['00', '01'],
    ['01', ''],
    ['58', 'BR'],
  ]);
  assert.equal(hasValidCrc(p), true);
  const fields = parseTlv(p);
  assert.deepEqual(
    fields.map((f) => f.id),
    ['00', '58', '63'],
  );
  assert.equal(fields[2]?.value.length, 4);
});

test('parseTlv refuses truncated input', () => {
  assert.throws(() => parseTlv('0002'), RangeError);
  assert.throws(() => parseTlv('00020'), RangeError);
  assert.throws(() => parseTlv('0x0201'), RangeError);
});

const TEXTS: ReadonlyArray<readonly [string, number, string]> = [
  ['São Paulo', 15, 'Sao Paulo'],
  ['  Loja   do  Zé  ', 25, 'Loja do Ze'],
  ['Açaí & Cia Comércio de Alimentos', 25, 'Acai & Cia Comercio de Al'],
  ['東京 Shop', 25, 'Shop'],
  ['ends with space cut here', 17, 'ends with space c'],
  ['Loja do Ze x', 12, 'Loja do Ze x'],
  ['Loja do Ze x', 11, 'Loja do Ze'],
];

for (const [input, max, expected] of TEXTS) {
  test(`emvText(${JSON.stringify(input)}, ${max})`, () => assert.equal(emvText(input, max), expected));
}

test('assertEmvAmount', () => {
  for (const ok of ['1', '10.5', '100.00', '1234567890.12']) assertEmvAmount(ok);
  for (const bad of ['', '1.234', '-1', '1,00', '.5', '12345678901.12', '1e3']) {
    assert.throws(() => assertEmvAmount(bad), RangeError, bad);
  }
});
