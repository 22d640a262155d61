import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LANGS, messages, negotiateLanguage } from './i18n.ts';
import type { Lang } from './i18n.ts';

/** "a", "statusTitle.PAID", …: every leaf key of a messages record. */
function leafKeys(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leafKeys(v, prefix === '' ? k : `${prefix}.${k}`)).sort();
}

function leafValues(value: unknown): unknown[] {
  if (typeof value !== 'object' || value === null) return [value];
  return Object.values(value).flatMap(leafValues);
}

describe('messages', () => {
  const reference = leafKeys(messages('en'));

  for (const lang of LANGS) {
    it(`${lang} has every key of en, and only those`, () => {
      assert.deepEqual(leafKeys(messages(lang)), reference);
    });

    it(`${lang} has no empty string`, () => {
      for (const v of leafValues(messages(lang))) {
        assert.equal(typeof v, 'string');
        assert.notEqual((v as string).trim(), '');
      }
    });
  }

  it('is really translated: each language differs from English on most keys', () => {
    const en = leafValues(messages('en'));
    for (const lang of LANGS.filter((l) => l !== 'en')) {
      const other = leafValues(messages(lang));
      const same = other.filter((v, i) => v === en[i]).length;
      assert.ok(same < en.length / 10, `${lang}: ${same} strings identical to English`);
    }
  });
});

describe('negotiateLanguage', () => {
  const table: Array<[string | undefined, Lang]> = [
    [undefined, 'en'],
    ['', 'en'],
    ['en', 'en'],
    ['es', 'es'],
    ['pt-BR', 'pt'],
    ['pt-br,pt;q=0.9', 'pt'],
    ['es-MX,es;q=0.9,en;q=0.8', 'es'],
    ['es-419', 'es'],
    ['id-ID', 'id'],
    ['in', 'id'],
    ['in-ID,in;q=0.9', 'id'],
    ['ID', 'id'],
    ['fr-FR', 'en'],
    ['fr-FR,fr;q=0.9,pt;q=0.8,en;q=0.7', 'pt'],
    ['de;q=1, id;q=0.5', 'id'],
    ['en;q=0.1, es;q=0.9', 'es'],
    ['en;q=0.5, es;q=0.5', 'en'],
    ['es;q=0, pt', 'pt'],
    ['es;q=0', 'en'],
    ['*', 'en'],
    ['fr, *;q=0.5', 'en'],
    ['zh-Hant-TW, pt-PT;q=0.8', 'pt'],
    ['es ; q=0.8 , id ; q=0.9', 'id'],
    // Malformed: the bad range is skipped, or English when nothing is left.
    ['pt-BR;q=abc, es;q=0.3', 'es'],
    ['pt;q=2', 'en'],
    ['pt;q=0.5555', 'en'],
    [';;;,,,', 'en'],
    ['<script>', 'en'],
    ['es_MX', 'en'],
    ['\u0000es', 'en'],
    ['e'.repeat(5000), 'en'],
    [`${'xx,'.repeat(40)}es`, 'en'],
  ];
  for (const [header, expected] of table) {
    it(`${JSON.stringify(header)?.slice(0, 40)} → ${expected}`, () => {
      assert.equal(negotiateLanguage(header), expected);
    });
  }
});
