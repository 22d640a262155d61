import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
  type FastifyRequest,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { IncomingHttpHeaders } from 'node:http';
import type { SecureVersion } from 'node:tls';
import { AppError } from '../errors.ts';
import { requestIdFor } from '../ids.ts';
import { parseJsonBody } from '../json.ts';
import type { AuthThrottle } from './auth-throttle.ts';
import { answerClientError } from './client-error.ts';
import { sendError } from './envelope.ts';
import { trackConnections } from './connections.ts';
import { trackHandlers } from './in-flight.ts';
import { requestLoggerFactory } from './request-logger.ts';

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export const BODY_LIMIT = 64 * 1024;

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: Buffer;
  }
}

/** Paths whose values must never reach a log line. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'app_secret',
  'appSecret',
  '*.app_secret',
  '*.appSecret',
  '*.token',
  '*.secret',
  'secret',
  'token',
];

export interface ServerOptions {
  tls?: { key: string; cert: string; minVersion: SecureVersion };
  behindProxy: boolean;
  trustedProxies: readonly string[];
  logLevel: string;
  /** How long a client may take to send a whole request; a slower one (a body trickling in) gets 408. */
  requestTimeoutMs: number;
  /** For tests: a stream receiving the JSON log lines. */
  logStream?: NodeJS.WritableStream;
  /** Failed authentications per client address; past its limit the address's API calls answer 429. */
  authThrottle?: AuthThrottle;
  /** True while the process drains: new requests answer 503. */
  isDraining: () => boolean;
}

/**
 * Whether every percent-escape of the query decodes to UTF-8. The query parser
 * would keep `%FF` as literal text, and a v2 signature would then be checked
 * over something the merchant never meant.
 */
function isDecodableQuery(url: string, question: number): boolean {
  if (url.indexOf('%', question) === -1) return true;
  try {
    decodeURIComponent(url.slice(question + 1));
    return true;
  } catch {
    return false;
  }
}

