import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CASHIER_CSS, CASHIER_JS } from './assets.ts';
import { LANGS, messages } from './i18n.ts';
import type { Lang, OrderStatus } from './i18n.ts';
import { renderCashierPage } from './page.ts';
import type { CashierView } from './page.ts';

const STATUSES: readonly OrderStatus[] = ['CREATED', 'PENDING', 'PAID', 'FAILED', 'EXPIRED', 'REFUNDED', 'EXCEPTION'];
const NOW = 1_764_000_000_000;
const XSS = '<script>alert(1)</script>"\' onmouseover="alert(2)';
const PIX = '00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865406100.005802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D';

function view(over: Partial<CashierView> = {}): CashierView {
  return {
    orderNo: 'PI202511250001',
    merchantName: 'Tienda Ñandú',
    amountText: '1250.50',
    currency: 'MXN',
    status: 'CREATED',
    expiresAt: NOW + 30 * 60_000,
    now: NOW,
    method: { code: 'MX_SPEI', label: 'SPEI bank transfer', params: { clabe: '646180157000000004' } },
    choices: [],
    sandbox: false,
    csrfToken: 'csrf-token-1',
    linkKey: 'key_1-A',
    returnUrl: 'https://shop.example/return',
    returnLink: null,
    assetBase: '/cashier/assets',
    ...over,
  };
}

const picking = (over: Partial<CashierView> = {}): CashierView =>
  view({ method: null, choices: [{ code: 'MX_SPEI', label: 'SPEI' }, { code: 'MX_OXXO', label: 'OXXO' }], ...over });

