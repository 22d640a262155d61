import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * Encrypts secrets at rest (app secrets, token signing keys) with AES-256-GCM
 * under the master key. The row's identity is bound as associated data, so a
 * ciphertext copied onto another row does not decrypt.
 */
export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('master key must be 32 bytes');
    this.#key = key;
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `v1:${iv.toString('base64')}:${body.toString('base64')}`;
  }

  /** A key for one purpose (e.g. a channel's callback signatures), derived from the master key. */
  derive(purpose: string): Buffer {
    return createHmac('sha256', this.#key).update(`pagoda:${purpose}`).digest();
  }

  open(sealed: string, context: string): string {
    const [version, ivText, bodyText] = sealed.split(':');
    if (version !== 'v1' || !ivText || !bodyText) throw new Error('sealed secret has an unknown format');
    const body = Buffer.from(bodyText, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(ivText, 'base64'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(body.subarray(body.length - 16));
    return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8');
  }
}

export function parseMasterKey(text: string): Buffer {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  const decoded = Buffer.from(trimmed, 'base64');
  if (decoded.length === 32) return decoded;
  throw new Error('PAGODA_MASTER_KEY must be 32 bytes as 64 hex chars or base64');
}
