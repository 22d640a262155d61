import { randomBytes, randomFillSync } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Random bytes drawn a pool at a time: one call into the CSPRNG per 64 draws. */
const pool = Buffer.alloc(16 * 64);
let poolOffset = pool.length;

function random16(): Buffer {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  poolOffset += 16;
  return pool.subarray(poolOffset - 16, poolOffset);
}

let lastTime = -1;
let lastTimeText = '';
const lastRandom = new Uint8Array(16);

/** The random part, incremented instead of redrawn within one millisecond, so ids stay ordered. */
function nextRandomPart(time: number): void {
  if (time === lastTime) {
    for (let i = lastRandom.length - 1; i >= 0; i--) {
      lastRandom[i] = (lastRandom[i]! + 1) % 32;
      if (lastRandom[i] !== 0) break;
    }
    return;
  }
  const bytes = random16();
  // The top digit starts low, leaving room to increment within the millisecond.
  for (let i = 0; i < lastRandom.length; i++) lastRandom[i] = i === 0 ? bytes[i]! % 16 : bytes[i]! % 32;
  lastTime = time;
  lastTimeText = timeText(time);
}

/** 48-bit millisecond time as 10 Crockford digits. */
function timeText(time: number): string {
  let out = '';
  let t = time;
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[t % 32]! + out;
    t = Math.floor(t / 32);
  }
  return out;
}

/**
 * A time-ordered unique id (48-bit millisecond time + 80 random bits, Crockford
 * base32, 26 chars), so ids sort by creation and index well; within one
 * millisecond of one process they still sort in the order they were made.
 */
export function newId(prefix = '', now = Date.now()): string {
  nextRandomPart(now);
  let out = prefix + lastTimeText;
  for (const digit of lastRandom) out += CROCKFORD[digit]!;
  return out;
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

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The id of a request: the caller's `X-Request-Id` when it is sane (1–128 of A-Za-z0-9._:-), else a new one. */
export function requestIdFor(incoming: string | string[] | undefined): string {
  return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : newRequestId();
}
