import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { loadTls, namesHost } from './tls.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagoda-tls-'));
  dirs.push(dir);
  return dir;
};
after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

const load = (dataDir: string, publicUrl: string) => loadTls({ certFile: undefined, keyFile: undefined, dataDir, publicUrl });

test('the generated certificate names loopback and the public host, and no other', async () => {
  const first = await load(tempDir(), 'https://pay.example.test:8443');
  assert.equal(first.generated, true);
  for (const host of ['localhost', '127.0.0.1', '::1', 'pay.example.test']) assert.ok(namesHost(first.cert, host), host);
  for (const host of ['other.example', '10.0.0.1', 'example.test']) assert.ok(!namesHost(first.cert, host), host);
  const ip = await load(tempDir(), 'https://[2001:db8::7]:8443');
  assert.ok(namesHost(ip.cert, '2001:db8::7'));
});

test('a later start reuses the pair; a public host it does not name is reported, not silently served', async () => {
  const dataDir = tempDir();
  const first = await load(dataDir, 'https://localhost:8443');
  const again = await load(dataDir, 'https://localhost:8443');
  assert.deepEqual([again.generated, again.cert, again.uncoveredHost], [false, first.cert, undefined]);
  const moved = await load(dataDir, 'https://pay.example.test');
  assert.deepEqual([moved.generated, moved.cert, moved.uncoveredHost], [false, first.cert, 'pay.example.test']);
  const byIp = await load(dataDir, 'https://203.0.113.7');
  assert.equal(byIp.uncoveredHost, '203.0.113.7');
});
