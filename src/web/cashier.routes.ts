import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../platform/db/database.ts';
import type { OrderRow } from '../platform/db/schema.ts';
import { AppError, badRequest } from '../platform/errors.ts';
import type { App } from '../platform/http/server.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { formatMajor } from '../platform/money.ts';
import { findMethod } from '../modules/channels/catalogue.ts';
import { storedExtra } from '../modules/channels/channel.ts';
import { methodSettings, payableMethods } from '../modules/channels/method-settings.ts';
import { SANDBOX } from '../modules/channels/sandbox/sandbox.channel.ts';
import { loadAuthApp, merchantName } from '../modules/merchants/merchant.service.ts';
import { CASHIER_LINK_PURPOSE, cashierKey, cashierPath, isCashierKey } from '../modules/orders/cashier-link.ts';
import { findOrder } from '../modules/orders/order.service.ts';
import { signedReturnUrl } from '../modules/payins/return-url.ts';
import { CANCELLED_BY_CONSUMER, cancelPayin, choosePayinMethod, currentPayin, type PayinDeps } from '../modules/payins/payin.service.ts';
import { completeSandboxPayin, parseSandboxOutcome } from '../modules/payins/sandbox.service.ts';
import type { SandboxBank } from '../modules/channels/sandbox/sandbox.bank.ts';
import { CASHIER_ASSETS } from './cashier/assets.ts';
import { cashierCsp, securityHeaders } from './cashier/csp.ts';
import { negotiateLanguage } from './cashier/i18n.ts';
import { renderCashierPage, type CashierView } from './cashier/page.ts';
import { renderNotFoundPage, renderRefusedPage } from './cashier/not-found.ts';

export interface CashierDeps {
  db: Db;
  box: SecretBox;
  now: () => number;
  payins: PayinDeps;
  sandbox: SandboxBank;
  /** Send HSTS with the pages (hstsFor the public URL). */
  hsts: boolean;
}

const ASSET_BASE = '/cashier/assets';

function csrfToken(key: Buffer, orderNo: string): string {
  return createHmac('sha256', key).update(orderNo).digest('base64url');
}

function checkCsrf(key: Buffer, orderNo: string, given: unknown): void {
  const expected = Buffer.from(csrfToken(key, orderNo));
  const actual = Buffer.from(typeof given === 'string' ? given : '');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw new AppError('FORBIDDEN', 'the form is stale; reload the page', 'forbidden');
  }
}

async function returnLink(deps: CashierDeps, order: OrderRow): Promise<string | null> {
  if (!order.return_url) return null;
  const app = await loadAuthApp(deps.db, deps.box, deps.now(), order.app_id);
  return app?.secrets[0] ? signedReturnUrl(order, app.secrets[0]) : null;
}

/** The methods the consumer may pick, and whether every one of them goes to the sandbox (a test order). */
async function choicesFor(deps: CashierDeps, order: OrderRow): Promise<{ choices: Array<{ code: string; label: string }>; sandbox: boolean }> {
  const settingsOf = (method: string) => methodSettings(deps.db, order.merchant_id, 'payin', method, { committed: true });
  const payable = await payableMethods(settingsOf, order.currency, order.amount, storedExtra(order));
  const channels = await Promise.all(payable.map(async (def) => (await settingsOf(def.code)).channel));
  return { choices: payable.map((def) => ({ code: def.code, label: def.label })), sandbox: channels.length > 0 && channels.every((c) => c === SANDBOX) };
}

async function viewOf(deps: CashierDeps, order: OrderRow, key: Buffer, linkSecret: Buffer): Promise<CashierView> {
  const def = order.method ? findMethod(order.method) : undefined;
  const picker = order.method === null && order.status === 'CREATED' ? await choicesFor(deps, order) : { choices: [], sandbox: false };
  return {
    orderNo: order.order_no,
    merchantName: await merchantName(deps.db, order.merchant_id),
    amountText: formatMajor(order.amount, order.currency, true),
    currency: order.currency,
    status: order.status as CashierView['status'],
    expiresAt: order.expires_at === null ? null : Number(order.expires_at),
    now: deps.now(),
    method: def ? { code: def.code, label: def.label, params: order.params ? (JSON.parse(order.params) as Record<string, string>) : {} } : null,
    choices: picker.choices,
    cancelled: order.message === CANCELLED_BY_CONSUMER,
    // Before a method is picked the order has no channel: a test order when every choice is the sandbox.
    sandbox: order.channel === SANDBOX || picker.sandbox,
    csrfToken: csrfToken(key, order.order_no),
    linkKey: cashierKey(linkSecret, order.order_no),
    returnUrl: order.return_url,
    returnLink: order.status === 'CREATED' || order.status === 'PENDING' ? null : await returnLink(deps, order),
    assetBase: ASSET_BASE,
  };
}

function sendHtml(reply: FastifyReply, status: number, body: string, formTargets: string[], hsts: boolean): FastifyReply {
  return reply.code(status).headers(securityHeaders(cashierCsp({ formTargets }), hsts)).type('text/html; charset=utf-8').send(body);
}

/**
 * The pay-in the page is for. The page and its forms alike need the key of its
 * link (`?k=`), or answer 404 as unknown orders do, so the order number alone
 * reveals nothing; the forms need their CSRF token too, which only the page gives.
 */
