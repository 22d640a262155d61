import { createHmac, randomBytes, timingSafeEqual, webcrypto } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Db } from '../db/database.ts';
import { staleCredential, unauthorized } from '../errors.ts';
import type { Clock } from '../clock.ts';
import { newId } from '../ids.ts';
import type { SecretBox } from '../secret-box.ts';

export const TOKEN_TTL_SECONDS = 1800;
const ALG = 'HS256';
const CLOCK_SKEW_SECONDS = 60;
// Another process's rotation (`pagoda keys rotate` is one) reaches this one within this time.
const KEY_RELOAD_MS = 1_000;
/** How long after its retirement a key may still have signed a token: the reload, with room for the processes' clocks. */
const RETIRED_KEY_LAG_MS = 5_000;

export interface TokenClaims {
  mid: string;
  aid: string;
  /** The app secret the token was issued for. */
  sid: string;
  /** The app's token epoch when issued. */
  epoch: number;
  jti: string;
  iat: number;
  exp: number;
}

interface LoadedKey {
  kid: string;
  /** For signing (jose). */
  key: webcrypto.CryptoKey;
  /** For verifying: a synchronous HMAC, no thread-pool round trip per request. */
  raw: Buffer;
  createdAt: number;
  retiredAt: number | null;
}

export interface TokenService {
  /** A token for the app, bound to the secret it authenticated with and to the app's token epoch. */
  issue(merchantId: string, appId: string, bound: { secretId: string; epoch: number }): Promise<{ token: string; expiresIn: number }>;
  verify(token: string): Promise<TokenClaims>;
  /** The claims of a token this process has already verified and that has not expired; undefined otherwise. */
  known(token: string): TokenClaims | undefined;
  /**
   * Adds a new signing key; tokens signed with older keys stay valid until they
   * expire. `alsoInTransaction` runs in the rotation's transaction (the audit entry).
   */
  rotate(alsoInTransaction?: (tx: Db, kid: string, now: number) => Promise<void>): Promise<string>;
}

/** What a signing key is sealed with (its row's identity). */
export const signingKeyContext = (kid: string) => `signing_key:${kid}`;

async function importHmac(raw: Buffer): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

async function insertKey(db: Db, box: SecretBox, now: number): Promise<string> {
  const kid = newId('k_', now);
  const raw = randomBytes(32);
  await db
    .insertInto('signing_keys')
    .values({ kid, alg: ALG, key_enc: box.seal(raw.toString('base64'), signingKeyContext(kid)), created_at: now, retired_at: null })
    .execute();
  return kid;
}

function decodeSegment(segment: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    /* refused below */
  }
  throw unauthorized('malformed token');
}

/**
 * The registered and private claims a merchant token must carry (RFC 7519 §4).
 * Runs after the signature check: an expired or early token is one we issued (staleCredential).
 */
function checkClaims(payload: Record<string, unknown>, issuer: string, nowSec: number): TokenClaims {
  const { mid, aid, sid, tep, jti, iat, exp, iss, type, nbf } = payload;
  if (typeof mid !== 'string' || typeof aid !== 'string' || typeof jti !== 'string' || type !== 'merchant') {
    throw unauthorized('token is not a merchant token');
  }
  if (typeof iat !== 'number' || typeof exp !== 'number') throw unauthorized('token lacks iat or exp');
  if (iss !== issuer) throw unauthorized('token from another issuer');
  if (exp + CLOCK_SKEW_SECONDS <= nowSec) throw staleCredential('token expired');
  if (iat - CLOCK_SKEW_SECONDS > nowSec || (typeof nbf === 'number' && nbf - CLOCK_SKEW_SECONDS > nowSec)) {
    throw staleCredential('token not valid yet');
  }
  if (exp - iat > TOKEN_TTL_SECONDS) throw unauthorized('token lives longer than the gateway issues them');
  // Every token this gateway issues is bound to its app secret and epoch. Earlier versions issued
  // tokens without them: ours (the signature says so), so refused as stale, not counted as a guess.
  if (typeof sid !== 'string' || !(Number.isSafeInteger(tep) && (tep as number) >= 0)) {
    throw staleCredential('token issued by an earlier version of the gateway; request a new one');
  }
  return { mid, aid, sid, epoch: tep as number, jti, iat, exp };
}

const VERIFIED_CACHE_SIZE = 10_000;

