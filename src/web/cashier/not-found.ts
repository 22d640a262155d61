import { assetUrl } from './assets.ts';
import { html } from './html.ts';
import type { Lang } from './i18n.ts';

const TEXT: Record<Lang, { title: string; body: string }> = {
  en: { title: 'Payment not found', body: 'This payment link is not valid. Go back to the shop and start the payment again.' },
  es: { title: 'Pago no encontrado', body: 'Este enlace de pago no es válido. Vuelve a la tienda e inicia el pago de nuevo.' },
  pt: { title: 'Pagamento não encontrado', body: 'Este link de pagamento não é válido. Volte à loja e inicie o pagamento novamente.' },
  id: { title: 'Pembayaran tidak ditemukan', body: 'Tautan pembayaran ini tidak valid. Kembali ke toko dan mulai pembayaran lagi.' },
};

/** The page for an order number that does not exist (or is not a pay-in). */
export function renderNotFoundPage(lang: Lang, assetBase: string): string {
  const t = TEXT[lang];
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
</section>
</main>
</body>
</html>
`.toString();
}
