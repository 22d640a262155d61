import { createHash } from 'node:crypto';

/**
 * The cashier's stylesheet and script, served from same-origin URLs because
 * the CSP forbids inline ones. Hand-written, no build: they are small.
 */

// Colours keep at least 4.5:1 contrast against their backgrounds (WCAG AA),
// tap targets are at least 48px, and nothing depends on hover. An amount's size
// follows its card's width (cqi; the value before it serves browsers without
// container units), so the figure, which never breaks, fits at any width and
// text size.
export const CASHIER_CSS = `:root{color-scheme:light dark;--bg:#eef0f3;--card:#fff;--fg:#1b1d21;--muted:#545a64;--line:#d5d9e0;--accent:#0b57d0;--on-accent:#fff;--ok:#137333;--bad:#b3261e;--warn:#8a4b00;--soft:#f6f7f9;--sand:#fff7e0}
@media (prefers-color-scheme:dark){:root{--bg:#111316;--card:#1c1f24;--fg:#eceef2;--muted:#aab1bc;--line:#3a3f47;--accent:#8ab4f8;--on-accent:#0b1a33;--ok:#6dd58c;--bad:#f2b8b5;--warn:#ffb95c;--soft:#23272d;--sand:#2b2414}}
*{box-sizing:border-box}
[hidden]{display:none!important}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif}
main{max-width:30rem;margin:0 auto;padding:1rem 1rem 2rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:1rem;padding:1.25rem;margin-bottom:1rem;container-type:inline-size}
.merchant{display:flex;align-items:center;justify-content:space-between;gap:.5rem;margin:.25rem 0 .75rem}
.merchant p{margin:0;color:var(--muted);font-size:.875rem}
.merchant h1{margin:0;font-size:1.125rem;line-height:1.3;overflow-wrap:anywhere}
.badge{flex:none;border:2px solid var(--warn);color:var(--warn);border-radius:.5rem;padding:.125rem .5rem;font-size:.75rem;font-weight:700;letter-spacing:.05em}
.test-note{margin:0 0 1rem;padding:.75rem 1rem;border-radius:.75rem;background:var(--sand);color:var(--warn);font-size:.9375rem}
.amount-label{margin:0;color:var(--muted);font-size:.875rem}
.amount{margin:.125rem 0 .5rem;font-size:2.25rem;font-size:min(2.25rem,13cqi);font-weight:700;line-height:1.2;font-variant-numeric:tabular-nums}
.amount.long{font-size:min(1.75rem,7.5vw);font-size:min(1.75rem,10cqi)}
.amount.longer{font-size:min(1.375rem,6vw);font-size:min(1.375rem,8cqi)}
.amount .figure{white-space:nowrap}
.amount small{font-size:1rem;font-weight:600;color:var(--muted);margin-left:.125rem;white-space:nowrap}
.meta{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.25rem 1rem;margin:0;font-size:.8125rem;color:var(--muted)}
.meta dt{display:inline}
.meta dd{display:inline;margin:0 0 0 .25rem;overflow-wrap:anywhere}
.meta .mono{font-family:ui-monospace,Menlo,Consolas,monospace}
.countdown{margin:.75rem 0 0;padding:.5rem .75rem;border-radius:.5rem;background:var(--soft);font-size:.9375rem}
.countdown time{font-weight:700;font-variant-numeric:tabular-nums}
.countdown.is-expired{color:var(--bad)}
h2{font-size:1.0625rem;margin:0 0 .75rem;overflow-wrap:break-word}
.status{display:flex;gap:.75rem;align-items:flex-start;margin-bottom:1.25rem}
.status svg{flex:none;width:2.5rem;height:2.5rem}
.status>div{min-width:0;overflow-wrap:anywhere}
.status h2{margin:.375rem 0 .25rem;font-size:1.25rem;overflow-wrap:anywhere}
.status p{margin:0;color:var(--muted)}
.s-ok{color:var(--ok)}.s-bad{color:var(--bad)}.s-warn{color:var(--warn)}.s-wait{color:var(--accent)}
.methods{border:0;margin:0;padding:0;min-width:0}
.methods legend{font-weight:700;font-size:1.0625rem;margin-bottom:.75rem;padding:0}
.methods button{display:flex;width:100%;align-items:center;justify-content:space-between;min-height:3.5rem;margin:0 0 .5rem;padding:.75rem 1rem;border:1px solid var(--line);border-radius:.75rem;background:var(--card);color:var(--fg);font:inherit;font-weight:600;text-align:left;cursor:pointer}
.methods button::after{content:"\\203A" / "";font-size:1.5rem;line-height:1;color:var(--muted)}
.field{margin:0 0 1rem}
.wallet-note{color:var(--muted);font-size:.875rem;overflow-wrap:anywhere}
.field-label{display:block;margin-bottom:.375rem;font-weight:600}
.copybox{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem;padding:.5rem .5rem .5rem .875rem;border:1px solid var(--line);border-radius:.75rem;background:var(--soft)}
.copybox code{flex:1 1 12rem;min-width:0;font:600 1.125rem/1.4 ui-monospace,Menlo,Consolas,monospace;overflow-wrap:anywhere;user-select:all;-webkit-user-select:all}
.wide code{flex-basis:100%}
.copybox code.long{font-size:.8125rem;font-weight:400;max-height:6.5em;overflow:auto}
.g{display:inline-block;white-space:nowrap}.g+.g{margin-left:.4em}
.btn,.copy-btn{display:inline-flex;align-items:center;justify-content:center;min-height:3rem;padding:.625rem 1.25rem;border-radius:.75rem;border:2px solid var(--accent);font:inherit;font-weight:600;text-align:center;text-decoration:none;cursor:pointer;touch-action:manipulation}
.btn{width:100%;background:var(--accent);color:var(--on-accent);font-size:1.0625rem}
.btn.secondary,.copy-btn{background:transparent;color:var(--accent)}
.btn.link{background:transparent;border-color:transparent;color:var(--muted);font-weight:500}
.copy-btn{flex:none;margin-left:auto;min-width:min(5.5rem,100%);padding:.5rem .875rem}
.copy-btn.is-done{background:var(--ok);border-color:var(--ok);color:var(--card)}
.qr{display:block;width:15rem;max-width:100%;height:auto;margin:0 auto 1rem;background:#fff;border-radius:.5rem;padding:.25rem}
.hint{color:var(--muted);font-size:.875rem;margin:.75rem 0 0}
.actions{margin:1rem 0 0}
.sandbox{border:2px dashed var(--warn);background:var(--sand)}
.sandbox h2{color:var(--warn)}
.sandbox form{display:grid;grid-template-columns:minmax(0,1fr);gap:.5rem}
.btn{overflow-wrap:anywhere}
.sandbox .btn{background:var(--card);color:var(--fg);border-color:var(--line)}
.sandbox .o-PAID{border-color:var(--ok)}.sandbox .o-FAILED{border-color:var(--bad)}
button:disabled,.is-busy{opacity:.6;cursor:progress}
a:focus-visible,button:focus-visible,code:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.offscreen{position:fixed;top:0;left:-9999px;opacity:0}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
footer{text-align:center;color:var(--muted);font-size:.75rem}
`;

