/**
 * What the gateway loads at run time is a dependency, not a devDependency:
 * `npm ci --omit=dev` must give a node_modules that serves.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Source files the gateway runs: bin/ and src/ without their tests. */
function runtimeFiles(dir: string, out: string[] = []): string[] {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) runtimeFiles(full, out);
    else if (/\.(ts|mjs)$/.test(entry.name) && !entry.name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

/** The package a bare specifier names (`@scope/name/sub` → `@scope/name`); null for relative paths and builtins. */
export function packageOf(specifier: string): string | null {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return null;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
  return builtinModules.includes(name) ? null : name;
}

/** Packages a file imports for its values: `import type` and `export type` lines load nothing. */
export function importedPackages(source: string): string[] {
  const found: string[] = [];
  const statements = /(?:^|\n)\s*(import|export)\s+(type\s+)?[^'";]*?from\s+['"]([^'"]+)['"]|(?:^|\n)\s*import\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of source.matchAll(statements)) {
    if (m[2]) continue;
    const name = packageOf(m[3] ?? m[4] ?? m[5] ?? '');
    if (name) found.push(name);
  }
  return found;
}

describe('packaging', () => {
  it('reads imports as the rule means', () => {
    const cases: [string, string[]][] = [
      ["import QRCode from 'qrcode';", ['qrcode']],
      ["import type { Kysely } from 'kysely';", []],
      ["import { sql, type Kysely } from 'kysely';", ['kysely']],
      ["import fs from 'node:fs';\nimport path from 'path';", []],
      ["import { x } from '../y.ts';", []],
      ["import { register } from 'tsx/esm/api';", ['tsx']],
      ["export { Type } from '@fastify/type-provider-typebox';", ['@fastify/type-provider-typebox']],
      ["const pg = await import('pg');", ['pg']],
      ["import 'side-effect';", ['side-effect']],
    ];
    for (const [source, expected] of cases) assert.deepEqual(importedPackages(source), expected, source);
  });

  it('every package the gateway imports is a run-time dependency', () => {
    const missing = new Set<string>();
    for (const file of [...runtimeFiles(path.join(ROOT, 'bin')), ...runtimeFiles(path.join(ROOT, 'src'))]) {
      for (const name of importedPackages(fs.readFileSync(file, 'utf8'))) {
        if (!(name in manifest.dependencies)) missing.add(`${name} (${path.relative(ROOT, file)})`);
      }
    }
    assert.deepEqual([...missing], []);
  });

  it('no type-only package among the run-time dependencies', () => {
    assert.deepEqual(Object.keys(manifest.dependencies).filter((name) => name.startsWith('@types/')), []);
  });
});
