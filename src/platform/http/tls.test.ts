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

test("the operator's own files: a key of another certificate, or files that are not PEM, are refused", async () => {
  const [a, b] = [await load(tempDir(), 'https://a.example'), await load(tempDir(), 'https://b.example')];
  const dir = tempDir();
  const file = (name: string, text: string) => {
    fs.writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };
  const own = (cert: string, key: string) => loadTls({ certFile: cert, keyFile: key, dataDir: dir, publicUrl: 'https://a.example' });
  const served = await own(file('a.pem', a.cert), file('a.key', a.key));
  assert.equal(served.cert, a.cert);
  await assert.rejects(own(file('a2.pem', a.cert), file('b.key', b.key)), /the private key does not belong to the certificate/);
  await assert.rejects(own(file('junk.pem', 'not a certificate'), file('a3.key', a.key)), /not a PEM certificate and private key/);
  await assert.rejects(own(path.join(dir, 'missing.pem'), file('a4.key', a.key)), /ENOENT/);
});