// ES2017 at most, no modules: old Android WebViews open these pages too.
export const CASHIER_JS = `(function () {
  'use strict';
  var d = document, body = d.body, sent = false;
  function text(name) { return body.getAttribute('data-' + name) || ''; }
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function fmt(ms) {
    var t = Math.max(0, Math.ceil(ms / 1000)), h = Math.floor(t / 3600), m = Math.floor(t % 3600 / 60);
    return (h > 0 ? h + ':' : '') + pad(m) + ':' + pad(t % 60);
  }

  // Countdown: server "now" and expiry give the time left at render; the
  // device clock only measures elapsed time, so a wrong device clock is harmless.
  var cd = d.querySelector('[data-expires-at]');
  if (cd) {
    var out = cd.querySelector('time');
    var left0 = Number(cd.getAttribute('data-expires-at')) - Number(cd.getAttribute('data-now'));
    var t0 = Date.now(), timer = 0;
    var tick = function () {
      var left = left0 - (Date.now() - t0);
      if (left > 0) { out.textContent = fmt(left); return; }
      clearInterval(timer);
      // The whole line, label and all: "Expired", not "Expires in Expired".
      cd.textContent = text('expired');
      cd.classList.add('is-expired');
      // Reload once, and only if it expired while open: a page rendered
      // already expired (server not caught up yet) must not loop.
      if (left0 > 0) setTimeout(function () { location.reload(); }, 1500);
    };
    timer = setInterval(tick, 1000);
    tick();
  }

  function selectText(el) {
    var r = d.createRange(), s = window.getSelection();
    r.selectNodeContents(el);
    s.removeAllRanges();
    s.addRange(r);
  }
  function legacyCopy(value) {
    var ta = d.createElement('textarea'), ok = false;
    ta.value = value;
    ta.setAttribute('readonly', '');
    ta.className = 'offscreen';
    body.appendChild(ta);
    ta.select();
    try { ok = d.execCommand('copy'); } catch (e) { ok = false; }
    body.removeChild(ta);
    return ok;
  }
  function flash(btn, msg, done) {
    var live = d.getElementById('live'), label = btn.getAttribute('data-label') || btn.textContent;
    btn.setAttribute('data-label', label);
    btn.textContent = msg;
    btn.classList.toggle('is-done', done);
    if (live) live.textContent = msg;
    setTimeout(function () { btn.textContent = label; btn.classList.remove('is-done'); }, 2000);
  }
  var copyButtons = d.querySelectorAll('[data-copy]');
  for (var i = 0; i < copyButtons.length; i++) copyButtons[i].hidden = false;
  d.addEventListener('click', function (e) {
    var btn = e.target.closest ? e.target.closest('[data-copy]') : null;
    if (!btn) return;
    var value = btn.getAttribute('data-copy');
    var ok = function () { flash(btn, text('copied'), true); };
    var fallback = function () {
      if (legacyCopy(value)) return ok();
      var el = btn.parentNode.querySelector('code');
      if (el) selectText(el);
      flash(btn, text('copy-failed'), false);
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(value).then(ok, fallback);
    else fallback();
  });

  // One submission per page: a double tap must not post twice. Buttons are
  // disabled after the event, because a disabled submitter would drop its
  // name=value (the method or outcome) from the form data.
  d.addEventListener('submit', function (e) {
    if (sent) { e.preventDefault(); return; }
    sent = true;
    var sub = e.submitter, buttons = d.querySelectorAll('form button');
    setTimeout(function () {
      for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
      if (sub) { sub.classList.add('is-busy'); sub.textContent = text('processing'); }
    }, 0);
  });

  // Consumers switch to their bank app and come back: show the fresh status.
  if (body.hasAttribute('data-live')) {
    var hiddenAt = 0;
    d.addEventListener('visibilitychange', function () {
      if (d.hidden) hiddenAt = Date.now();
      else if (!sent && hiddenAt && Date.now() - hiddenAt > 3000) location.reload();
    });
  }
})();
`;

/** A strong ETag for an asset's content; also its cache-busting version. */
export function assetEtag(content: string): string {
  return `"${createHash('sha256').update(content, 'utf8').digest('base64url').slice(0, 22)}"`;
}

export interface CashierAsset {
  name: string;
  contentType: string;
  body: string;
  etag: string;
}

/** What the asset route serves, by file name under `assetBase`. */
export const CASHIER_ASSETS: Readonly<Record<string, CashierAsset>> = {
  'cashier.css': { name: 'cashier.css', contentType: 'text/css; charset=utf-8', body: CASHIER_CSS, etag: assetEtag(CASHIER_CSS) },
  'cashier.js': { name: 'cashier.js', contentType: 'text/javascript; charset=utf-8', body: CASHIER_JS, etag: assetEtag(CASHIER_JS) },
};

/** `cashier.css` → `/cashier/assets/cashier.css?v=<etag>`: the version lets the route cache forever. */
export function assetUrl(assetBase: string, name: 'cashier.css' | 'cashier.js'): string {
  const asset = CASHIER_ASSETS[name]!;
  return `${assetBase.replace(/\/+$/, '')}/${name}?v=${asset.etag.slice(1, -1)}`;
}
