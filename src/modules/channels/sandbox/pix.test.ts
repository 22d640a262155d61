import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc16ccitt, hasValidCrc, parseTlv } from './emv.ts';
import { pixCopyPaste, pixTxid } from './pix.ts';

const field = (payload: string, id: string): string | undefined => parseTlv(payload).find((f) => f.id === id)?.value;

test('reproduces the BCB manual example exactly', () => {
  const payload = pixCopyPaste({
    key: '123e4567-e12b-12d1-a456-426655440000',
    merchantName: 'Fulano de Tal',
    merchantCity: 'BRASILIA',
  });
  assert.equal(
    payload,
    '00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D',
  );
});

test('a payload with amount and txid parses back and its CRC matches', () => {
  const payload = pixCopyPaste({
    key: 'pagamentos@example.com.br',
    merchantName: 'Padaria São João Comércio de Pães',
    merchantCity: 'São José dos Campos',
    amountText: '1234.56',
    txid: 'PO-2024_0001/abc',
  });
  assert.equal(hasValidCrc(payload), true);
  assert.equal(crc16ccitt(payload.slice(0, -4)), payload.slice(-4));
  const ids = parseTlv(payload).map((f) => f.id);
  assert.deepEqual(ids, ['00', '26', '52', '53', '54', '58', '59', '60', '62', '63']);
  assert.deepEqual(parseTlv(field(payload, '26') ?? ''), [
    { id: '00', value: 'br.gov.bcb.pix' },
    { id: '01', value: 'pagamentos@example.com.br' },
  ]);
  assert.equal(field(payload, '53'), '986');
  assert.equal(field(payload, '54'), '1234.56');
  assert.equal(field(payload, '58'), 'BR');
  assert.equal(field(payload, '59'), 'Padaria Sao Joao Comercio');
  assert.equal(field(payload, '60'), 'Sao Jose dos Ca');
  assert.deepEqual(parseTlv(field(payload, '62') ?? ''), [{ id: '05', value: 'PO20240001abc' }]);
});

const TXIDS: ReadonlyArray<readonly [string | undefined, string]> = [
  [undefined, '***'],
  ['', '***'],
  ['---', '***'],
  ['P20240101ABC', 'P20240101ABC'],
  ['a'.repeat(40), 'a'.repeat(25)],
];

for (const [raw, expected] of TXIDS) {
  test(`pixTxid(${JSON.stringify(raw)})`, () => assert.equal(pixTxid(raw), expected));
}

test('refuses an empty or overlong key and a malformed amount', () => {
  const base = { merchantName: 'X', merchantCity: 'Y' };
  assert.throws(() => pixCopyPaste({ ...base, key: '' }), RangeError);
  assert.throws(() => pixCopyPaste({ ...base, key: 'k'.repeat(78) }), RangeError);
  assert.throws(() => pixCopyPaste({ ...base, key: 'k', amountText: '1.234' }), RangeError);
});
