import { createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { generate } from 'selfsigned';
import { createFileOnce, makeDirectories, replaceFile } from '../files.ts';

export interface TlsMaterial {
  key: string;
  cert: string;
  /** Where the certificate lives, so clients can be told what to trust. */
  certPath: string;
  generated: boolean;
  /** The public host, when a certificate generated on an earlier start does not name it. */
  uncoveredHost?: string;
}

function publicHost(publicUrl: string): string {
  return new URL(publicUrl).hostname.replace(/^\[|\]$/g, '');
}

/** Whether a PEM certificate names this host (DNS name or IP address) among its subject alternative names. */
export function namesHost(pem: string, host: string): boolean {
  const cert = new X509Certificate(pem);
  return net.isIP(host) ? cert.checkIP(host) !== undefined : cert.checkHost(host, { subject: 'never' }) !== undefined;
}

/** The names a generated certificate covers: loopback plus the public host. */
export function certificateNames(publicUrl: string): string[] {
  const names = ['localhost', '127.0.0.1', '::1'];
  const host = publicHost(publicUrl);
  if (!names.includes(host)) names.push(host);
  return names;
}

async function generateSelfSigned(names: string[]): Promise<{ key: string; cert: string }> {
  const now = Date.now();
  const altNames = names.map((name) => (net.isIP(name) ? { type: 7 as const, ip: name } : { type: 2 as const, value: name }));
  const result = await generate([{ name: 'commonName', value: names[0] === 'localhost' && names.length > 3 ? names[3]! : 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 60_000),
    // 825 days: the longest validity clients still accept for a leaf.
    notAfterDate: new Date(now + 825 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  return { key: result.private, cert: result.cert };
}

/**
 * The configured certificate, or a self-signed one generated into
 * `<dataDir>/tls/` on first start and reused afterwards.
 */
export async function loadTls(opts: {
  certFile: string | undefined;
  keyFile: string | undefined;
  dataDir: string;
  publicUrl: string;
}): Promise<TlsMaterial> {
  // Both or neither: loadConfig refuses one alone.
  if (opts.certFile && opts.keyFile) {
    const cert = fs.readFileSync(opts.certFile, 'utf8');
    const key = fs.readFileSync(opts.keyFile, 'utf8');
    let matches: boolean;
    try {
      matches = new X509Certificate(cert).checkPrivateKey(createPrivateKey(key));
    } catch (err) {
      throw new Error(`not a PEM certificate and private key (${(err as Error).message})`);
    }
    if (!matches) throw new Error('the private key does not belong to the certificate');
    return { cert, key, certPath: opts.certFile, generated: false };
  }
  const dir = path.join(opts.dataDir, 'tls');
  const certPath = path.join(dir, 'cert.pem');
  const keyPath = path.join(dir, 'key.pem');
  if (fs.existsSync(certPath) && fs.existsSync(keyPath)) {
    const cert = fs.readFileSync(certPath, 'utf8');
    // Not regenerated here (concurrent starts would race on the pair); the operator is told.
    const host = publicHost(opts.publicUrl);
    const uncovered = namesHost(cert, host) ? {} : { uncoveredHost: host };
    return { cert, key: fs.readFileSync(keyPath, 'utf8'), certPath, generated: false, ...uncovered };
  }
  const { key, cert } = await generateSelfSigned(certificateNames(opts.publicUrl));
  makeDirectories(dir, 0o700);
  // The key first and exclusively: a concurrent first start keeps the winner's pair.
  if (!createFileOnce(keyPath, key, 0o600)) {
    await waitForFile(certPath);
    return { cert: fs.readFileSync(certPath, 'utf8'), key: fs.readFileSync(keyPath, 'utf8'), certPath, generated: false };
  }
  try {
    replaceFile(certPath, cert, 0o644);
  } catch (err) {
    // No key without its certificate, which the next start would wait for in vain.
    fs.rmSync(keyPath, { force: true });
    throw err;
  }
  return { key, cert, certPath, generated: true };
}

async function waitForFile(file: string): Promise<void> {
  for (let i = 0; i < 100 && !fs.existsSync(file); i++) await new Promise((r) => setTimeout(r, 50));
}
