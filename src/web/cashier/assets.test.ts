import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Script } from 'node:vm';
import { CASHIER_ASSETS, CASHIER_CSS, CASHIER_JS, assetEtag, assetUrl } from './assets.ts';

describe('cashier assets', () => {
  it('are small: CSS + JS under 12 KB', () => {
    const bytes = Buffer.byteLength(CASHIER_CSS) + Buffer.byteLength(CASHIER_JS);
    assert.ok(bytes < 12 * 1024, `${bytes} bytes`);
  });

  it('the script parses as a classic script', () => {
    assert.doesNotThrow(() => new Script(CASHIER_JS, { filename: 'cashier.js' }));
  });

  it('the script needs nothing the CSP forbids', () => {
    // No eval-like calls, no markup injection, no inline handlers or styles.
    assert.doesNotMatch(CASHIER_JS, /\beval\s*\(|new\s+Function|setTimeout\(\s*['"`]|setInterval\(\s*['"`]/);
    assert.doesNotMatch(CASHIER_JS, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    assert.doesNotMatch(CASHIER_JS, /setAttribute\(\s*['"](?:on|style)/);
  });

  it('the stylesheet loads nothing from elsewhere', () => {
    assert.doesNotMatch(CASHIER_CSS, /@import|url\(/);
  });

  it('the stylesheet has balanced braces', () => {
    assert.equal(CASHIER_CSS.split('{').length, CASHIER_CSS.split('}').length);
  });

  it('etags are quoted, stable and content-dependent', () => {
    assert.match(assetEtag('a'), /^"[A-Za-z0-9_-]{22}"$/);
    assert.equal(assetEtag('a'), assetEtag('a'));
    assert.notEqual(assetEtag('a'), assetEtag('b'));
    assert.equal(CASHIER_ASSETS['cashier.css']?.etag, assetEtag(CASHIER_CSS));
  });

  it('asset URLs carry the content version', () => {
    const url = assetUrl('/cashier/assets/', 'cashier.js');
    assert.equal(url, `/cashier/assets/cashier.js?v=${assetEtag(CASHIER_JS).slice(1, -1)}`);
  });

  it('content types are right for nosniff', () => {
    assert.equal(CASHIER_ASSETS['cashier.css']?.contentType, 'text/css; charset=utf-8');
    assert.equal(CASHIER_ASSETS['cashier.js']?.contentType, 'text/javascript; charset=utf-8');
  });
});
