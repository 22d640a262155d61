import { createHash } from 'node:crypto';
import type { OrderRow } from '../../platform/db/schema.ts';
import { badRequest, conflict } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import { rawNumberText } from '../../platform/json.ts';
import { currencyInfo, parseAmount } from '../../platform/money.ts';
import { channelExtra, resolveMethod, validateExtra, type MethodDef } from '../channels/catalogue.ts';
import { storedExtra } from '../channels/channel.ts';
import type { Direction } from './order.ts';
import { asciiUpper } from '../../platform/ascii.ts';
import { NOT_ONE_LINE } from '../../platform/text.ts';
import { RETURN_PARAMS } from '../payins/return-url.ts';

/** The fields pay-ins and payouts share, validated and normalised. */
export interface OrderRequest {
  merOrderNo: string;
  currency: string;
  amount: bigint;
  method: MethodDef | null;
  extra: Record<string, string> | null;
  attach: string | null;
  notifyUrl: string;
  returnUrl: string | null;
}

const MER_ORDER_NO = /^[A-Za-z0-9_.:-]{1,64}$/;
const MAX_URL = 2048;
const MAX_ATTACH = 512;
/** Orders carry at most 2 decimals whatever the currency's minor unit (merchant-api.md §3). */
const MAX_DECIMALS = 2;

type Body = Record<string, unknown>;

/** `body[key]` as text, or null when absent or empty; `field` names it in refusals. */
function optionalString(body: Body, key: string, max: number, field = key): string | null {
  const value = body[key];
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw badRequest(`${field}: must be a string`);
  if (value.length > max && codePointCount(value) > max) throw badRequest(`${field}: at most ${max} characters`);
  // A lone surrogate cannot be stored as UTF-8: it would come back as U+FFFD, not as sent.
  if (LONE_SURROGATE.test(value)) throw badRequest(`${field}: must be valid Unicode (it has a lone surrogate)`);
  return value;
}

const LONE_SURROGATE = /\p{Cs}/u;
// extra carries a method's few fields (a beneficiary, a mobile): bounded like every other text.
const MAX_EXTRA_MEMBERS = 50;
const MAX_EXTRA_NAME = 64;

