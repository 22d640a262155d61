import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

let lastTime = -1;
let lastRandom: number[] = [];

/** The random part, incremented instead of redrawn within one millisecond, so ids stay ordered. */
function randomPart(time: number): number[] {
  if (time === lastTime) {
    const next = [...lastRandom];
    for (let i = next.length - 1; i >= 0; i--) {
      next[i] = (next[i]! + 1) % 32;
      if (next[i] !== 0) break;
    }
    lastRandom = next;
    return next;
  }
  const bytes = randomBytes(16);
  lastTime = time;
  // The top digit starts low, leaving room to increment within the millisecond.
  lastRandom = [...bytes].map((b, i) => (i === 0 ? b % 16 : b % 32));
  return lastRandom;
}

/**
 * A time-ordered unique id (48-bit millisecond time + 80 random bits, Crockford
 * base32, 26 chars), so ids sort by creation and index well; within one
 * millisecond of one process they still sort in the order they were made.
 */
export function newId(prefix = '', now = Date.now()): string {
  let out = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[t % 32]! + out;
    t = Math.floor(t / 32);
  }
  for (const digit of randomPart(now)) out += CROCKFORD[digit]!;
  return prefix + out;
}

/** 32 lowercase hex chars: the shape of appId and appSecret. */
export function randomHex32(): string {
  return randomBytes(16).toString('hex');
}

const processTag = randomBytes(5).toString('hex');
let requestCounter = 0;

/**
 * A request id: unique per process start (40 random bits) plus a counter.
 * Cheaper than newId (no clock, no randomness per call); only logs and the
 * x-request-id header carry it, so it need not sort by time.
 */
export function newRequestId(): string {
  requestCounter = (requestCounter + 1) % Number.MAX_SAFE_INTEGER;
  return `req_${processTag}${requestCounter.toString(36)}`;
}
