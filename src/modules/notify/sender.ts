/**
 * Sends one notification request and reports what happened as a value.
 *
 * One undici `Agent` per sender: keep-alive sockets, at most
 * `maxConnectionsPerOrigin` per merchant origin (one slow merchant cannot
 * hold every socket), the SSRF guard on the address actually dialled, no
 * redirects, a hard time limit and a 4 KiB cap on what is read back.
 */
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { checkUrlTarget, guardedLookup, parseAllowList } from './ssrf-guard.ts';

/** How much of a response body is kept (and read at all): merchant-api.md section 7. */
export const MAX_RESPONSE_BODY_BYTES = 4096;

/** `local`: the gateway's own shortage (descriptors, memory), not the receiver's doing. */
export type SendErrorClass = 'ssrf' | 'timeout' | 'connect' | 'tls' | 'dns' | 'protocol' | 'local' | 'other';

export type SendResult =
  | { kind: 'response'; status: number; /** ≤ 4096 bytes as UTF-8 */ body: string; /** the body went on past what was read */ truncated: boolean; durationMs: number }
  | { kind: 'error'; errorClass: SendErrorClass; message: string; durationMs: number };

export interface SendRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
}

export interface SenderOptions {
  /** Addresses, CIDRs and hostnames the operator allows despite the SSRF guard. */
  allowHosts: readonly string[];
  /** Whole attempt, connecting to the last byte read; also the connect, headers and body timeouts. */
  timeoutMs: number;
  /** Sockets per origin (scheme, host, port); default 8. */
  maxConnectionsPerOrigin?: number;
}

export interface Sender {
  send(req: SendRequest): Promise<SendResult>;
  /** Waits for requests in flight, then closes every socket. */
  close(): Promise<void>;
}

/** Headers of every notification (the worker records them with its attempts). */
export const DEFAULT_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json; charset=utf-8',
  'user-agent': 'Pagoda-Notify/1',
};

export function createSender(opts: SenderOptions): Sender {
  const allow = parseAllowList(opts.allowHosts);
  const { timeoutMs } = opts;
  // undici 7 never follows redirects on its own: that takes the redirect
  // interceptor, which this agent does not compose (and request() refuses a
  // non-zero maxRedirections). A 3xx comes back as a response.
  const agent = new Agent({
    connections: opts.maxConnectionsPerOrigin ?? 8,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect: { lookup: guardedLookup(allow), timeout: timeoutMs },
  });
  let closing: Promise<void> | undefined;

  async function send(req: SendRequest): Promise<SendResult> {
    const started = performance.now();
    const elapsed = (): number => Math.round(performance.now() - started);
    const fail = (errorClass: SendErrorClass, message: string): SendResult => ({ kind: 'error', errorClass, message, durationMs: elapsed() });

    if (closing) return fail('other', 'the sender is closed');
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return fail('other', `invalid URL ${JSON.stringify(req.url.slice(0, 200))}`);
    }
    const target = checkUrlTarget(url, allow);
    if (!target.ok) return fail('ssrf', target.reason);

    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const res = await request(url, {
        dispatcher: agent,
        method: 'POST',
        headers: withDefaults(req.headers),
        body: req.body,
        signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const { body, truncated } = await readCapped(res.body, MAX_RESPONSE_BODY_BYTES);
      return { kind: 'response', status: res.statusCode, body, truncated, durationMs: elapsed() };
    } catch (err) {
      const { errorClass, message } = classifySendError(err, { timedOut: signal.aborted, timeoutMs, hostname: url.hostname });
      return fail(errorClass, message);
    }
  }

  return {
    send,
    close() {
      closing ??= agent.close().catch(() => undefined);
      return closing;
    },
  };
}

function withDefaults(headers: Record<string, string>): Record<string, string> {
  const given = new Set(Object.keys(headers).map((k) => k.toLowerCase()));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(DEFAULT_HEADERS)) if (!given.has(k)) out[k] = v;
  return Object.assign(out, headers);
}

/**
 * Reads at most `max` bytes (plus one chunk) and drops the rest: destroying
 * the body closes that one socket instead of downloading a large body to
 * keep it alive. A body read to its end leaves the socket in the pool (an
 * async iterator would not: it destroys the stream before undici sees the
 * end, which aborts the request and costs the socket).
 */
function readCapped(body: Readable, max: number): Promise<{ body: string; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve({ body: utf8Prefix(Buffer.concat(chunks, size), max), truncated: size > max });
    };
    body.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > max) {
        finish();
        body.destroy();
      }
    });
    body.on('end', () => finish());
    body.on('error', (err) => finish(err));
    body.on('close', () => finish(new Error('the response body closed before its end')));
  });
}

/**
 * The longest prefix of at most `max` bytes that does not split a UTF-8
 * sequence, decoded. Invalid bytes decode to U+FFFD (3 bytes each), and so does
 * a NUL, which no PostgreSQL text can hold (a body with one could not be
 * recorded, and would go out again at every lease); the result is trimmed again
 * by code point if it grew past `max`.
 */