/** Characters as the contract counts them: code points, so an emoji is one, not two UTF-16 units. */
function codePointCount(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

function requiredString(body: Body, field: string, max: number): string {
  const value = optionalString(body, field, max);
  if (value === null) throw badRequest(`${field}: is required`);
  return value;
}

/**
 * An absolute http(s) URL; `javascript:`, `data:`, relative and credentialed URLs are refused.
 * Its length is the caller's to bound (MAX_URL, counted as every text field is).
 */
function parseUrl(field: string, text: string, requireHttps: boolean): string {
  // A backslash anywhere is read as "/" by WHATWG parsers and kept by RFC 3986 ones (http://a.example\@b.example/
  // names a different host to each); format characters (bidi overrides) make the stored text read otherwise.
  // (Zero-width joiners are part of some IDN labels; they stay.)
  if (/[\s<>"\\]/.test(text) || NOT_ONE_LINE.test(text)) throw badRequest(`${field}: contains characters that are not allowed in a URL`);
  // Spelled out as scheme://host: the URL parser would also read `https:host` as
  // https://host/, and the merchant's text is what is stored.
  if (!/^https?:\/\/[^/]/i.test(text)) throw badRequest(`${field}: must be an absolute http or https URL`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badRequest(`${field}: must be an absolute http or https URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw badRequest(`${field}: must be an absolute http or https URL`);
  if (requireHttps && url.protocol !== 'https:') throw badRequest(`${field}: must be an https URL`);
  // An "@" in the authority, even with nothing before it (http://:@host/).
  if (url.username || url.password || /^https?:\/\/[^/?#]*@/i.test(text)) throw badRequest(`${field}: must not carry credentials`);
  if (url.port === '0') throw badRequest(`${field}: port 0 cannot be reached`);
  return text;
}

function parseReturnUrl(field: string, text: string): string {
  const url = parseUrl(field, text, false);
  // In any case: some frameworks read query names without regard to case.
  const taken = [...new URL(url).searchParams.keys()].find((name) => RETURN_PARAMS.has(name.toLowerCase()));
  if (taken !== undefined) throw badRequest(`${field}: its query has "${taken}", a parameter the gateway appends on return; use another name`);
  return url;
}

function parseExtra(body: Body): Record<string, string> | null {
  const extra = body.extra;
  if (extra === undefined || extra === null) return null;
  if (typeof extra !== 'object' || Array.isArray(extra)) throw badRequest('extra: must be an object');
  const out: Record<string, string> = {};
  const keys = Object.keys(extra);
  if (keys.length > MAX_EXTRA_MEMBERS) throw badRequest(`extra: at most ${MAX_EXTRA_MEMBERS} members`);
  for (const key of keys) {
    if (LONE_SURROGATE.test(key)) throw badRequest('extra: a member name must be valid Unicode (it has a lone surrogate)');
    if ([...key].length > MAX_EXTRA_NAME || /\p{Cc}/u.test(key)) {
      throw badRequest(`extra: a member name must be at most ${MAX_EXTRA_NAME} characters, without control characters`);
    }
    // As in the signature rule, an empty member is an absent one: a retry that adds one is the same request.
    const value = optionalString(extra as Body, key, 256, `extra.${key}`);
    // Values reach channels, bank files and the operator's terminal: one line of text each.
    if (value !== null && /\p{Cc}/u.test(value)) throw badRequest(`extra.${key}: must be text without control characters`);
    if (value !== null) out[key] = value;
  }
  return Object.keys(out).length > 0 ? out : null;
}

function parseCurrency(body: Body): string {
  const raw = asciiUpper(requiredString(body, 'currency', 8));
  if (!currencyInfo(raw)) throw badRequest(`currency: ${raw} is not an ISO 4217 currency`);
  return raw;
}

/**
 * Field rules of merchant-api.md §3 for a create request of either direction.
 * `returnUrl` is read as `returnUrl` or `return_url` (merchant libraries send both).
 */
export function parseOrderRequest(body: Body, direction: Direction, opts: { requireHttps: boolean }): OrderRequest {
  const merOrderNo = requiredString(body, 'merOrderNo', 64);
  if (!MER_ORDER_NO.test(merOrderNo)) throw badRequest('merOrderNo: 1 to 64 characters of A-Z a-z 0-9 _ - . :');
  const currency = parseCurrency(body);
  if (body.amount === undefined || body.amount === null) throw badRequest('amount: is required');
  const amount = parseAmount(body.amount, rawNumberText(body, 'amount'), currency, { field: 'amount', maxDecimals: MAX_DECIMALS });
  const methodText = optionalString(body, 'payMethod', 64);
  if (direction === 'payout' && methodText === null) throw badRequest('payMethod: is required');
  const method = methodText === null ? null : resolveMethod(methodText, currency, direction);
  const extra = parseExtra(body);
  if (method) validateExtra(method, direction, extra ?? undefined);
  const attach = optionalString(body, 'attach', MAX_ATTACH);
  const notifyUrl = parseUrl('notifyUrl', requiredString(body, 'notifyUrl', MAX_URL), opts.requireHttps);
  const camelReturn = optionalString(body, 'returnUrl', MAX_URL);
  const returnText = camelReturn ?? optionalString(body, 'return_url', MAX_URL);
  // Errors name the field as the merchant spelled it.
  const returnUrl = direction === 'payin' && returnText !== null ? parseReturnUrl(camelReturn !== null ? 'returnUrl' : 'return_url', returnText) : null;
  return { merOrderNo, currency, amount, method, extra, attach, notifyUrl, returnUrl };
}

/** extra as sorted pairs: the same members in any order are the same request. */
function sortedExtra(extra: Readonly<Record<string, string>> | null): Array<[string, string]> | null {
  return extra ? Object.keys(extra).sort().map((k) => [k, extra[k]!]) : null;
}

/** What makes two creates "the same parameters" for idempotency. */
export function requestHash(req: OrderRequest): string {
  const canonical = JSON.stringify([
    req.merOrderNo,
    req.currency,
    req.amount.toString(),
    req.method?.code ?? null,
    sortedExtra(req.extra),
    req.attach,
    req.notifyUrl,
    req.returnUrl,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** Who creates an order: the authenticated app and the API generation it used. */
export interface Caller {
  merchantId: string;
  appId: string;
  generation: 'v2' | 'v3';
}

/** Stored order fields a retry can be told apart by, as the request names them. */
const RETRY_FIELDS: ReadonlyArray<[string, (order: OrderRow, req: OrderRequest) => boolean]> = [
  ['currency', (o, r) => o.currency === r.currency],
  ['amount', (o, r) => o.amount === r.amount],
  ['notifyUrl', (o, r) => o.notify_url === r.notifyUrl],
  ['returnUrl', (o, r) => o.return_url === r.returnUrl],
  ['attach', (o, r) => o.attach === r.attach],
  // As the channel reads it: a bank code's case or alias, a phone number's spacing, do not make another request.
  ['extra', (o, r) => JSON.stringify(sortedExtra(asChannelReads(r.method, storedExtra(o) ?? null))) === JSON.stringify(sortedExtra(asChannelReads(r.method, r.extra)))],
];

function asChannelReads(method: MethodDef | null, extra: Record<string, string> | null): Record<string, string> | null {
  return method ? channelExtra(method, extra) : extra;
}

/**
 * An existing order answers a retry only if every parameter is the same (else
 * 409, naming what differs; the method is not named, since the consumer may
 * have picked one on the cashier page since). The same parameters written
 * otherwise (`bca` for `BCA`) are the same.
 */
export function sameRequest(existing: OrderRow, hash: string, req: OrderRequest): OrderRow {
  if (existing.request_hash === hash) return existing;
  const differ = RETRY_FIELDS.filter(([, same]) => !same(existing, req)).map(([name]) => name);
  if (differ.length === 0 && existing.method === (req.method?.code ?? null)) return existing;
  const which = differ.length > 0 ? `: ${differ.join(', ')} ${differ.length === 1 ? 'differs' : 'differ'}` : '';
  throw conflict(`merOrderNo ${req.merOrderNo} was already used with other parameters${which}`);
}

/** The row of a new order, CREATED; what differs by direction comes in `more`. */
export function newOrderRow(
  direction: Direction,
  caller: Caller,
  req: OrderRequest,
  hash: string,
  now: number,
  more: { channel: string | null; fee?: bigint; expiresAt: number | null },
): OrderRow {
  return {
    order_no: newId(direction === 'payin' ? 'PI' : 'PO', now),
    direction,
    merchant_id: caller.merchantId,
    app_id: caller.appId,
    generation: caller.generation,
    mer_order_no: req.merOrderNo,
    request_hash: hash,
    currency: req.currency,
    amount: req.amount,
    paid_amount: null,
    fee: more.fee ?? 0n,
    method: req.method?.code ?? null,
    channel: more.channel,
    channel_ref: null,
    status: 'CREATED',
    acknowledged: 0n,
    attach: req.attach,
    notify_url: req.notifyUrl,
    return_url: req.returnUrl,
    extra: req.extra ? JSON.stringify(req.extra) : null,
    params: null,
    message: null,
    expires_at: more.expiresAt === null ? null : BigInt(more.expiresAt),
    checked_at: null,
    created_at: BigInt(now),
    updated_at: BigInt(now),
    version: 0n,
  };
}
