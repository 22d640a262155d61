import { createHash } from 'node:crypto';

/**
 * Deterministic digits from a seed (an order number), so a retried create gets
 * the same CLABE, VA number or QR as the first attempt. `label` separates the
 * uses of one seed (the CLABE digits must not equal the VA digits).
 */
export function seedDigits(seed: string, label: string, count: number): string {
  const key = `${label}\u0000${seed}\u0000${count}`;
  let out = recentDigits.get(key);
  if (out === undefined) {
    out = drawDigits(seed, label, count);
    // Merchant-seeded digits repeat on every order of the merchant; order-seeded ones rarely.
    if (recentDigits.size >= RECENT_DIGITS) recentDigits.clear();
    recentDigits.set(key, out);
  }
  return out;
}

const RECENT_DIGITS = 1024;
const recentDigits = new Map<string, string>();

function drawDigits(seed: string, label: string, count: number): string {
  let out = '';
  for (let block = 0; out.length < count; block++) {
    const bytes = createHash('sha256').update(`${label}\u0000${seed}\u0000${block}`).digest();
    for (const b of bytes) {
      // Bytes ≥ 250 are skipped so every digit is equally likely.
      if (b < 250 && out.length < count) out += String(b % 10);
    }
  }
  return out;
}

/** Lowercase hex from the seed, for identifiers that allow hex (UUID-shaped keys). */
export function seedHex(seed: string, label: string, count: number): string {
  let out = '';
  for (let block = 0; out.length < count; block++) {
    out += createHash('sha256').update(`${label}\u0000${seed}\u0000${block}`).digest('hex');
  }
  return out.slice(0, count);
}
