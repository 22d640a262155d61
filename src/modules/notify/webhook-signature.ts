/**
 * The timestamped signature headers of a notification (merchant-api.md
 * section 7), in the Standard Webhooks format so that a merchant's existing
 * library verifies them:
 *
 *   webhook-id:        the notification id, the same on every retry
 *   webhook-timestamp: unix seconds of this attempt
 *   webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>
 *                      (one per valid app secret, space-separated, newest first:
 *                      two during a rotation's grace)
 *
 * The key is derived from the app secret, so merchants need no second secret:
 *
 *   key = HMAC-SHA256(key = app secret as UTF-8 bytes,
 *                     message = "pagoda-webhook-signature")        (32 bytes)
 *
 * A Standard Webhooks library takes it as `whsec_` + base64(key)
 * (`standardWebhooksSecret`). Rotating the app secret rotates the key.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The derivation label. Merchants hard-code it: never change it. */
export const WEBHOOK_KEY_LABEL = 'pagoda-webhook-signature';

/** Standard Webhooks' usual tolerance between the timestamp and the receiver's clock. */
export const DEFAULT_TOLERANCE_SEC = 300;

// A type alias, not an interface, so it is assignable to Record<string, string>.
export type WebhookHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

export type WebhookVerdict = { ok: true } | { ok: false; reason: string };

export function webhookKey(appSecret: string): Buffer {
  return createHmac('sha256', Buffer.from(appSecret, 'utf8')).update(WEBHOOK_KEY_LABEL, 'utf8').digest();
}

/** The app's key in the form Standard Webhooks libraries accept. */
export function standardWebhooksSecret(appSecret: string): string {
  return `whsec_${webhookKey(appSecret).toString('base64')}`;
}

function digest(key: Buffer, id: string, timestampSec: number | string, body: string | Buffer): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestampSec}.`, 'utf8').update(body).digest();
}

/** `v1,<base64>` for one key; exported so tests can check it against the published vector. */
export function webhookSignature(key: Buffer, id: string, timestampSec: number, body: string | Buffer): string {
  return `v1,${digest(key, id, timestampSec, body).toString('base64')}`;
}

/**
 * The three headers for one attempt. `body` must be exactly the bytes sent.
 * An id with a dot or whitespace, or a timestamp that is not whole seconds,
 * is a bug in the caller (the spec forbids ambiguous signed content): throws.
 */
export function webhookHeaders(id: string, timestampSec: number, body: string, appSecrets: readonly string[]): WebhookHeaders {
  if (!/^[^\s.]+$/.test(id)) throw new TypeError(`webhook id ${JSON.stringify(id)} must be non-empty, without dots or whitespace`);
  if (!Number.isSafeInteger(timestampSec) || timestampSec < 0) throw new TypeError(`webhook timestamp ${timestampSec} must be whole unix seconds`);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSec),
    'webhook-signature': appSecrets.map((secret) => webhookSignature(webhookKey(secret), id, timestampSec, body)).join(' '),
  };
}

function header(headers: Readonly<Record<string, string | readonly string[] | undefined>>, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== name) continue;
    return typeof v === 'string' ? v : v?.join(' ');
  }
  return undefined;
}

/**
 * What a merchant (or the SDK, or a test) does on receipt: checks the
 * timestamp is within `toleranceSec` of `nowSec` and that one of the
 * space-separated `v1,` signatures matches, in constant time. Verify the raw
 * body bytes, not re-serialised JSON.
 */
export function verifyWebhook(
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
  body: string | Buffer,
  appSecret: string,
  opts: { nowSec?: number; toleranceSec?: number } = {},
): WebhookVerdict {
  const id = header(headers, 'webhook-id');
  const ts = header(headers, 'webhook-timestamp');
  const sigs = header(headers, 'webhook-signature');
  if (!id || !ts || !sigs) return { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature header' };
  if (!/^\d{1,15}$/.test(ts)) return { ok: false, reason: `invalid webhook-timestamp ${JSON.stringify(ts.slice(0, 40))}` };
  const nowSec = opts.nowSec ?? Math.floor(Date.now() / 1000);
  const tolerance = opts.toleranceSec ?? DEFAULT_TOLERANCE_SEC;
  const skew = nowSec - Number(ts);
  if (skew > tolerance) return { ok: false, reason: `webhook-timestamp is ${skew} s old (tolerance ${tolerance} s)` };
  if (-skew > tolerance) return { ok: false, reason: `webhook-timestamp is ${-skew} s in the future (tolerance ${tolerance} s)` };
  const expected = digest(webhookKey(appSecret), id, ts, body);
  let match = false;
  for (const entry of sigs.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
    const given = Buffer.from(entry.slice(comma + 1), 'base64');
    // Keep looping after a match: the time taken does not say which entry matched.
    if (given.length === expected.length && timingSafeEqual(given, expected)) match = true;
  }
  return match ? { ok: true } : { ok: false, reason: 'no v1 signature matches' };
}
