/**
 * A disk that fills while the gateway writes its data directory's files (the
 * master key, the TLS pair, the demo credentials) leaves no empty or partial
 * file behind: once space is back, the next start works. On a small tmpfs, so
 * only where this process may mount one (root on Linux, as in CI).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createFileOnce, replaceFile } from '../src/platform/files.ts';
import { spawnPagoda } from './helpers/process.ts';
import { mountTmpfs } from './helpers/tmpfs.ts';

const T = { timeout: 120_000 };

/** Fills the file system of `dir` to the last byte with one file. */
function fill(dir: string): string {
  const filler = path.join(dir, 'filler');
  const fd = fs.openSync(filler, 'w');
  const chunk = Buffer.alloc(4096);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    fs.closeSync(fd);
  }
  return filler;
}

const tmpfs = mountTmpfs('4m');
const mnt = tmpfs?.dir ?? '';

describe('a full disk', { skip: !tmpfs && 'cannot mount a tmpfs here (needs root)' }, () => {
  after(() => tmpfs?.unmount());

  describe('files of the data directory', () => {
    let filler: string;
    before(() => {
      fs.writeFileSync(path.join(mnt, 'kept'), 'old');
      filler = fill(mnt);
    });
    after(() => fs.rmSync(filler, { force: true }));

    it('a file that cannot be written whole is not there at all, and one being replaced keeps its old content', () => {
      const content = 'x'.repeat(64 * 1024);
      assert.throws(() => createFileOnce(path.join(mnt, 'master.key'), content, 0o600), { code: 'ENOSPC' });
      assert.throws(() => replaceFile(path.join(mnt, 'kept'), content, 0o600), { code: 'ENOSPC' });
      assert.deepEqual(fs.readdirSync(mnt).sort(), ['filler', 'kept'], 'no partial file, no temporary file');
      assert.equal(fs.readFileSync(path.join(mnt, 'kept'), 'utf8'), 'old');
    });
  });

  it('created once: a second writer keeps the first one\'s file and leaves nothing of its own', () => {
    const file = path.join(mnt, 'once');
    assert.equal(createFileOnce(file, 'first', 0o600), true);
    assert.equal(createFileOnce(file, 'second', 0o600), false);
    assert.equal(fs.readFileSync(file, 'utf8'), 'first');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(fs.readdirSync(mnt).filter((name) => name.includes('once')), ['once']);
  });

  it('a backup onto a full disk fails as the system\'s refusal (exit 1) and leaves nothing there', T, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagoda-full-src-'));
    try {
      const env = { PAGODA_DATA_DIR: dataDir, PAGODA_LOG_LEVEL: 'warn' };
      const made = spawnPagoda(['merchant', 'create', '--name', 'Full Co', '--currencies', 'MXN'], env);
      assert.equal((await made.exitWithin(60_000)).code, 0, made.stderr());
      const filler = fill(mnt);
      const listed = fs.readdirSync(mnt).sort();
      try {
        const backup = spawnPagoda(['backup', '--to', path.join(mnt, 'copy')], env);
        assert.equal((await backup.exitWithin(60_000)).code, 1, backup.stderr());
        assert.match(backup.stderr(), /^pagoda: no space left writing \S+\/pagoda\.db \(ENOSPC\)$/m);
        assert.deepEqual(fs.readdirSync(mnt).sort(), listed, 'no backup directory, whole or partial');
      } finally {
        fs.rmSync(filler);
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a first start on a full disk fails, and the next one, with space back, serves', T, async () => {
    const dataDir = path.join(mnt, 'data');
    fs.mkdirSync(dataDir);
    const filler = fill(mnt);
    const env = { PAGODA_DATA_DIR: dataDir, PAGODA_HOST: '127.0.0.1', PAGODA_PORT: '0', PAGODA_LOG_LEVEL: 'warn' };
    const full = spawnPagoda(['serve'], env);
    const { code } = await full.exitWithin(60_000);
    assert.notEqual(code, 0, `a start on a full disk cannot succeed: ${full.stderr()}`);
    assert.match(full.stderr(), /ENOSPC|SQLITE_FULL/);
    assert.deepEqual(fs.readdirSync(dataDir).filter((name) => fs.statSync(path.join(dataDir, name)).size === 0), [], 'no empty file left');
    fs.rmSync(filler);
    const next = spawnPagoda(['serve'], env);
    try {
      await next.waitFor(/Pagoda is listening/, 60_000);
    } finally {
      await next.kill();
    }
  });
});
