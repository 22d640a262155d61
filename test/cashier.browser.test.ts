import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ARTIFACTS, cspViolations, hasChromium, launchChromium } from './helpers/browser.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import type { Credentials } from '../src/modules/merchants/merchant.service.ts';

/** The v2 sign rule, written independently of the gateway's module. */
function referenceSign(params: Record<string, string>, secret: string): string {
  const text = Object.keys(params)
    .filter((k) => k !== 'sign' && params[k] !== '')
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
  return createHash('sha256').update(`${text}&key=${secret}`, 'utf8').digest('hex');
}

describe('hosted cashier in a real browser', { skip: hasChromium() ? false : 'Debian chromium is not installed (.ci/run installs it)' }, () => {
  let gw: TestGateway;
  let creds: Credentials;
  let shop: http.Server;
  let shopUrl: string;
  const landed: URL[] = [];

  before(async () => {
    gw = await startGateway();
    creds = await gw.merchant(['IDR', 'MXN']);
    shop = http.createServer((req, res) => {
      landed.push(new URL(req.url ?? '/', shopUrl));
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>Shop</title><h1>Thanks for your order</h1>');
    });
    await new Promise<void>((resolve) => shop.listen(0, '127.0.0.1', resolve));
    const address = shop.address();
    shopUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await gw.close();
    await new Promise((resolve) => shop.close(resolve));
  });

  async function createOrder(body: Record<string, unknown>): Promise<Record<string, any>> {
    const token = await gw.token(creds);
    const res = await gw.call('POST', '/api/v3/payment/create', {
      body: JSON.stringify({ notifyUrl: 'https://shop.example/notify', ...body }),
      headers: { authorization: `Bearer ${token}`, 'accept-language': 'en' },
    });
    assert.equal(res.status, 200, res.text);
    return res.json.data;
  }

  test('pick a method, pay in the sandbox, land on the merchant with signed parameters', { timeout: 60_000 }, async () => {
    const order = await createOrder({
      merOrderNo: 'browser-1',
      currency: 'IDR',
      amount: '150000',
      returnUrl: `${shopUrl}/return?cart=42`,
      attach: '<img src=x onerror=alert(1)>',
    });
    const chromium = await launchChromium();
    try {
      const context = await chromium.browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 390, height: 844 }, locale: 'id-ID' });
      const page = await context.newPage();
      const violations = cspViolations(page);
      const response = await page.goto(`${gw.url}${gw.cashierPath(order.orderNo)}`);
      assert.equal(response?.status(), 200);
      const csp = response!.headers()['content-security-policy'] ?? '';
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline/);
      assert.equal(await page.getAttribute('html', 'lang'), 'id');
      assert.match(await page.textContent('body') ?? '', /150\.000|150,000/);

      await page.getByRole('button', { name: /QRIS/ }).click();
      await page.waitForSelector('img[src^="data:image/svg+xml"]');
      await page.screenshot({ path: path.join(ARTIFACTS, 'cashier-qris.png'), fullPage: true });

      await Promise.all([page.waitForURL(/\/return\?/), page.locator('button[value="PAID"]').click()]);
      const url = new URL(page.url());
      assert.equal(url.origin, shopUrl);
      assert.equal(url.searchParams.get('cart'), '42');
      const params = Object.fromEntries([...url.searchParams].filter(([k]) => k !== 'cart'));
      assert.equal(params.orderNo, order.orderNo);
      assert.equal(params.merOrderNo, 'browser-1');
      assert.equal(params.status, 'PAID');
      assert.equal(params.amount, '150000');
      assert.equal(params.currency, 'IDR');
      assert.equal(params.attach, '<img src=x onerror=alert(1)>');
      const { sign, ...signed } = params;
      assert.equal(sign, referenceSign(signed as Record<string, string>, creds.appSecret));
      assert.ok(landed.some((u) => u.pathname === '/return'));
      assert.deepEqual(violations, []);

      const after = await gw.call('GET', `/api/v3/payment/query?orderNo=${order.orderNo}`, { headers: { authorization: `Bearer ${await gw.token(creds)}` } });
      assert.equal(after.json.data.status, 'PAID');
      assert.equal(after.json.data.payMethod, 'ID_QRIS');
      await context.close();
    } finally {
      await chromium.close();
    }
  });

  test('without a returnUrl the page shows the result; merchant text is escaped', { timeout: 60_000 }, async () => {
    const order = await createOrder({ merOrderNo: 'browser-2', currency: 'MXN', amount: 1250.5, payMethod: 'spei' });
    const chromium = await launchChromium();
    try {
      const context = await chromium.browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 390, height: 844 }, locale: 'es-MX' });
      const page = await context.newPage();
      let dialogs = 0;
      page.on('dialog', (d) => {
        dialogs++;
        void d.dismiss();
      });
      await page.goto(`${gw.url}${gw.cashierPath(order.orderNo)}`);
      assert.equal(await page.getAttribute('html', 'lang'), 'es');
      const body = (await page.textContent('body')) ?? '';
      assert.match(body.replace(/\s/g, ''), new RegExp(order.params.clabe.slice(0, 3)));
      await page.screenshot({ path: path.join(ARTIFACTS, 'cashier-spei-es.png'), fullPage: true });
      await Promise.all([page.waitForURL((url) => `${url.pathname}${url.search}` === gw.cashierPath(order.orderNo)), page.locator('button[value="FAILED"]').click()]);
      await page.screenshot({ path: path.join(ARTIFACTS, 'cashier-failed-es.png'), fullPage: true });
      assert.equal(dialogs, 0);
      const res = await gw.call('GET', `/api/v3/payment/query?orderNo=${order.orderNo}`, { headers: { authorization: `Bearer ${await gw.token(creds)}` } });
      assert.equal(res.json.data.status, 'FAILED');
      await context.close();
    } finally {
      await chromium.close();
    }
  });

  test('the consumer cancels: back on the merchant with the signed outcome, the form allowed by the page CSP', { timeout: 60_000 }, async () => {
    const order = await createOrder({ merOrderNo: 'browser-4', currency: 'MXN', amount: 300, payMethod: 'spei', returnUrl: `${shopUrl}/cancelled?ref=9` });
    const chromium = await launchChromium();
    try {
      const context = await chromium.browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 390, height: 844 }, locale: 'pt-BR' });
      const page = await context.newPage();
      const violations = cspViolations(page);
      await page.goto(`${gw.url}${gw.cashierPath(order.orderNo)}`);
      await Promise.all([page.waitForURL(/\/cancelled\?/), page.getByRole('button', { name: 'Cancelar pagamento' }).click()]);
      const url = new URL(page.url());
      assert.equal(url.searchParams.get('ref'), '9');
      const params = Object.fromEntries([...url.searchParams].filter(([k]) => k !== 'ref'));
      assert.deepEqual([params.orderNo, params.status, params.amount], [order.orderNo, 'EXPIRED', '300']);
      const { sign, ...signed } = params;
      assert.equal(sign, referenceSign(signed as Record<string, string>, creds.appSecret));
      assert.deepEqual(violations, []);
      const res = await gw.call('GET', `/api/v3/payment/query?orderNo=${order.orderNo}`, { headers: { authorization: `Bearer ${await gw.token(creds)}` } });
      assert.equal(res.json.data.status, 'EXPIRED');
      await context.close();
    } finally {
      await chromium.close();
    }
  });

  test('the countdown reaching zero reads "expired", not "expires in expired"; the currency code stays whole on a narrow screen', { timeout: 60_000 }, async () => {
    const order = await createOrder({ merOrderNo: 'browser-5', currency: 'IDR', amount: 1234567.5, payMethod: 'va' });
    // Two seconds left when the page is served.
    gw.clock.advance(Number(order.params.expireTime) - gw.clock.now() - 2_000);
    const chromium = await launchChromium();
    try {
      const context = await chromium.browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 360, height: 740 }, locale: 'pt-BR' });
      const page = await context.newPage();
      await page.goto(`${gw.url}${gw.cashierPath(order.orderNo)}`);
      // "1.234.567,50 IDR" at 360 px: the code used to break as "I / DR".
      const code = page.locator('.amount small');
      assert.equal((await code.evaluate((el) => el.getClientRects().length)), 1, 'one box: the code is not broken across lines');
      await page.locator('.countdown.is-expired').waitFor({ timeout: 10_000 });
      assert.equal((await page.locator('.countdown').innerText()).trim(), 'Expirado');
      await page.screenshot({ path: path.join(ARTIFACTS, 'cashier-expired-pt.png') });
      await context.close();
    } finally {
      await chromium.close();
    }
  });

  test('a long amount stays on one line and inside its card on a 320 px screen, and nothing scrolls sideways with text at 200 %', { timeout: 60_000 }, async () => {
    const orders = await Promise.all(
      [['IDR', 25_000_000.5, 'va'], ['IDR', 1_500_000_000, 'va'], ['IDR', '9999999999.99', 'qris'], ['MXN', 12_345_678.89, 'MX_SPEI'], ['MXN', 9_999_999_999_999.99, 'MX_SPEI']].map(([currency, amount, payMethod], i) =>
        createOrder({ merOrderNo: `browser-wide-${i}`, currency, amount, payMethod }),
      ),
    );
    const chromium = await launchChromium();
    try {
      const context = await chromium.browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 320, height: 640 }, locale: 'id-ID' });
      const page = await context.newPage();
      for (const [order, textSize] of orders.flatMap((o) => [[o, '100%'], [o, '200%']] as const)) {
        await page.goto(`${gw.url}${gw.cashierPath(order.orderNo)}`);
        // Text enlarged to 200 % (WCAG 1.4.4), as a consumer's browser setting does.
        await page.locator('html').evaluate((html, size) => (html.style.fontSize = size), textSize);
        const fit = await page.locator('.amount').evaluate((amount) => {
          const figure = amount.querySelector('.figure')!;
          const code = amount.querySelector('small')!;
          const card = amount.closest('.card')!.getBoundingClientRect();
          return {
            lines: figure.getClientRects().length,
            right: Math.max(figure.getBoundingClientRect().right, code.getBoundingClientRect().right),
            cardRight: card.right,
            scroll: amount.ownerDocument.documentElement.scrollWidth,
          };
        });
        const what = `${order.amount} ${order.currency}, text at ${textSize}`;
        assert.equal(fit.lines, 1, `${what}: the figure is one box`);
        assert.ok(fit.right <= fit.cardRight, `${what}: the amount ends at ${fit.right}, past its card (${fit.cardRight})`);
        assert.ok(fit.scroll <= 320, `${what}: the page scrolls sideways (${fit.scroll} px)`);
      }
      await page.screenshot({ path: path.join(ARTIFACTS, 'cashier-long-amount-id.png') });
      await context.close();
    } finally {
      await chromium.close();
    }
  });

  test('without JavaScript the page shows no copy button (it could not copy) and the code can still be selected', { timeout: 60_000 }, async () => {
    const order = await createOrder({ merOrderNo: 'browser-nojs', currency: 'MXN', amount: 200, payMethod: 'MX_SPEI' });
    const chromium = await launchChromium();
    try {
      for (const javaScriptEnabled of [false, true]) {
        const context = await chromium.browser.newContext({ ignoreHTTPSErrors: true, javaScriptEnabled, locale: 'es-MX' });
        const page = await context.newPage();
        await page.goto(`${gw.url}${gw.cashierPath(order.orderNo)}`);
        assert.equal(await page.locator('.copy-btn').isVisible(), javaScriptEnabled, `copy button visible with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`);
        assert.match(await page.locator('.copybox code').innerText(), /^\d{3}\s*\d{3}/);
        assert.match(await page.locator('.amount').innerText(), /^200\.00 MXN$/, 'every minor digit, the code after a space');
        await context.close();
      }
    } finally {
      await chromium.close();
    }
  });

  test('the page and its assets stay under 50 KB; unknown orders get an HTML 404', async () => {
    const order = await createOrder({ merOrderNo: 'browser-3', currency: 'IDR', amount: 99000, payMethod: 'qris' });
    const page = await gw.call('GET', gw.cashierPath(order.orderNo));
    const css = await gw.call('GET', '/cashier/assets/cashier.css');
    const js = await gw.call('GET', '/cashier/assets/cashier.js');
    const total = Buffer.byteLength(page.text) + Buffer.byteLength(css.text) + Buffer.byteLength(js.text);
    assert.ok(total < 50 * 1024, `page weighs ${total} bytes`);
    assert.doesNotMatch(page.text, /<script(?![^>]*\bsrc=)/);
    assert.doesNotMatch(page.text, /\son[a-z]+=/i);
    const missing = await gw.call('GET', '/cashier/PI00000000000000000000000000');
    assert.equal(missing.status, 404);
    assert.match(String(missing.headers['content-type']), /text\/html/);
  });
});
