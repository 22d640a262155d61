import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { makeDirectories } from './files.ts';

describe('makeDirectories', () => {
  it('makes a directory and its missing parents with the mode asked, and accepts one that exists', (t) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pagoda-dirs-'));
    t.after(() => fs.rmSync(root, { recursive: true, force: true }));
    const deep = path.join(root, 'a', 'b', 'c');
    makeDirectories(deep, 0o700);
    for (const dir of [path.join(root, 'a'), path.join(root, 'a', 'b'), deep]) assert.equal(fs.statSync(dir).mode & 0o777, 0o700, dir);
    makeDirectories(deep);
    makeDirectories(`${deep}/`);
    assert.deepEqual(fs.readdirSync(path.join(root, 'a', 'b')), ['c']);
  });

  it('fails on a file in the way', (t) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pagoda-dirs-'));
    t.after(() => fs.rmSync(root, { recursive: true, force: true }));
    fs.writeFileSync(path.join(root, 'file'), '');
    assert.throws(() => makeDirectories(path.join(root, 'file', 'x')), { code: 'ENOTDIR' });
  });

  // Node's recursive mkdir spins there for ever (100% of a core), so the call runs in a child with a time limit.
  it('fails at once where mkdir answers ENOENT under a parent that exists (/proc)', { skip: !fs.existsSync('/proc/self') && 'no /proc' }, () => {
    const script = `import { makeDirectories } from ${JSON.stringify(new URL('./files.ts', import.meta.url).href)};
      try { makeDirectories('/proc/pagoda-test/data'); console.log('made'); } catch (err) { console.log(err.code); }`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(child.signal, null, 'still running after 20 s');
    assert.equal(child.stdout.trim(), 'ENOENT', child.stderr);
  });
});
