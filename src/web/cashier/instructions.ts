import { groupClabe, groupVa, safeDeeplink } from './format.ts';
import { html, raw } from './html.ts';
import type { SafeHtml } from './html.ts';
import type { Messages } from './i18n.ts';
import { qrDataUri } from './qr.ts';
import { findBank } from '../../modules/channels/banks.ts';

/**
 * How to pay with the chosen method, from the channel's `params`: the
 * consumer's next step comes first (open the app, scan, transfer).
 */

// Longer copy values (EMV payloads) get a smaller font and a scroll area.
const LONG_VALUE = 40;

/** Digits shown in groups, one span each: a manual selection copies no spaces. */
function groups(grouped: string): SafeHtml {
  return html`${grouped.split(' ').map((g) => html`<span class="g">${g}</span>`)}`;
}

interface CopyField {
  id: string;
  label: string;
  value: string;
  shown?: SafeHtml;
  /** Keep the value on one line, with the button below it (an 18-digit CLABE). */
  wide?: boolean;
}

function copyField(f: CopyField, t: Messages): SafeHtml {
  const long = f.value.length > LONG_VALUE;
  // The button stays hidden until the script runs: without it, it cannot copy,
  // and the value is still selectable by hand.
  return html`<div class="field">
<span class="field-label" id="${f.id}">${f.label}</span>
<div class="copybox${f.wide ? ' wide' : ''}"><code${long ? html` class="long" tabindex="0" aria-labelledby="${f.id}"` : raw('')}>${f.shown ?? f.value}</code><button type="button" class="copy-btn" data-copy="${f.value}" aria-describedby="${f.id}" hidden>${t.copy}</button></div>
</div>`;
}

function deeplinkButton(link: string | undefined, t: Messages): SafeHtml | null {
  const safe = link === undefined ? null : safeDeeplink(link);
  if (safe === null) return null;
  return html`<p class="field"><a class="btn" href="${safe}" rel="noopener noreferrer">${t.openApp}</a></p>`;
}

async function qrBlock(qrCode: string | undefined, t: Messages): Promise<SafeHtml | null> {
  if (qrCode === undefined || qrCode === '') return null;
  const src = await qrDataUri(qrCode);
  return html`<div class="field">
<p class="field-label" id="f-qr">${t.scanQr}</p>
<img class="qr" src="${src}" alt="${t.qrAlt}" width="240" height="240">
</div>
${copyField({ id: 'f-qr-text', label: t.orCopyCode, value: qrCode }, t)}`;
}

function contentBlock(content: string | undefined, qrCode: string | undefined, t: Messages): SafeHtml | null {
  // PIX sends its copy-and-paste code as both qrCode and content: show it once.
  if (content === undefined || content === '' || content === qrCode) return null;
  // Wallets send a sentence to follow in their app, not a code to paste, in the channel's language
  // (English, as the API's params are): what to do comes first in the page's.
  if (/\s/.test(content.trim())) return html`<p class="field">${t.approveInWallet}</p>
<p class="field wallet-note" lang="en">${content}</p>`;
  return copyField({ id: 'f-content', label: t.content, value: content }, t);
}

function bankFields(params: Readonly<Record<string, string>>, t: Messages): SafeHtml[] {
  const out: SafeHtml[] = [];
  const clabe = params['clabe'];
  if (clabe !== undefined && clabe !== '') {
    out.push(copyField({ id: 'f-clabe', label: t.transferClabe, value: clabe, shown: groups(groupClabe(clabe)), wide: true }, t));
  }
  const va = params['vaNumber'];
  const vaBank = params['vaBank'];
  // A virtual account is paid from the bank's own app or ATM: the consumer must know which bank.
  if (va !== undefined && va !== '' && vaBank !== undefined && vaBank !== '') {
    out.push(html`<p class="field"><span class="field-label">${t.vaBank}</span> <strong>${findBank('ID', vaBank)?.name ?? vaBank}</strong></p>`);
  }
  if (va !== undefined && va !== '') {
    out.push(copyField({ id: 'f-va', label: t.vaNumber, value: va, shown: groups(groupVa(va)) }, t));
  }
  return out;
}

/** The instructions for `params`; empty when the method returned nothing we show. */
export async function renderInstructions(params: Readonly<Record<string, string>>, t: Messages): Promise<SafeHtml> {
  const parts = [
    deeplinkButton(params['deeplink'], t),
    await qrBlock(params['qrCode'], t),
    ...bankFields(params, t),
    contentBlock(params['content'], params['qrCode'], t),
  ];
  const shown = parts.filter((p): p is SafeHtml => p !== null);
  if (shown.length === 0) return html``;
  return html`${shown}<p class="hint">${t.exactAmount}</p>`;
}