async function payinOr404(deps: CashierDeps, request: FastifyRequest, reply: FastifyReply, linkSecret: Buffer): Promise<OrderRow | undefined> {
  const { orderNo } = request.params as { orderNo: string };
  const opens = isCashierKey(linkSecret, orderNo, (request.query as Record<string, unknown> | undefined)?.k);
  const order = opens ? await findOrder(deps.db, orderNo) : undefined;
  if (order && order.direction === 'payin') return order;
  sendHtml(reply, 404, renderNotFoundPage(negotiateLanguage(request.headers['accept-language']), ASSET_BASE), [], deps.hsts);
  return undefined;
}

function formField(request: FastifyRequest, name: string): unknown {
  const body = request.body as Record<string, unknown> | undefined;
  return body?.[name];
}

/** Form errors answer a page the consumer can read (with the way back to the order's page), not a JSON envelope. */
async function orRefusedPage(request: FastifyRequest, reply: FastifyReply, hsts: boolean, back: string, action: () => Promise<FastifyReply>): Promise<FastifyReply> {
  try {
    return await action();
  } catch (err) {
    if (!(err instanceof AppError) || err.status >= 500) throw err;
    const lang = negotiateLanguage(request.headers['accept-language']);
    return sendHtml(reply, err.status, renderRefusedPage(lang, ASSET_BASE, err.detail ?? err.message, back), [], hsts);
  }
}

/**
 * The hosted cashier page (`params.url`) and its forms. The consumer is not
 * authenticated: the page's address, the order number with a key only the
 * gateway makes, is the capability, and every form carries a token bound to
 * the order that only the page gives.
 */
export function registerCashierRoutes(app: App, deps: CashierDeps): void {
  const csrfKey = deps.box.derive('cashier:csrf');
  const linkSecret = deps.box.derive(CASHIER_LINK_PURPOSE);
  const pageOf = (orderNo: string) => cashierPath(linkSecret, orderNo);

  app.get('/cashier/assets/:name', async (request, reply) => {
    const { name } = request.params as { name: string };
    // Own names only: "toString" or "__proto__" are not assets.
    const asset = Object.hasOwn(CASHIER_ASSETS, name) ? CASHIER_ASSETS[name] : undefined;
    if (!asset) throw new AppError('NOT_FOUND', 'no such asset', 'not found');
    reply.header('ETag', asset.etag).header('Cache-Control', 'public, max-age=31536000, immutable').header('X-Content-Type-Options', 'nosniff');
    if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    return reply.type(asset.contentType).send(asset.body);
  });

  app.get('/cashier/:orderNo', async (request, reply) => {
    const found = await payinOr404(deps, request, reply, linkSecret);
    if (!found) return reply;
    // Past its time, the page shows it expired, with the way back to the merchant.
    const order = await currentPayin(deps.payins, found);
    const lang = negotiateLanguage(request.headers['accept-language']);
    const page = await renderCashierPage(await viewOf(deps, order, csrfKey, linkSecret), lang);
    return sendHtml(reply, 200, page, order.return_url ? [order.return_url] : [], deps.hsts);
  });

  app.post('/cashier/:orderNo/method', async (request, reply) => {
    const order = await payinOr404(deps, request, reply, linkSecret);
    if (!order) return reply;
    return orRefusedPage(request, reply, deps.hsts, pageOf(order.order_no), async () => {
      checkCsrf(csrfKey, order.order_no, formField(request, 'csrf'));
      const method = formField(request, 'method');
      if (typeof method !== 'string' || method === '') throw badRequest('method: choose a payment method');
      await choosePayinMethod(deps.payins, order.order_no, method);
      return reply.redirect(pageOf(order.order_no), 303);
    });
  });

  app.post('/cashier/:orderNo/cancel', async (request, reply) => {
    const order = await payinOr404(deps, request, reply, linkSecret);
    if (!order) return reply;
    return orRefusedPage(request, reply, deps.hsts, pageOf(order.order_no), async () => {
      checkCsrf(csrfKey, order.order_no, formField(request, 'csrf'));
      const after = await cancelPayin(deps.payins, order.order_no);
      // The consumer goes back to the merchant with the signed outcome, or sees it here.
      return reply.redirect((await returnLink(deps, after)) ?? pageOf(order.order_no), 303);
    });
  });

  app.post('/cashier/:orderNo/sandbox', async (request, reply) => {
    const found = await payinOr404(deps, request, reply, linkSecret);
    if (!found) return reply;
    return orRefusedPage(request, reply, deps.hsts, pageOf(found.order_no), async () => {
      checkCsrf(csrfKey, found.order_no, formField(request, 'csrf'));
      const outcome = parseSandboxOutcome(formField(request, 'outcome'));
      // Past its time it is expired, as the page shows it, whether the expiry job has run or not; a payment
      // then is what the sandbox API makes of it (EXCEPTION).
      const order = await currentPayin(deps.payins, found);
      const open = order.status === 'CREATED' || order.status === 'PENDING' || (order.status === 'EXPIRED' && outcome === 'PAID');
      // Settled meanwhile (another tab, the bank): the consumer sees the outcome, not a refusal.
      if (!open) return reply.redirect((await returnLink(deps, order)) ?? pageOf(order.order_no), 303);
      await completeSandboxPayin(deps.sandbox, order.order_no, outcome, null);
      const after = (await findOrder(deps.db, order.order_no))!;
      // Finished: back to the merchant with the signed outcome, or to the result page.
      const target = (await returnLink(deps, after)) ?? pageOf(order.order_no);
      return reply.redirect(target, 303);
    });
  });
}
