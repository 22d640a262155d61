import { assetUrl } from './assets.ts';
import { html } from './html.ts';
import type { Lang } from './i18n.ts';

const TEXT: Record<Lang, { title: string; body: string }> = {
  en: { title: 'Payment not found', body: 'This payment link is not valid. Go back to the shop and start the payment again.' },
  es: { title: 'Pago no encontrado', body: 'Este enlace de pago no es válido. Vuelve a la tienda e inicia el pago de nuevo.' },
  pt: { title: 'Pagamento não encontrado', body: 'Este link de pagamento não é válido. Volte à loja e inicie o pagamento novamente.' },
  id: { title: 'Pembayaran tidak ditemukan', body: 'Tautan pembayaran ini tidak valid. Kembali ke toko dan mulai pembayaran lagi.' },
};

const REFUSED: Record<Lang, { title: string; body: string; back: string }> = {
  en: { title: 'That did not work', body: 'Go back to the payment page and try again.', back: 'Back to the payment' },
  es: { title: 'No se pudo completar', body: 'Vuelve a la página de pago e inténtalo de nuevo.', back: 'Volver al pago' },
  pt: { title: 'Não foi possível concluir', body: 'Volte à página de pagamento e tente novamente.', back: 'Voltar ao pagamento' },
  id: { title: 'Tidak berhasil', body: 'Kembali ke halaman pembayaran dan coba lagi.', back: 'Kembali ke pembayaran' },
};

/** The page for an order number that does not exist (or is not a pay-in). */
export function renderNotFoundPage(lang: Lang, assetBase: string): string {
  return messagePage(lang, assetBase, TEXT[lang]);
}

/** A refused form (stale page, method not available): what to do in the page's language, the reason as given, and a way back. */
export function renderRefusedPage(lang: Lang, assetBase: string, reason: string, backHref: string): string {
  const t = REFUSED[lang];
  return messagePage(lang, assetBase, { title: t.title, body: t.body, detail: reason, back: { href: backHref, label: t.back } });
}

function messagePage(lang: Lang, assetBase: string, t: { title: string; body: string; detail?: string; back?: { href: string; label: string } }): string {
  return html`<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${t.title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assetUrl(assetBase, 'cashier.css')}">
</head>
<body>
<main>
<section class="card">
<h1>${t.title}</h1>
<p>${t.body}</p>
${t.detail ? html`<p class="hint">${t.detail}</p>` : ''}
${t.back ? html`<p class="actions"><a class="btn" href="${t.back.href}">${t.back.label}</a></p>` : ''}
</section>
</main>
</body>
</html>
`.toString();
}