const TAG = /^<([a-z][a-z0-9]*)((?:\s+[a-z][a-z0-9-]*(?:="[^"<>]*")?)*)\s*\/?>/i;
const ATTR = /\s+([a-z][a-z0-9-]*)(?:="([^"]*)")?/gi;

/**
 * Everything a strict CSP would block, or that would need 'unsafe-inline'.
 * Escaped text holds no "<", so every "<" must open a well-formed tag whose
 * attributes are all quoted: that is what makes the attribute checks sound.
 */
function assertCspClean(out: string): void {
  const body = out.replace(/^<!doctype html>\n/, '');
  for (let at = body.indexOf('<'); at !== -1; at = body.indexOf('<', at + 1)) {
    const rest = body.slice(at);
    if (/^<\/[a-z][a-z0-9]*>/i.test(rest)) continue;
    const m = TAG.exec(rest);
    assert.ok(m, `malformed tag at ${rest.slice(0, 60)}`);
    const [name, attrs] = [m[1]!.toLowerCase(), [...(m[2] ?? '').matchAll(ATTR)]];
    const names = attrs.map((a) => a[1]!.toLowerCase());
    assert.notEqual(name, 'style', '<style> element');
    if (name === 'script') assert.ok(names.includes('src'), 'inline <script>');
    for (const [, attr, value] of attrs) {
      assert.ok(!/^on/i.test(attr!) && attr!.toLowerCase() !== 'style', `${attr}= attribute on <${name}>`);
      if (/^(?:href|src|action)$/i.test(attr!)) assert.doesNotMatch(value ?? '', /^\s*(?:javascript|vbscript):/i);
    }
  }
}

function count(out: string, re: RegExp): number {
  return out.match(new RegExp(re.source, 'g'))?.length ?? 0;
}

describe('renderCashierPage: every state, every language', () => {
  for (const lang of LANGS) {
    for (const status of STATUSES) {
      for (const [name, v] of [['with method', view({ status, sandbox: true })], ['without method', picking({ status, sandbox: true })]] as const) {
        it(`${lang} ${status} ${name}`, async () => {
          const out = await renderCashierPage(v, lang);
          assert.match(out, /^<!doctype html>\n<html lang="[a-z]{2}">/);
          assert.ok(out.includes(`<html lang="${lang}">`));
          assert.match(out, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
          // A final state names its outcome in the title: the first thing a screen reader says after the form's reload.
          const title = status === 'CREATED' || status === 'PENDING' ? messages(lang).title : messages(lang).statusTitle[status];
          assert.ok(out.includes(`<title>${title} · Tienda Ñandú</title>`), out.slice(0, 600));
          assertCspClean(out);
        });
      }
    }
  }
});

describe('renderCashierPage: content', () => {
  it('shows the status text of final states, and a return link only when given', async () => {
    const t = messages('pt');
    const paid = await renderCashierPage(view({ status: 'PAID', returnLink: 'https://shop.example/return?orderNo=1&sign=ab' }), 'pt');
    assert.ok(paid.includes(t.statusTitle.PAID));
    assert.ok(paid.includes('<a class="btn" href="https://shop.example/return?orderNo=1&amp;sign=ab">'));
    const failed = await renderCashierPage(view({ status: 'FAILED' }), 'pt');
    assert.ok(failed.includes(t.statusTitle.FAILED));
    assert.ok(failed.includes(t.closePage));
    assert.ok(!failed.includes(t.returnToMerchant));
  });

  it('never renders a non-http return link', async () => {
    const out = await renderCashierPage(view({ status: 'PAID', returnLink: 'javascript:alert(1)' }), 'en');
    assert.ok(!out.includes(messages('en').returnToMerchant));
    assertCspClean(out);
  });

  it('formats the amount for the language, with the currency code', async () => {
    // A space between them: read aloud or copied, "1,250.50 MXN", not "1,250.50MXN".
    assert.ok((await renderCashierPage(view(), 'en')).includes('<p class="amount"><span class="figure">1,250.50</span> <small>MXN</small></p>'));
    assert.ok((await renderCashierPage(view({ amountText: '1500000.00', currency: 'IDR' }), 'id')).includes('<span class="figure">1.500.000,00</span> <small>IDR</small>'));
  });

  it('sets a long amount smaller rather than breaking it', async () => {
    for (const [amountText, size] of [['9999999.99', 'amount'], ['1500000000.5', 'amount long'], ['99999999999.99', 'amount longer']] as const) {
      assert.match(await renderCashierPage(view({ amountText }), 'en'), new RegExp(`<p class="${size}"><span class="figure">`), amountText);
    }
  });

  it('shows the order number and the method', async () => {
    const out = await renderCashierPage(view(), 'en');
    assert.ok(out.includes('<dd class="mono">PI202511250001</dd>'));
    assert.ok(out.includes('<dd>SPEI bank transfer</dd>'));
  });

  it('names a described method in the page language and keeps brands as they are', async () => {
    const cases: Array<[Lang, string, string]> = [
      ['es', 'MX_SPEI', 'Transferencia SPEI'],
      ['pt', 'MX_SPEI', 'Transferência SPEI'],
      ['id', 'ID_VA', 'Virtual account bank'],
      ['es', 'ID_VA', 'Cuenta virtual bancaria'],
      ['es', 'BR_PIX', 'PIX'],
    ];
    for (const [lang, code, name] of cases) {
      const method = { code, label: code === 'BR_PIX' ? 'PIX' : 'catalogue label', params: {} };
      const shown = await renderCashierPage(view({ method }), lang);
      assert.ok(shown.includes(`<dd>${name}</dd>`), `${lang} ${code}`);
      assert.ok(shown.includes(`${messages(lang).payWith} ${name}</h2>`), `${lang} ${code} heading`);
      const picker = await renderCashierPage(picking({ choices: [{ code, label: method.label }] }), lang);
      assert.ok(picker.includes(`value="${code}">${name}</button>`), `${lang} ${code} picker`);
    }
  });

  it('links the assets under assetBase', async () => {
    const out = await renderCashierPage(view(), 'en');
    assert.match(out, /<link rel="stylesheet" href="\/cashier\/assets\/cashier\.css\?v=[\w-]+">/);
    assert.match(out, /<script src="\/cashier\/assets\/cashier\.js\?v=[\w-]+" defer><\/script>/);
  });
});

describe('renderCashierPage: countdown', () => {
  it('carries expiry and server time for the script, and starts at the time left', async () => {
    const out = await renderCashierPage(view({ expiresAt: NOW + 29 * 60_000 + 41_000 }), 'en');
    assert.ok(out.includes(`data-expires-at="${NOW + 29 * 60_000 + 41_000}" data-now="${NOW}"`));
    assert.match(out, /<time datetime="[^"]+">29:41<\/time>/);
  });

  it('shows an open order past its expiry as expired, without anything to pay or pick', async () => {
    for (const v of [view({ expiresAt: NOW, sandbox: true }), picking({ expiresAt: NOW - 1 }), view({ status: 'PENDING', expiresAt: NOW - 1 })]) {
      const out = await renderCashierPage(v, 'es');
      assert.ok(out.includes(messages('es').statusTitle.EXPIRED));
      assert.ok(!out.includes('data-expires-at') && !out.includes('data-copy="') && !out.includes('<form') && !out.includes('data-live'));
    }
  });

  it('is absent without expiry and on final states', async () => {
    assert.ok(!(await renderCashierPage(view({ expiresAt: null }), 'en')).includes('data-expires-at'));
    assert.ok(!(await renderCashierPage(view({ status: 'PAID' }), 'en')).includes('data-expires-at'));
  });
});

describe('renderCashierPage: forms', () => {
  it('shows the method picker only for CREATED orders without a method', async () => {
    const out = await renderCashierPage(picking(), 'en');
    assert.ok(out.includes('<form method="post" action="/cashier/PI202511250001/method?k=key_1-A">'));
    assert.ok(out.includes('<button type="submit" name="method" value="MX_SPEI">SPEI bank transfer</button>'));
    assert.ok(out.includes('<button type="submit" name="method" value="MX_OXXO">OXXO</button>'));
    assert.ok(!(await renderCashierPage(picking({ status: 'PENDING' }), 'en')).includes('/method'));
    assert.ok(!(await renderCashierPage(picking({ status: 'EXPIRED' }), 'en')).includes('/method'));
    assert.ok(!(await renderCashierPage(view(), 'en')).includes('/method'));
  });

  it('tells the consumer when there is nothing to pick', async () => {
    const out = await renderCashierPage(picking({ choices: [] }), 'es');
    assert.ok(out.includes(messages('es').noMethods));
    assert.ok(!out.includes('/method"'), 'no picker form');
    assert.ok(out.includes('action="/cashier/PI202511250001/cancel?k=key_1-A"'), 'the consumer can still cancel');
  });

  it('offers cancelling while the order is open, with or without a method, and never after', async () => {
    const cancel = `<form method="post" action="/cashier/PI202511250001/cancel?k=key_1-A" class="actions">`;
    assert.ok((await renderCashierPage(picking({}), 'en')).includes(cancel));
    const pending = await renderCashierPage(view({ status: 'PENDING' }), 'pt');
    assert.ok(pending.includes(cancel));
    assert.ok(pending.includes(`>${messages('pt').cancelPayment}</button>`));
    for (const status of ['PAID', 'FAILED', 'EXPIRED', 'REFUNDED', 'EXCEPTION'] as const) {
      assert.ok(!(await renderCashierPage(view({ status }), 'en')).includes('/cancel"'), status);
    }
  });

  it('shows the sandbox buttons only on open sandbox orders', async () => {
    const out = await renderCashierPage(view({ sandbox: true }), 'en');
    assert.ok(out.includes('<form method="post" action="/cashier/PI202511250001/sandbox?k=key_1-A">'));
    for (const o of ['PAID', 'FAILED', 'EXCEPTION']) assert.ok(out.includes(`name="outcome" value="${o}"`));
    assert.ok(out.includes(messages('en').testOrder));
    const real = await renderCashierPage(view({ sandbox: false }), 'en');
    assert.ok(!real.includes('/sandbox') && !real.includes('outcome') && !real.includes(messages('en').testOrder));
    assert.ok(!(await renderCashierPage(view({ sandbox: true, status: 'PAID' }), 'en')).includes('outcome'));
  });

  it('shows a test order without a method its badge, but no outcome buttons until a method is picked', async () => {
    const out = await renderCashierPage(picking({ sandbox: true }), 'en');
    assert.ok(out.includes(messages('en').testBadge) && out.includes(messages('en').testOrder));
    assert.ok(!out.includes('/sandbox') && !out.includes('name="outcome"'));
  });

  it('puts the CSRF token in every form, and every form posts', async () => {
    for (const [v, forms] of [[picking({ sandbox: true }), 2], [view({ sandbox: true }), 2]] as const) {
      const out = await renderCashierPage(v, 'en');
      assert.equal(count(out, /<form /), forms);
      assert.equal(count(out, /<form method="post" /), forms);
      assert.equal(count(out, /<input type="hidden" name="csrf" value="csrf-token-1">/), forms);
    }
  });

  it('encodes the order number into form paths', async () => {
    const out = await renderCashierPage(picking({ orderNo: 'a/b?c' }), 'en');
    assert.ok(out.includes('action="/cashier/a%2Fb%3Fc/method?k=key_1-A"'));
    assert.ok((await renderCashierPage(picking({ linkKey: 'a&b=c' }), 'en')).includes('action="/cashier/PI202511250001/method?k=a%26b%3Dc"'));
  });
});

describe('renderCashierPage: escaping', () => {
  it('renders hostile values as text everywhere', async () => {
    const hostile = picking({
      merchantName: XSS,
      orderNo: XSS,
      currency: XSS,
      amountText: XSS,
      csrfToken: XSS,
      choices: [{ code: XSS, label: XSS }],
      sandbox: true,
    });
    const out = await renderCashierPage(hostile, 'en');
    assert.ok(!out.includes('<script>alert'));
    assert.ok(!out.includes('" onmouseover'));
    assert.ok(out.includes('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39; onmouseover=&quot;alert(2)'));
    assertCspClean(out);
  });

  it('escapes method params and labels', async () => {
    const params = { clabe: XSS, qrCode: XSS, content: XSS, vaNumber: XSS, deeplink: 'javascript:alert(1)' };
    const out = await renderCashierPage(view({ method: { code: XSS, label: XSS, params } }), 'en');
    assert.ok(!out.includes('<script>alert'));
    assert.ok(!out.includes('" onmouseover'));
    assert.ok(!out.includes(messages('en').openApp));
    assertCspClean(out);
  });
});

describe('renderCashierPage: instructions', () => {
  it('groups the CLABE for reading and copies it without spaces', async () => {
    const out = await renderCashierPage(view(), 'en');
    assert.ok(out.includes('<span class="g">646</span><span class="g">180</span><span class="g">1570</span>'));
    assert.ok(out.includes('data-copy="646180157000000004"'));
    assert.ok(out.includes(messages('en').transferClabe));
  });

  it('renders a QR image with alt text and the raw code to copy', async () => {
    const out = await renderCashierPage(view({ method: { code: 'BR_PIX', label: 'PIX', params: { qrCode: PIX, content: PIX } } }), 'pt');
    assert.match(out, /<img class="qr" src="data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+" alt="QR code deste pagamento"/);
    assert.equal(count(out, /data-copy=/), 1, 'PIX code shown once although it is qrCode and content');
    assert.ok(out.includes(`data-copy="${PIX}"`));
  });

  it('renders an allowed deeplink as a button', async () => {
    const link = 'upi://pay?pa=a@b&pn=Shop&am=1.00&cu=INR';
    const out = await renderCashierPage(view({ method: { code: 'IN_UPI', label: 'UPI', params: { deeplink: link } } }), 'en');
    assert.ok(out.includes('<a class="btn" href="upi://pay?pa=a@b&amp;pn=Shop&amp;am=1.00&amp;cu=INR" rel="noopener noreferrer">'));
  });

  for (const bad of ['javascript:alert(1)', 'data:text/html,x', 'http://plain.example/', 'evil://x']) {
    it(`drops a deeplink with a refused scheme: ${bad}`, async () => {
      const out = await renderCashierPage(view({ method: { code: 'X', label: 'X', params: { deeplink: bad } } }), 'en');
      assert.ok(!out.includes(messages('en').openApp));
      assert.ok(!out.includes(bad.slice(0, 8)));
    });
  }

  it('shows a VA number with copy and a text instruction as a paragraph', async () => {
    const va = await renderCashierPage(view({ method: { code: 'ID_VA', label: 'VA', params: { vaNumber: '8808672564527964' } } }), 'id');
    assert.ok(va.includes('data-copy="8808672564527964"') && va.includes(messages('id').vaNumber));
    const ovo = await renderCashierPage(view({ method: { code: 'ID_OVO', label: 'OVO', params: { content: 'Approve it in the OVO app.' } } }), 'id');
    assert.ok(ovo.includes(`<p class="field">${messages('id').approveInWallet}</p>\n<p class="field wallet-note" lang="en">Approve it in the OVO app.</p>`), 'what to do in the page language, then the wallet\'s own words');
    const wallet = await renderCashierPage(view({ method: { code: 'PK_WALLET', label: 'JazzCash / Easypaisa wallet', params: { content: 'Approve it.' } } }), 'es');
    assert.match(wallet, /<dd>Billetera JazzCash \/ Easypaisa<\/dd>/);
    const code = await renderCashierPage(view({ method: { code: 'X', label: 'X', params: { content: 'ABC123' } } }), 'en');
    assert.ok(code.includes('data-copy="ABC123"'));
  });

  it('copy buttons are labelled by their field and hidden until the script runs', async () => {
    const out = await renderCashierPage(view(), 'en');
    assert.match(out, /<span class="field-label" id="f-clabe">[^<]+<\/span>/);
    assert.match(out, /<button type="button" class="copy-btn" data-copy="\d+" aria-describedby="f-clabe" hidden>Copy<\/button>/);
  });

  it('a long code scrolls in a box the keyboard reaches, named by its field; a short one is plain', async () => {
    const pix = await renderCashierPage(view({ method: { code: 'BR_PIX', label: 'PIX', params: { qrCode: PIX } } }), 'pt');
    assert.ok(pix.includes('<code class="long" tabindex="0" aria-labelledby="f-qr-text">'), 'the PIX payload');
    assert.match(await renderCashierPage(view(), 'en'), /<code><span class="g">/, 'the CLABE');
  });

  it('the title says how the order ended, a consumer\'s cancel as theirs', async () => {
    const t = messages('es');
    assert.ok((await renderCashierPage(view({ status: 'FAILED', cancelled: true }), 'es')).includes(`<title>${t.cancelledTitle} · Tienda Ñandú</title>`));
    assert.ok((await renderCashierPage(view({ status: 'PAID' }), 'es')).includes(`<title>${t.statusTitle.PAID} · Tienda Ñandú</title>`));
  });

  it('the amount is "to pay" while the order is open, the order\'s amount once it is over', async () => {
    const t = messages('pt');
    assert.ok((await renderCashierPage(view({ status: 'PENDING' }), 'pt')).includes(`<p class="amount-label">${t.amount}</p>`));
    for (const status of ['PAID', 'FAILED', 'EXPIRED', 'REFUNDED', 'EXCEPTION'] as const) {
      const out = await renderCashierPage(view({ status }), 'pt');
      assert.ok(out.includes(`<p class="amount-label">${t.orderAmount}</p>`) && !out.includes(t.amount), status);
    }
  });
});

describe('renderCashierPage: size', () => {
  it('the largest page with its CSS and JS stays under 50 KB', async () => {
    const upi = `upi://pay?pa=sandbox.12345678@pagoda&pn=${'M'.repeat(60)}&am=1250.50&cu=INR&tr=PI202511250001&tn=${'N'.repeat(60)}`;
    const params = { deeplink: upi, qrCode: PIX + PIX.slice(0, 100), clabe: '646180157000000004', vaNumber: '8808672564527964', content: 'X'.repeat(200) };
    const largest = view({ method: { code: 'IN_UPI', label: 'UPI', params }, sandbox: true, merchantName: 'M'.repeat(100) });
    let max = 0;
    for (const lang of LANGS) max = Math.max(max, Buffer.byteLength(await renderCashierPage(largest, lang)));
    const total = max + Buffer.byteLength(CASHIER_CSS) + Buffer.byteLength(CASHIER_JS);
    assert.ok(total < 50 * 1024, `${total} bytes`);
  });
});

describe('the CSP checker of these tests', () => {
  const bad = ['<p style="color:red">x</p>', '<div onclick="x()">', '<script>alert(1)</script>', '<style>p{}</style>', '<a href="javascript:x">', '<p title=x>', '<img src=x onerror=alert(1)>'];
  for (const markup of bad) {
    it(`catches ${markup}`, () => assert.throws(() => assertCspClean(`<!doctype html>\n${markup}`)));
  }

  it('accepts text that merely looks like an attribute', () => {
    assert.doesNotThrow(() => assertCspClean('<p>&quot; onmouseover=&quot;x style=1</p><script src="/a.js" defer></script>'));
  });
});
