import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SafeHtml, escapeHtml, html, raw } from './html.ts';

describe('escapeHtml', () => {
  it('escapes the six characters', () => {
    assert.equal(escapeHtml(`&<>"'\``), '&amp;&lt;&gt;&quot;&#39;&#96;');
  });

  it('leaves other text alone', () => {
    assert.equal(escapeHtml('Ñandú 100% ok; a=b'), 'Ñandú 100% ok; a=b');
  });

  it('does not double-decode: escaping an entity escapes its ampersand', () => {
    assert.equal(escapeHtml('&lt;'), '&amp;lt;');
  });
});

describe('html``', () => {
  it('escapes interpolated strings in text', () => {
    assert.equal(html`<p>${'<script>alert(1)</script>'}</p>`.toString(), '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>');
  });

  it('keeps an attribute value inside its quotes', () => {
    const out = html`<a title="${'" onmouseover="alert(1)'}">x</a>`.toString();
    assert.equal(out, '<a title="&quot; onmouseover=&quot;alert(1)">x</a>');
    assert.doesNotMatch(out, /"\s+onmouseover=/);
  });

  it("escapes single quotes and backticks for other quoting styles", () => {
    const payload = "' onfocus='x'" + '`';
    assert.equal(html`${payload}`.toString(), '&#39; onfocus=&#39;x&#39;&#96;');
  });

  it('leaves a javascript: URL as text: scheme checks are the caller\'s job', () => {
    assert.equal(html`${'javascript:alert(1)'}`.toString(), 'javascript:alert(1)');
  });

  it('nests html`` without escaping twice', () => {
    const inner = html`<b>${'<i>'}</b>`;
    assert.equal(html`<p>${inner}</p>`.toString(), '<p><b>&lt;i&gt;</b></p>');
  });

  it('renders raw() as is', () => {
    assert.equal(html`${raw('<svg/>')}`.toString(), '<svg/>');
  });

  it('joins arrays, escaping their members', () => {
    assert.equal(html`<ul>${['<a>', html`<li>x</li>`]}</ul>`.toString(), '<ul>&lt;a&gt;<li>x</li></ul>');
  });

  it('renders false, null and undefined as nothing, numbers as text', () => {
    assert.equal(html`${false}${null}${undefined}${0}${12.5}${10n}`.toString(), '012.510');
  });

  it('does not trust look-alike objects or direct construction', () => {
    const fake = { toString: () => '<script>' } as unknown as string;
    assert.equal(html`${fake}`.toString(), '&lt;script&gt;');
    assert.throws(() => new SafeHtml('<script>', Symbol('SafeHtml')), TypeError);
  });
});
