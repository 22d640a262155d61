import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Checked against when the app a caller names is unknown or disabled, so that
 * this failure takes the time of a wrong secret and does not tell which app ids exist.
 */
export const DECOY_SECRET = '00000000000000000000000000000000';

/** Compares two strings in time independent of where they differ (or of their lengths). */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}
