import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { BANKS } from './banks.ts';
import { CATALOGUE } from './catalogue.ts';
import { catalogueMarkdown } from './catalogue.doc.ts';

describe('docs/methods.md', () => {
  const doc = catalogueMarkdown();

  it('is the catalogue as it is (npm run docs:methods writes it)', () => {
    assert.equal(fs.readFileSync(new URL('../../../docs/methods.md', import.meta.url), 'utf8'), doc, 'docs/methods.md is out of date: run npm run docs:methods');
  });

  it('lists every method with its currency, and every bank code with its other names', () => {
    for (const def of CATALOGUE) assert.match(doc, new RegExp(`^\\| \`${def.code}\` \\| ${def.label.replace(/[()/]/g, '\\$&')} \\|`, 'm'), def.code);
    for (const banks of Object.values(BANKS)) {
      for (const bank of banks) {
        const row = doc.split('\n').find((line) => line.startsWith(`| \`${bank.code}\` | ${bank.name} |`));
        assert.ok(row, bank.code);
        for (const alias of bank.aliases ?? []) assert.ok(row.includes(`\`${alias}\``), `${bank.code} ${alias}`);
      }
    }
  });

  it('names what each method needs in extra, per direction', () => {
    const row = (code: string) => doc.split('\n').find((line) => line.startsWith(`| \`${code}\` |`))!;
    assert.match(row('PK_WALLET'), /\| `payType`, `mobile`; `payType`: `PK_WALLET_JAZZCASH`, `PK_WALLET_EASYPAISA` \| — \|/);
    assert.match(row('MX_SPEI'), /\| none \| `accountName`, `accountNo`, `bankCode` \(optional\) \|/);
    assert.match(row('ID_VA'), /\| `bankCode` \(optional\) \| — \|/);
  });
});
