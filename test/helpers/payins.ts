/**
 * Shared helpers of the pay-in integration tests. Everything that checks the
 * gateway's output (sign rule, CLABE check digit, EMV CRC) is written here from
 * the spec, independently of the gateway's own modules.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { TestGateway } from './gateway.ts';

/** Code-point order of two strings (not UTF-16 unit order). */
function byCodePoint(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0)!);
  const y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/**
 * The string the v2 rule signs (merchant-api.md §2), without `&key=`. Nested
 * objects render as their own members; `keepEmptyNested` keeps `k=` for empty
 * nested strings (the variant some merchant libraries sign).
 */
export function referenceCanonical(params: Record<string, unknown>, keepEmptyNested = false, top = true): string {
  return Object.keys(params)
    .filter((k) => !(top && k === 'sign'))
    .filter((k) => {
      const v = params[k];
      if (v === null || v === undefined) return false;
      if (v === '') return !top && keepEmptyNested;
      return true;
    })
    .sort(byCodePoint)
    .map((k) => {
      const v = params[k];
      if (typeof v === 'object') return `${k}=${referenceCanonical(v as Record<string, unknown>, keepEmptyNested, false)}`;
      return `${k}=${String(v)}`;
    })
    .join('&');
}

export function referenceSign(params: Record<string, unknown>, secret: string, keepEmptyNested = false): string {
  return createHash('sha256').update(`${referenceCanonical(params, keepEmptyNested)}&key=${secret}`, 'utf8').digest('hex');
}

/** Banxico rule: weights 3,7,1 repeated over 17 digits, products mod 10, check = (10 − sum mod 10) mod 10. */
export function isValidClabe(clabe: string): boolean {
  if (!/^\d{18}$/.test(clabe)) return false;
  const weights = [3, 7, 1];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (Number(clabe[i]) * weights[i % 3]!) % 10;
  return String((10 - (sum % 10)) % 10) === clabe[17];
}

/** CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no xor-out; 4 uppercase hex digits. */
export function crc16ccitt(text: string): string {
  let crc = 0xffff;
  for (const byte of Buffer.from(text, 'utf8')) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc.toString(16).toUpperCase().padStart(4, '0');
}

/** Splits an EMV merchant-presented QR payload into its top-level [id, value] fields; throws when malformed. */
export function emvFields(payload: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < payload.length) {
    const id = payload.slice(i, i + 2);
    const len = Number(payload.slice(i + 2, i + 4));
    if (!/^\d{2}$/.test(id) || !/^\d{2}$/.test(payload.slice(i + 2, i + 4))) throw new Error(`bad EMV field at ${i}`);
    out.set(id, payload.slice(i + 4, i + 4 + len));
    i += 4 + len;
  }
  if (i !== payload.length) throw new Error('EMV payload overruns');
  return out;
}

/** True when the payload ends with field 63 holding the CRC of everything before it (including "6304"). */
export function hasValidEmvCrc(payload: string): boolean {
  const m = /^(.*6304)([0-9A-F]{4})$/s.exec(payload);
  return m !== null && crc16ccitt(m[1]!) === m[2];
}

export const newRef = (prefix = 'm') => `${prefix}-${randomBytes(6).toString('hex')}`;

/** The `orders` rows of a merchant (or all). */
export async function countOrders(gw: TestGateway, merchantId?: string): Promise<number> {
  let q = gw.core.db.selectFrom('orders').select('order_no');
  if (merchantId) q = q.where('merchant_id', '=', merchantId);
  return (await q.execute()).length;
}

/**
 * An order's history rows in the order they happened, rebuilt from the
 * from_status → to_status chain (events of one millisecond share created_at, and
 * their ids are not monotonic within it). Throws when the rows are not one chain.
 */
export async function orderEvents(gw: TestGateway, orderNo: string) {
  const rows = await gw.core.db.selectFrom('order_events').selectAll().where('order_no', '=', orderNo).execute();
  const out: typeof rows = [];
  let from: string | null = null;
  const left = [...rows];
  while (left.length > 0) {
    const i = left.findIndex((e) => e.from_status === from);
    if (i < 0) throw new Error(`history of ${orderNo} is not a chain: ${JSON.stringify(rows.map((e) => [e.from_status, e.to_status]))}`);
    const [e] = left.splice(i, 1);
    out.push(e!);
    from = e!.to_status;
  }
  return out;
}

export async function notifications(gw: TestGateway, orderNo: string) {
  return gw.core.db.selectFrom('notifications').selectAll().where('order_no', '=', orderNo).orderBy('created_at').orderBy('id').execute();
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A valid v3 create body; `over` replaces or (with undefined) removes members. */
export function payinBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  const body: Record<string, unknown> = {
    merOrderNo: newRef(),
    currency: 'MXN',
    amount: 1250.5,
    payMethod: 'MX_SPEI',
    notifyUrl: 'https://merchant.example/notify',
    ...over,
  };
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  return body;
}

/** POST /api/v3/payment/create with a JSON body (object) or the exact text given. */
export function createV3(gw: TestGateway, token: string, body: Record<string, unknown> | string) {
  return gw.call('POST', '/api/v3/payment/create', { body: typeof body === 'string' ? body : JSON.stringify(body), headers: bearer(token) });
}

/** The documented v3 order fields; `message` only for FAILED/EXCEPTION, `attach`/`payMethod` when set. */
export const V3_FIELDS = ['orderNo', 'merOrderNo', 'status', 'amount', 'paidAmount', 'tradeCharge', 'currency', 'payMethod', 'attach', 'params', 'createTime', 'updateTime'];
export const PARAM_KINDS = new Set(['url', 'paymentLink', 'clabe', 'qrCode', 'content', 'deeplink', 'vaNumber', 'expireTime']);

/** A v3 MXN SPEI pay-in made PAID through the API and the sandbox: its notification is due. Its orderNo. */
export async function paidPayin(gw: TestGateway, app: { appId: string; appSecret: string }, notifyUrl: string, extra: Record<string, unknown> = {}): Promise<string> {
  const auth = bearer(await gw.token(app));
  const created = await gw.call('POST', '/api/v3/payment/create', {
    body: JSON.stringify({ merOrderNo: newRef('n'), currency: 'MXN', amount: 1250.5, payMethod: 'spei', notifyUrl, ...extra }),
    headers: auth,
  });
  if (created.status !== 200) throw new Error(`create answered ${created.status}: ${created.text}`);
  const orderNo = created.json.data.orderNo as string;
  const done = await gw.call('POST', `/sandbox/v1/payins/${orderNo}/complete`, { body: '{"outcome":"PAID"}', headers: auth });
  if (done.status !== 200) throw new Error(`sandbox complete answered ${done.status}: ${done.text}`);
  return orderNo;
}
