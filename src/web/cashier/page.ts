import { assetUrl } from './assets.ts';
import { formatAmount, formatRemaining, safeHttpUrl } from './format.ts';
import { html, raw } from './html.ts';
import type { SafeHtml } from './html.ts';
import { messages } from './i18n.ts';
import type { Lang, Messages, OrderStatus } from './i18n.ts';
import type { DescribedMethod } from './messages.ts';
import { renderInstructions } from './instructions.ts';

/**
 * The hosted cashier page, rendered on the server. No inline script, style or
 * event handler anywhere (the CSP forbids them); forms work without script.
 */

export type CashierStatus = OrderStatus;

export interface CashierView {
  orderNo: string;
  merchantName: string;
  /** Exact major-units text, e.g. "1250.50". */
  amountText: string;
  /** ISO 4217 code. */
  currency: string;
  status: CashierStatus;
  /** Epoch ms. */
  expiresAt: number | null;
  /** Server time (epoch ms) the countdown starts from. */
  now: number;
  /** params: clabe, qrCode (EMV text), content, deeplink, vaNumber, expireTime… */
  method: null | { code: string; label: string; params: Record<string, string> };
  /** The methods offered when `method` is null and the status is CREATED. */
  choices: Array<{ code: string; label: string }>;
  /** The consumer cancelled it on this page: its final page says so rather than "failed" or "expired". */
  cancelled?: boolean;
  /** Show the outcome buttons (PAID / FAILED / EXCEPTION). */
  sandbox: boolean;
  /** Sent back in every form as the hidden field `csrf`. */
  csrfToken: string;
  /** The key of the page's link (`?k=`): every form posts to an address that carries it too. */
  linkKey: string;
  returnUrl: string | null;
  /** The signed return redirect (spec section 8), shown on final states. */
  returnLink?: string | null;
  /** e.g. "/cashier/assets". */
  assetBase: string;
}

const OPEN: ReadonlySet<CashierStatus> = new Set(['CREATED', 'PENDING']);

export function isOpen(status: CashierStatus): boolean {
  return OPEN.has(status);
}

export const SANDBOX_OUTCOMES = ['PAID', 'FAILED', 'EXCEPTION'] as const;

// Decorative (aria-hidden): the status heading carries the meaning.
const ICONS = {
  ok: '<path d="M7 12.5l3.2 3.2L17 9"/>',
  bad: '<path d="M8.5 8.5l7 7m0-7l-7 7"/>',
  wait: '<path d="M12 7v5l3 2"/>',
  warn: '<path d="M12 7v6m0 3.5v.5"/>',
} as const;

type Tone = keyof typeof ICONS;

const TONE: Readonly<Record<CashierStatus, Tone>> = {
  CREATED: 'wait',
  PENDING: 'wait',
  PAID: 'ok',
  FAILED: 'bad',
  EXPIRED: 'bad',
  REFUNDED: 'warn',
  EXCEPTION: 'warn',
};

function icon(tone: Tone): SafeHtml {
  return raw(
    `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" aria-hidden="true" focusable="false"><circle cx="12" cy="12" r="10"/>${ICONS[tone]}</svg>`,
  );
}

function orderPath(view: CashierView, action: 'method' | 'sandbox' | 'cancel'): string {
  return `/cashier/${encodeURIComponent(view.orderNo)}/${action}?k=${encodeURIComponent(view.linkKey)}`;
}

function csrfInput(view: CashierView): SafeHtml {
  return html`<input type="hidden" name="csrf" value="${view.csrfToken}">`;
}

function header(view: CashierView, t: Messages): SafeHtml {
  return html`<header class="merchant">
<div><p>${t.payTo}</p><h1>${view.merchantName}</h1></div>
${view.sandbox && html`<span class="badge">${t.testBadge}</span>`}
</header>
${view.sandbox && html`<p class="test-note">${t.testOrder}</p>`}`;
}

function countdown(view: CashierView, t: Messages): SafeHtml | null {
  if (view.expiresAt === null || !isOpen(view.status)) return null;
  const left = formatRemaining(view.expiresAt - view.now);
  return html`<p class="countdown" role="timer" data-expires-at="${view.expiresAt}" data-now="${view.now}">${t.expiresIn} <time datetime="${new Date(view.expiresAt).toISOString()}">${left}</time></p>`;
}

/** A method as the page's language names it; brands keep the catalogue's label. */
function methodName(method: { code: string; label: string }, t: Messages): string {
  return Object.hasOwn(t.methodNames, method.code) ? t.methodNames[method.code as DescribedMethod] : method.label;
}

/**
 * The amount's size class: the figure never breaks (a consumer must not read half a number), so a
 * long one is set smaller, and every size follows the card's width (assets.ts); 20 characters
 * (9,999,999,999,999.99) fit a 320 px screen with text at 200 %. The currency code may go to the
 * next line, whole.
 */
function amountSize(figure: string): string {
  return figure.length > 16 ? 'amount longer' : figure.length > 12 ? 'amount long' : 'amount';
}

function summary(view: CashierView, lang: Lang, t: Messages): SafeHtml {
  const figure = formatAmount(view.amountText, lang);
  const label = isOpen(view.status) ? t.amount : t.orderAmount;
  return html`<section class="card" aria-label="${label}">
<p class="amount-label">${label}</p>
<p class="${amountSize(figure)}"><span class="figure">${figure}</span> <small>${view.currency}</small></p>
<dl class="meta">
${view.method !== null && html`<div><dt>${t.payWith}:</dt> <dd>${methodName(view.method, t)}</dd></div>`}
<div><dt>${t.orderNo}:</dt> <dd class="mono">${view.orderNo}</dd></div>
</dl>
${countdown(view, t)}
</section>`;
}

