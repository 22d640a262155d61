import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A time-ordered unique id (48-bit millisecond time + 80 random bits, Crockford
 * base32, 26 chars), so ids sort by creation and index well.
 */
export function newId(prefix = '', now = Date.now()): string {
  let out = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[t % 32]! + out;
    t = Math.floor(t / 32);
  }
  const rand = randomBytes(16);
  for (let i = 0; i < 16; i++) out += CROCKFORD[rand[i]! % 32]!;
  return prefix + out;
}

/** 32 lowercase hex chars: the shape of appId and appSecret. */
export function randomHex32(): string {
  return randomBytes(16).toString('hex');
}