export function utf8Prefix(buf: Buffer, max: number): string {
  let end = Math.min(buf.length, max);
  if (end < buf.length) {
    let back = end;
    while (back > 0 && back > end - 4 && (buf[back]! & 0xc0) === 0x80) back--;
    if ((buf[back]! & 0xc0) !== 0x80) end = back;
  }
  const text = buf.subarray(0, end).toString('utf8').replaceAll('\0', '\uFFFD');
  let bytes = Buffer.byteLength(text);
  if (bytes <= max) return text;
  const points = Array.from(text);
  while (bytes > max) bytes -= Buffer.byteLength(points.pop()!);
  return points.join('');
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME', 'ENODATA', 'ESERVFAIL', 'ENOTIMP', 'EREFUSED']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);
/** What this process ran out of, by the code the system reports it with. */
const LOCAL_SHORTAGES: Readonly<Record<string, string>> = {
  EMFILE: 'file descriptors',
  ENFILE: 'file descriptors (the whole system)',
  ENOBUFS: 'socket buffers',
  ENOMEM: 'memory',
};

const CONNECT_MESSAGES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the receiver',
  EPIPE: 'connection closed by the receiver while sending',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EHOSTDOWN: 'host down',
  ENETDOWN: 'network down',
  EADDRNOTAVAIL: 'address not available',
  ECONNABORTED: 'connection aborted',
  UND_ERR_SOCKET: 'connection closed by the receiver before a complete response',
};
// OpenSSL's certificate verification codes, as Node reports them.
const CERT_CODES =
  /^(?:DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(?:_LOCALLY)?|CERT_[A-Z_]+|HOSTNAME_MISMATCH|INVALID_CA|INVALID_PURPOSE|PATH_LENGTH_EXCEEDED)$/;

interface ErrorFacts {
  code: string;
  name: string;
  message: string;
}

/** The error and its `cause` chain, outermost first. */
function chain(err: unknown): ErrorFacts[] {
  const out: ErrorFacts[] = [];
  let cur: unknown = err;
  for (let depth = 0; depth < 5 && cur !== null && cur !== undefined; depth++) {
    const e = cur as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
    out.push({
      code: typeof e.code === 'string' ? e.code : '',
      name: typeof e.name === 'string' ? e.name : '',
      message: typeof e.message === 'string' ? e.message : String(cur),
    });
    cur = e.cause;
  }
  return out;
}

/**
 * Maps whatever undici, Node or the guard threw to an error class and a
 * reason fit for an operator (ack.ts shows it unchanged). Exported for tests.
 */
export function classifySendError(
  err: unknown,
  ctx: { timedOut: boolean; timeoutMs: number; hostname: string },
): { errorClass: SendErrorClass; message: string } {
  const facts = chain(err);
  const has = (pred: (f: ErrorFacts) => boolean): ErrorFacts | undefined => facts.find(pred);
  const ssrf = has((f) => f.code === 'ESSRF');
  if (ssrf) return { errorClass: 'ssrf', message: ssrf.message };
  if (ctx.timedOut || has((f) => TIMEOUT_CODES.has(f.code) || f.name === 'TimeoutError')) {
    return { errorClass: 'timeout', message: `timeout after ${ctx.timeoutMs} ms` };
  }
  const dns = has((f) => DNS_CODES.has(f.code));
  if (dns) {
    const why = dns.code === 'ENOTFOUND' || dns.code === 'EAI_NONAME' || dns.code === 'ENODATA' ? 'not found' : `failed (${dns.code})`;
    return { errorClass: 'dns', message: `dns lookup of ${ctx.hostname} ${why}` };
  }
  const tls = has((f) => CERT_CODES.test(f.code) || /^ERR_(?:TLS|SSL)_/.test(f.code) || (f.code === 'EPROTO' && /ssl|tls/i.test(f.message)));
  if (tls) return { errorClass: 'tls', message: `tls: ${tls.message}` };
  // undici also ends the socket itself on an answer it cannot use (an unsolicited `100 Continue`, say).
  const unusable = has((f) => f.code === 'UND_ERR_SOCKET' && f.message === 'bad response');
  if (unusable) return { errorClass: 'protocol', message: 'invalid HTTP response: the sender could not use the answer (an interim 1xx answer, or malformed)' };
  const local = has((f) => Object.hasOwn(LOCAL_SHORTAGES, f.code));
  if (local) return { errorClass: 'local', message: `the gateway ran out of ${LOCAL_SHORTAGES[local.code]!} (${local.code}); not counted as an attempt` };
  const connect = has((f) => f.code in CONNECT_MESSAGES);
  if (connect) return { errorClass: 'connect', message: CONNECT_MESSAGES[connect.code]! };
  const protocol = has((f) => f.code.startsWith('HPE_') || f.name === 'HTTPParserError' || f.code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH');
  if (protocol) return { errorClass: 'protocol', message: `invalid HTTP response: ${protocol.message}` };
  if (has((f) => f.code === 'UND_ERR_DESTROYED' || f.code === 'UND_ERR_CLOSED')) return { errorClass: 'other', message: 'the sender is closed' };
  const first = facts[0];
  return { errorClass: 'other', message: first ? `${first.code || first.name}: ${first.message}` : 'unknown error' };
}