function remember(cache: Map<string, TokenClaims>, token: string, claims: TokenClaims): void {
  if (cache.size >= VERIFIED_CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(token, claims);
}

/**
 * Merchant tokens (v3): HS256 JWTs with a `kid`, the algorithm pinned on verify
 * (the header must say HS256; nothing else is even parsed further).
 * Keys live encrypted in the database so every process shares them; each process
 * caches them and reloads on an unknown `kid`, and at most once a second to see
 * another process's rotation (new tokens then use the new key).
 */
export function createTokenService(deps: { db: Db; box: SecretBox; clock: Clock; issuer: string }): TokenService {
  const { db, box, clock, issuer } = deps;
  const cache = new Map<string, LoadedKey>();
  // Merchants reuse a token for its 30 minutes; its signature needs checking once.
  const verified = new Map<string, TokenClaims>();
  let active: LoadedKey | undefined;
  let loadedAt = 0;

  const known = (token: string): TokenClaims | undefined => {
    const claims = verified.get(token);
    return claims && claims.exp + CLOCK_SKEW_SECONDS > clock.now() / 1000 ? claims : undefined;
  };

  async function reload(): Promise<void> {
    loadedAt = clock.now();
    const rows = await db.selectFrom('signing_keys').selectAll().where('alg', '=', ALG).orderBy('created_at', 'asc').execute();
    for (const row of rows) {
      const retiredAt = row.retired_at === null ? null : Number(row.retired_at);
      const known = cache.get(row.kid);
      if (known) {
        known.retiredAt = retiredAt;
        continue;
      }
      const raw = Buffer.from(box.open(row.key_enc, signingKeyContext(row.kid)), 'base64');
      cache.set(row.kid, { kid: row.kid, key: await importHmac(raw), raw, createdAt: Number(row.created_at), retiredAt });
    }
    active = [...cache.values()].filter((k) => k.retiredAt === null).sort((a, b) => b.createdAt - a.createdAt)[0];
  }

  async function signingKey(): Promise<LoadedKey> {
    // Another process may have rotated: look again now and then.
    if (!active || clock.now() - loadedAt > KEY_RELOAD_MS) await reload();
    if (!active) {
      await insertKey(db, box, clock.now());
      await reload();
    }
    return active!;
  }

  async function verificationKey(kid: string): Promise<LoadedKey> {
    let key = cache.get(kid);
    if (!key) {
      await reload();
      key = cache.get(kid);
    }
    if (!key) throw unauthorized('token signed with an unknown key');
    // A key still active here may have been retired by another process since.
    if (key.retiredAt === null && clock.now() - loadedAt > KEY_RELOAD_MS) await reload();
    return key;
  }

  return {
    async issue(merchantId, appId, bound) {
      const key = await signingKey();
      const iat = Math.floor(clock.now() / 1000);
      const token = await new SignJWT({ mid: merchantId, aid: appId, sid: bound.secretId, tep: bound.epoch, type: 'merchant' })
        .setProtectedHeader({ alg: ALG, kid: key.kid, typ: 'JWT' })
        .setIssuer(issuer)
        .setIssuedAt(iat)
        .setExpirationTime(iat + TOKEN_TTL_SECONDS)
        .setJti(newId('t_', clock.now()))
        .sign(key.key);
      return { token, expiresIn: TOKEN_TTL_SECONDS };
    },

    known,

    async verify(token) {
      const remembered = known(token);
      if (remembered) return remembered;
      const parts = token.split('.');
      if (parts.length !== 3) throw unauthorized('malformed token');
      const header = decodeSegment(parts[0]!);
      if (header.alg !== ALG) throw unauthorized(`token algorithm ${String(header.alg)} is not accepted`);
      if (typeof header.kid !== 'string') throw unauthorized('token has no kid');
      const key = await verificationKey(header.kid);
      // Compared as text: only the one canonical base64url form of the MAC is accepted,
      // not variants (padding, unused low bits) that decode to the same bytes.
      const expected = Buffer.from(createHmac('sha256', key.raw).update(`${parts[0]}.${parts[1]}`).digest('base64url'));
      const given = Buffer.from(parts[2]!);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw unauthorized('invalid token');
      const claims = checkClaims(decodeSegment(parts[1]!), issuer, clock.now() / 1000);
      // A retired key verifies only what it signed before it retired (processes see a rotation
      // within KEY_RELOAD_MS): a later iat is a token no process of this gateway made.
      if (key.retiredAt !== null && claims.iat * 1000 > key.retiredAt + RETIRED_KEY_LAG_MS) throw unauthorized('token signed with a retired key');
      remember(verified, token, claims);
      return claims;
    },

    async rotate(alsoInTransaction) {
      const now = clock.now();
      const kid = await db.transaction().execute(async (tx) => {
        await tx.updateTable('signing_keys').set({ retired_at: now }).where('retired_at', 'is', null).execute();
        const added = await insertKey(tx, box, now);
        await alsoInTransaction?.(tx, added, now);
        return added;
      });
      await reload();
      return kid;
    },
  };
}
