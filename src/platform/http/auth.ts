import type { FastifyRequest } from 'fastify';
import ipaddr from 'ipaddr.js';
import { badRequest, forbidden, staleCredential, unauthorized } from '../errors.ts';
import { DECOY_SECRET } from '../constant-time.ts';
import { verifySign } from '../sign.ts';
import type { TokenService } from '../auth/tokens.ts';

export type Scope = 'payin' | 'payout';

/** What authentication needs to know of an app; loaded per request. */
export interface AuthApp {
  appId: string;
  merchantId: string;
  /** The app is enabled and has a valid secret. */
  active: boolean;
  /** Its merchant is disabled: valid credentials are answered 403. */
  merchantDisabled: boolean;
  scopes: readonly Scope[];
  /** Addresses/CIDRs the app may call from; null allows any. */
  ipAllow: readonly string[] | null;
  /** Secrets currently valid, newest first (older ones only during a rotation's grace). */
  secrets: readonly string[];
  /** Their ids, in the same order. */
  secretIds: readonly string[];
  /** Moves on each time the app is disabled; tokens carry the epoch they were issued in. */
  tokenEpoch: number;
}

export interface Principal {
  generation: 'v2' | 'v3';
  merchantId: string;
  appId: string;
  /** The newest secret: what the gateway signs v2 answers with. */
  signingSecret: string;
  /** What the app may do: routes shared by both directions check the order's against it. */
  scopes: readonly Scope[];
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export type LoadApp = (appId: string) => Promise<AuthApp | undefined>;

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthorized('not authenticated');
  return request.principal;
}

function inAllowList(ip: string, allow: readonly string[]): boolean {
  if (!ipaddr.isValid(ip)) return false;
  const addr = ipaddr.process(ip);
  return allow.some((entry) => {
    if (entry.includes('/')) {
      const [range, bits] = ipaddr.parseCIDR(entry);
      return addr.kind() === range.kind() && addr.match(range, bits);
    }
    return ipaddr.isValid(entry) && ipaddr.process(entry).toString() === addr.toString();
  });
}

/** Merchant, IP allow-list and scope: the credentials are valid, but may the app do this from here? */
export function checkAppAccess(app: AuthApp, ip: string, scope: Scope | undefined): void {
  if (app.merchantDisabled) throw forbidden('merchant is disabled');
  if (app.ipAllow && !inAllowList(ip, app.ipAllow)) throw forbidden(`address ${ip} is not in the app's IP allow-list`);
  if (scope && !app.scopes.includes(scope)) throw forbidden(`app scope does not include ${scope}`);
}

/** Node keeps the first of repeated Authorization headers; a proxy in front may read another, so two are refused. */
function repeatedAuthorization(rawHeaders: readonly string[]): boolean {
  let seen = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === 13 && name.toLowerCase() === 'authorization' && ++seen > 1) return true;
  }
  return false;
}

function bearerToken(header: string | undefined): string {
  const match = typeof header === 'string' ? /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header) : null;
  if (!match) throw unauthorized(header ? 'Authorization must be "Bearer <token>"' : 'missing Authorization header');
  return match[1]!;
}

/** v3: `Authorization: Bearer <JWT>`. */
export function bearerGuard(deps: { tokens: TokenService; loadApp: LoadApp }, scope?: Scope) {
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    if (repeatedAuthorization(request.raw.rawHeaders)) throw unauthorized('the Authorization header appears more than once');
    // A token this process verified before, sent in the usual form, is looked up as it is.
    const known = typeof header === 'string' && header.startsWith('Bearer ') ? deps.tokens.known(header.slice(7)) : undefined;
    const claims = known ?? (await deps.tokens.verify(bearerToken(header)));
    const app = await deps.loadApp(claims.aid);
    if (!app || !app.active || app.merchantId !== claims.mid) throw staleCredential('token of a revoked or unknown app');
    // A rotation ends the old secret's tokens with it (at once with --grace 0s).
    if (!app.secretIds.includes(claims.sid)) throw staleCredential('token of an app secret that is no longer valid');
    // A disabled merchant's genuine token is told so (403), before its epoch says it is stale.
    if (app.merchantDisabled) throw forbidden('merchant is disabled');
    // Disabling ends the tokens issued before, even if the app or merchant is enabled again.
    if (claims.epoch !== app.tokenEpoch) throw staleCredential('token issued before its app or merchant was disabled');
    checkAppAccess(app, request.ip, scope);
    request.principal = { generation: 'v3', merchantId: app.merchantId, appId: app.appId, signingSecret: app.secrets[0]!, scopes: app.scopes };
  };
}

/** v2: `appId` and `sign` in the JSON body (POST) or the query string (GET). */
export function signGuard(deps: { loadApp: LoadApp }, scope?: Scope) {
  return async (request: FastifyRequest): Promise<void> => {
    // HEAD is a GET without the body of the answer: its parameters are in the query too.
    const inQuery = request.method === 'GET' || request.method === 'HEAD';
    const params = (inQuery ? request.query : request.body) as Record<string, unknown> | undefined;
    // Nothing to authenticate in a body that is not an object: the request is malformed, not a failed login.
    if (!inQuery && (typeof params !== 'object' || params === null || Array.isArray(params))) throw badRequest('body: must be a JSON object');
    if (!params || typeof params !== 'object') throw unauthorized('appId and sign are required');
    for (const value of Object.values(params)) {
      if (Array.isArray(value) && inQuery) throw unauthorized('a query parameter appears twice');
    }
    const { appId, sign } = params;
    if (typeof appId !== 'string' || appId === '') throw unauthorized('appId is required');
    if (typeof sign !== 'string' || sign === '') throw unauthorized('sign is required');
    const app = await deps.loadApp(appId);
    // Every candidate is checked, whichever matches (an unknown app against the decoy, as the token route does).
    // During a rotation's grace the answer is signed with the secret that signed the request: the one the caller holds.
    let secret: string | undefined;
    for (const candidate of app?.active ? app.secrets : [DECOY_SECRET]) {
      if (verifySign(params, candidate)) secret ??= candidate;
    }
    if (!app?.active || secret === undefined) throw unauthorized('invalid appId or sign');
    checkAppAccess(app, request.ip, scope);
    request.principal = { generation: 'v2', merchantId: app.merchantId, appId: app.appId, signingSecret: secret, scopes: app.scopes };
  };
}