/** A consumer's own cancel ends the order FAILED (from the picker) or EXPIRED (after a method): said as theirs. */
function statusTitle(status: CashierStatus, t: Messages, cancelled: boolean): string {
  return cancelled && (status === 'FAILED' || status === 'EXPIRED') ? t.cancelledTitle : t.statusTitle[status];
}

function statusBlock(status: CashierStatus, t: Messages, cancelled = false): SafeHtml {
  const tone = TONE[status];
  return html`<div class="status s-${tone}" role="status">${icon(tone)}<div><h2>${statusTitle(status, t, cancelled)}</h2><p>${t.statusDetail[status]}</p></div></div>`;
}

function methodPicker(view: CashierView, t: Messages): SafeHtml {
  if (view.choices.length === 0) return html`<p role="alert">${t.noMethods}</p>`;
  return html`<form method="post" action="${orderPath(view, 'method')}">
${csrfInput(view)}
<fieldset class="methods"><legend>${t.chooseMethod}</legend>
${view.choices.map((c) => html`<button type="submit" name="method" value="${c.code}">${methodName(c, t)}</button>`)}
</fieldset>
</form>`;
}

function finalBlock(view: CashierView, t: Messages): SafeHtml {
  const link = view.returnLink ? safeHttpUrl(view.returnLink) : null;
  return html`${statusBlock(view.status, t, view.cancelled)}
<div class="actions">${
    link !== null
      ? html`<a class="btn" href="${link}">${t.returnToMerchant}</a>`
      : html`<p class="hint">${t.closePage}</p>`
  }</div>`;
}

/** The consumer gives up: back to the merchant (or the result here) with the order cancelled. */
function cancelForm(view: CashierView, t: Messages): SafeHtml {
  return html`<form method="post" action="${orderPath(view, 'cancel')}" class="actions">
${csrfInput(view)}
<button type="submit" class="btn link">${t.cancelPayment}</button>
</form>`;
}

async function openBlock(view: CashierView, t: Messages): Promise<SafeHtml> {
  if (view.method === null) {
    return view.status === 'CREATED' ? html`${methodPicker(view, t)}
${cancelForm(view, t)}` : statusBlock(view.status, t, view.cancelled);
  }
  // An empty href reloads this same URL: a status check that needs no script.
  return html`${view.status === 'PENDING' && statusBlock('PENDING', t)}
<h2>${t.payWith} ${methodName(view.method, t)}</h2>
${await renderInstructions(view.method.params, t)}
<p class="actions"><a class="btn secondary" href="">${t.checkStatus}</a></p>
${cancelForm(view, t)}`;
}

/** The bank's outcomes, once the order is on the sandbox channel: before a method is picked there is nothing to complete. */
function sandboxPanel(view: CashierView, t: Messages): SafeHtml | null {
  if (!view.sandbox || view.method === null || !isOpen(view.status)) return null;
  const label = { PAID: t.sandboxPay, FAILED: t.sandboxFail, EXCEPTION: t.sandboxException };
  return html`<section class="card sandbox" aria-labelledby="sandbox-title">
<h2 id="sandbox-title">${t.sandboxTitle}</h2>
<form method="post" action="${orderPath(view, 'sandbox')}">
${csrfInput(view)}
${SANDBOX_OUTCOMES.map((o) => html`<button type="submit" class="btn o-${o}" name="outcome" value="${o}">${label[o]}</button>`)}
</form>
</section>`;
}

/** The tab's title: after a payment, a cancel or an outcome it says how the order ended, the first thing a screen reader reads. */
function pageTitle(view: CashierView, t: Messages): string {
  return isOpen(view.status) ? t.title : statusTitle(view.status, t, view.cancelled === true);
}

function bodyAttributes(view: CashierView, t: Messages): SafeHtml {
  // Strings the script needs, so it carries no language of its own. data-live:
  // the status can still change while the consumer pays in another app.
  const live = isOpen(view.status) && view.method !== null;
  return html`data-copied="${t.copied}" data-copy-failed="${t.copyFailed}" data-expired="${t.expired}" data-processing="${t.processing}"${live ? raw(' data-live="1"') : ''}`;
}

/**
 * The order as the consumer should see it. Past its expiry an open order is
 * shown as expired even before the expiry job has marked it: telling someone
 * to pay an order that is about to be refused would be worse.
 */
function displayed(view: CashierView): CashierView {
  const late = isOpen(view.status) && view.expiresAt !== null && view.expiresAt <= view.now;
  return late ? { ...view, status: 'EXPIRED' } : view;
}

export async function renderCashierPage(order: CashierView, lang: Lang): Promise<string> {
  const view = displayed(order);
  const t = messages(lang);
  const main = isOpen(view.status) ? await openBlock(view, t) : finalBlock(view, t);
  const page = html`<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="color-scheme" content="light dark">
<title>${pageTitle(view, t)} · ${view.merchantName}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assetUrl(view.assetBase, 'cashier.css')}">
<script src="${assetUrl(view.assetBase, 'cashier.js')}" defer></script>
</head>
<body ${bodyAttributes(view, t)}>
<main>
${header(view, t)}
${summary(view, lang, t)}
<section class="card">
${main}
</section>
${sandboxPanel(view, t)}
<p id="live" class="sr-only" aria-live="polite"></p>
</main>
</body>
</html>
`;
  return page.toString();
}