// Query values that are credentials: a v2 GET's sign (replayable: v2 has no nonce), a cashier link's key.
const SECRET_QUERY = /([?&](?:sign|k|app_secret|appSecret|access_token|token)=)[^&#]*/gi;

/** A request as its log line shows it (Fastify's fields), with credentials in the query string redacted. */
function requestForLog(req: FastifyRequest): Record<string, unknown> {
  return { method: req.method, url: req.url.replace(SECRET_QUERY, '$1[redacted]'), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort };
}

function loggerOptions(opts: ServerOptions): FastifyServerOptions['logger'] {
  const base = { level: opts.logLevel, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, serializers: { req: requestForLog } };
  return opts.logStream ? { ...base, stream: opts.logStream } : base;
}

/**
 * Node's own limits on a slow client, given when its server is made: the whole
 * request within `requestTimeoutMs` (Node enforces it only while the headers'
 * limit is not longer), looked for often enough (Node's default is every 30 s).
 */
function nodeTimeouts(requestTimeoutMs: number) {
  return {
    requestTimeout: requestTimeoutMs,
    headersTimeout: Math.min(60_000, requestTimeoutMs),
    // Node would answer a missing Host with a bare 400; the gateway answers it in the envelope, with a request id.
    requireHostHeader: false,
    connectionsCheckingInterval: Math.min(5_000, Math.max(250, Math.floor(requestTimeoutMs / 4))),
  };
}

const ROUTE_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** A body sent compressed is refused as such (415), not parsed as if it were plain and found broken. */
function codedBody(headers: IncomingHttpHeaders): AppError | null {
  const coding = headers['content-encoding']?.trim().toLowerCase() ?? '';
  if (coding !== '' && coding !== 'identity') {
    return new AppError('UNSUPPORTED_MEDIA_TYPE', `Content-Encoding ${headers['content-encoding']!.trim().slice(0, 32)} is not supported; send the body uncompressed`);
  }
  // Node's parser undoes only the chunked framing: a body sent as "gzip, chunked" would be read still compressed.
  const transfer = headers['transfer-encoding'];
  if (transfer !== undefined && transfer.split(',').some((c) => c.trim().toLowerCase() !== 'chunked')) {
    return new AppError('UNSUPPORTED_MEDIA_TYPE', `Transfer-Encoding ${transfer.trim().slice(0, 32)} is not supported; send the body chunked or with a Content-Length`);
  }
  return null;
}

/**
 * The bare HTTP(S) server: TLS, request ids, strict JSON bodies, the envelope for
 * every error, proxy and draining guards. Routes are registered by the caller.
 */
export function createServer(opts: ServerOptions): App {
  const fastifyOpts: FastifyServerOptions & { https?: unknown; http?: unknown } = {
    logger: loggerOptions(opts),
    childLoggerFactory: requestLoggerFactory,
    bodyLimit: BODY_LIMIT,
    requestTimeout: opts.requestTimeoutMs,
    http: nodeTimeouts(opts.requestTimeoutMs),
    requestIdHeader: false,
    genReqId: (req) => requestIdFor(req.headers['x-request-id']),
    trustProxy: opts.behindProxy ? [...opts.trustedProxies] : false,
    return503OnClosing: false,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // A path that is not valid percent-encoding, or a parameter over the limit, is refused
    // before routing; it still answers the envelope with its request id.
    frameworkErrors: (err, request, reply) => {
      reply.header('x-request-id', request.id);
      sendError(request, reply, err);
    },
    // Bound to the Fastify instance, whose logger it uses.
    clientErrorHandler(this: { log: FastifyBaseLogger }, err, socket) {
      answerClientError(this.log, err, socket);
    },
  };
  if (opts.tls) {
    fastifyOpts.https = {
      key: opts.tls.key,
      cert: opts.tls.cert,
      minVersion: opts.tls.minVersion,
      ...nodeTimeouts(opts.requestTimeoutMs),
      // A connection that never finishes its handshake holds a descriptor as long as a slow request may, not Node's 120 s.
      handshakeTimeout: opts.requestTimeoutMs,
      // OpenSSL 3 refuses TLS 1.1 at its default security level; lower it only when asked.
      ...(opts.tls.minVersion === 'TLSv1.1' ? { ciphers: 'DEFAULT@SECLEVEL=0' } : {}),
    };
  }
  const app = Fastify(fastifyOpts as FastifyServerOptions).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  trackHandlers(app);
  trackConnections(app);

  const PROBES = new Set(['/healthz', '/readyz', '/metrics']);
  // Callback hooks rather than async ones: they run on every request.
  app.addHook('onRequest', (request, reply, done) => {
    // On the raw response, where a parser error in the body (client-error.ts) finds it too.
    reply.raw.setHeader('x-request-id', request.id);
    const query = request.url.indexOf('?');
    const raw = query === -1 ? request.url : request.url.slice(0, query);
    // The router decodes escapes (/%61pi/… is /api/…): then the route it matched is the path.
    const path = raw.includes('%') ? (request.routeOptions.url ?? raw) : raw;
    // Tokens, balances and orders are for the caller alone: no cache keeps them (RFC 6749 §5.1 for tokens).
    if (path.startsWith('/api/')) reply.header('cache-control', 'no-store').header('x-content-type-options', 'nosniff');
    // Health and metrics are states of the moment: a cache answering for them would hide an outage.
    else if (PROBES.has(path)) reply.header('cache-control', 'no-store');
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      done(new AppError('BAD_REQUEST', 'the Host header is required (HTTP/1.1)', 'invalid request'));
      return;
    }
    if (opts.isDraining() && path !== '/healthz') {
      // The client's next request goes to a new connection (to another process).
      reply.header('connection', 'close');
      done(new AppError('NOT_READY', 'the server is shutting down', 'not ready'));
      return;
    }
    // Health checks come from the load balancer itself, not through it; they carry no business.
    // A URI scheme is case-insensitive (RFC 3986 §3.1): a proxy may send HTTPS.
    if (opts.behindProxy && request.protocol.toLowerCase() !== 'https' && path !== '/healthz' && path !== '/readyz') {
      done(new AppError('FORBIDDEN', 'plain HTTP is refused; use https', 'forbidden'));
      return;
    }
    const wait = opts.authThrottle && (path.startsWith('/api/') || path.startsWith('/sandbox/')) ? opts.authThrottle.blockedFor(request.ip) : 0;
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      reply.header('retry-after', String(seconds));
      done(new AppError('RATE_LIMITED', `too many failed authentications from this address; retry after ${seconds} s`));
      return;
    }
    // %00 decodes to NUL, which no text column (PostgreSQL's least of all) can hold.
    if (request.url.includes('%00')) {
      done(new AppError('BAD_REQUEST', 'the NUL character (%00) is not allowed in a URL', 'invalid request'));
      return;
    }
    if (query !== -1 && !isDecodableQuery(request.url, query)) {
      done(new AppError('BAD_REQUEST', 'query string: not valid UTF-8 percent-encoding', 'invalid request'));
      return;
    }
    done();
  });

  // A keep-alive connection would keep a draining server open until the client leaves.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (opts.isDraining()) reply.header('connection', 'close');
    done(null, payload);
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const encoding = codedBody(request.headers);
    if (encoding !== null) {
      done(encoding, undefined);
      return;
    }
    const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(request.headers['content-type'] ?? '')?.[1];
    if (charset && charset.toLowerCase() !== 'utf-8' && charset.toLowerCase() !== 'utf8') {
      done(new AppError('UNSUPPORTED_MEDIA_TYPE', `charset ${charset} is not supported; use utf-8`), undefined);
      return;
    }
    try {
      // Kept for callers that verify a signature over the exact bytes (channel callbacks).
      request.rawBody = body as Buffer;
      done(null, parseJsonBody(body as Buffer));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  // HTML forms exist only on the cashier pages; the API stays JSON-only.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (request, body, done) => {
    if (!request.url.startsWith('/cashier/')) {
      done(new AppError('UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json; charset=utf-8'), undefined);
      return;
    }
    const encoding = codedBody(request.headers);
    if (encoding !== null) {
      done(encoding, undefined);
      return;
    }
    const fields: Record<string, string> = Object.create(null);
    for (const [key, value] of new URLSearchParams(body as string)) if (!(key in fields)) fields[key] = value;
    if (Object.entries(fields).some(([key, value]) => key.includes('\0') || value.includes('\0'))) {
      done(new AppError('BAD_REQUEST', 'the NUL character is not allowed in a form field', 'invalid request'), undefined);
      return;
    }
    done(null, fields);
  });

  app.setErrorHandler((err, request, reply) => {
    if (opts.authThrottle && err instanceof AppError && err.code === 'UNAUTHORIZED' && !err.proven) opts.authThrottle.failed(request.ip);
    return sendError(request, reply, err);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    // A path that exists for other methods: 405 with the methods it takes (fixed paths only, e.g. the API's).
    const allowed = ROUTE_METHODS.filter((method) => method !== request.method && app.hasRoute({ method, url: path }));
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return sendError(request, reply, new AppError('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${path}; use ${allowed.join(' or ')}`));
    }
    return sendError(request, reply, new AppError('NOT_FOUND', `no route ${request.method} ${path}`, 'not found'));
  });
  return app;
}
