import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cashierCsp, hstsFor, httpOrigin, securityHeaders } from './csp.ts';

function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp.split(';').map((d) => {
      const [name, ...values] = d.trim().split(/\s+/);
      return [name ?? '', values];
    }),
  );
}

describe('cashierCsp', () => {
  it('is strict without form targets', () => {
    assert.equal(
      cashierCsp({ formTargets: [] }),
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    );
  });

  it('never allows inline code or eval', () => {
    const csp = cashierCsp({ formTargets: ['https://shop.example/return'] });
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
  });

  it('adds the origin of each form target, once', () => {
    const csp = cashierCsp({
      formTargets: ['https://shop.example/pay/return?x=1#y', 'https://shop.example/other', 'http://localhost:8080/r', 'HTTPS://Shop.Example:443/'],
    });
    assert.deepEqual(directives(csp).get('form-action'), ["'self'", 'https://shop.example', 'http://localhost:8080']);
  });

  it('ignores non-http(s) and unparsable targets', () => {
    const csp = cashierCsp({ formTargets: ['javascript:alert(1)', 'data:text/html,x', 'ftp://a.example/', '/relative', 'not a url', ''] });
    assert.deepEqual(directives(csp).get('form-action'), ["'self'"]);
  });

  it('cannot be extended by a crafted host: the scheme stands in for it', () => {
    // WHATWG URL keeps ";" and "'" in hosts; they would split the policy.
    const csp = cashierCsp({ formTargets: ["https://a;script-src-elem 'unsafe-inline'.example/", 'https://a,b.example/'] });
    assert.deepEqual(directives(csp).get('form-action'), ["'self'", 'https:']);
    assert.equal(directives(csp).size, 8);
  });

  it('a host a CSP source cannot spell (underscore, trailing dot) still lets the redirect through, by its scheme', () => {
    for (const target of ['https://shop_name.example/r', 'https://shop.example./r', 'https://[2001:db8::7]:8443/r', 'https://[::1]/r']) {
      assert.deepEqual(directives(cashierCsp({ formTargets: [target] })).get('form-action'), ["'self'", 'https:'], target);
    }
    assert.deepEqual(directives(cashierCsp({ formTargets: ['http://shop_name.example/r'] })).get('form-action'), ["'self'", 'http:']);
  });

  it('has no CSP spelling for IPv6 literals; keeps ports', () => {
    assert.equal(httpOrigin('https://[::1]:8443/x'), null);
    assert.equal(httpOrigin('https://127.0.0.1:8443/x'), 'https://127.0.0.1:8443');
    assert.equal(httpOrigin('https://xn--nand-hqa.example/'), 'https://xn--nand-hqa.example');
    assert.equal(httpOrigin('https://ñandú.example/'), 'https://xn--and-6ma2c.example');
  });
});

describe('securityHeaders', () => {
  it('carries the policy and the hardening headers', () => {
    assert.deepEqual(securityHeaders('default-src x'), {
      'Content-Security-Policy': 'default-src x',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
      'X-Frame-Options': 'DENY',
    });
  });
});

describe('hstsFor: HSTS only where browsers keep it and it harms nothing', () => {
  const cases: Array<[string, boolean]> = [
    ['https://pay.example.com', true],
    ['https://pay.example.com:8443/base', true],
    ['https://xn--and-6ma2c.example', true],
    ['http://pay.example.com', false],
    ['https://localhost:8443', false],
    ['https://LOCALHOST:8443', false],
    ['https://shop.localhost', false],
    ['https://localhost.:8443', false],
    ['https://LOCALHOST.', false],
    ['https://foo.localhost.', false],
    ['https://pay.example.com.', true],
    ['https://127.0.0.1:8443', false],
    ['https://[::1]:8443', false],
  ];
  for (const [url, expected] of cases) it(`${url} → ${expected}`, () => assert.equal(hstsFor(url), expected));

  it('adds Strict-Transport-Security to the page headers when asked', () => {
    assert.equal(securityHeaders('default-src x', true)['Strict-Transport-Security'], 'max-age=31536000');
    assert.equal('Strict-Transport-Security' in securityHeaders('default-src x', false), false);
  });
});
