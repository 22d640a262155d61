import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { qrDataUri } from './qr.ts';

const PIX = '00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865406100.005802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D';

describe('qrDataUri', () => {
  it('is a base64 SVG data URI with the modules as a path', async () => {
    const uri = await qrDataUri(PIX);
    const prefix = 'data:image/svg+xml;base64,';
    assert.ok(uri.startsWith(prefix));
    const svg = Buffer.from(uri.slice(prefix.length), 'base64').toString('utf8');
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /<path [^>]*d="M/);
    assert.match(svg, /<\/svg>\s*$/);
  });

  it('has no characters that need escaping in an attribute', async () => {
    assert.match(await qrDataUri('upi://pay?pa=a@b&pn="x"<y>'), /^[A-Za-z0-9:/;+,=.-]+$/);
  });

  it('is deterministic', async () => {
    assert.equal(await qrDataUri(PIX), await qrDataUri(PIX));
  });

  it('stays small for a long EMV payload', async () => {
    assert.ok((await qrDataUri(PIX.repeat(2))).length < 20_000);
  });
});
