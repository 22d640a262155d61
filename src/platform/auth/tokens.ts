import { randomBytes, webcrypto } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import type { Db } from '../db/database.ts';
import { unauthorized } from '../errors.ts';
import type { Clock } from '../clock.ts';
import { newId } from '../ids.ts';
import type { SecretBox } from '../secret-box.ts';

export const TOKEN_TTL_SECONDS = 1800;
const ALG = 'HS256';
const CLOCK_SKEW_SECONDS = 60;
const KEY_RELOAD_MS = 60_000;

export interface TokenClaims {
  mid: string;
  aid: string;
  jti: string;
  iat: number;
  exp: number;
}

interface LoadedKey {
  kid: string;
  key: webcrypto.CryptoKey;
  createdAt: number;
  retiredAt: number | null;
}

export interface TokenService {
  issue(merchantId: string, appId: string): Promise<{ token: string; expiresIn: number }>;
  verify(token: string): Promise<TokenClaims>;
  /** Adds a new signing key; tokens signed with older keys stay valid until they expire. */
  rotate(): Promise<string>;
}

const keyContext = (kid: string) => `signing_key:${kid}`;

async function importHmac(raw: Buffer): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

async function insertKey(db: Db, box: SecretBox, now: number): Promise<string> {
  const kid = newId('k_', now);
  const raw = randomBytes(32);
  await db
    .insertInto('signing_keys')
    .values({ kid, alg: ALG, key_enc: box.seal(raw.toString('base64'), keyContext(kid)), created_at: now, retired_at: null })
    .execute();
  return kid;
}

/**
 * Merchant tokens (v3): HS256 JWTs with a `kid`, the algorithm pinned on verify.
 * Keys live encrypted in the database so every process shares them; each process
 * caches them and reloads on an unknown `kid`.
 */
export function createTokenService(deps: { db: Db; box: SecretBox; clock: Clock; issuer: string }): TokenService {
  const { db, box, clock, issuer } = deps;
  const cache = new Map<string, LoadedKey>();
  let active: LoadedKey | undefined;
  let loadedAt = 0;

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
      const raw = Buffer.from(box.open(row.key_enc, keyContext(row.kid)), 'base64');
      cache.set(row.kid, { kid: row.kid, key: await importHmac(raw), createdAt: Number(row.created_at), retiredAt });
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
    // A retired key verifies only tokens it could have signed before retirement.
    if (key.retiredAt !== null && clock.now() > key.retiredAt + (TOKEN_TTL_SECONDS + CLOCK_SKEW_SECONDS) * 1000) {
      throw unauthorized('token signed with a retired key');
    }
    return key;
  }

  return {
    async issue(merchantId, appId) {
      const key = await signingKey();
      const iat = Math.floor(clock.now() / 1000);
      const token = await new SignJWT({ mid: merchantId, aid: appId, type: 'merchant' })
        .setProtectedHeader({ alg: ALG, kid: key.kid, typ: 'JWT' })
        .setIssuer(issuer)
        .setIssuedAt(iat)
        .setExpirationTime(iat + TOKEN_TTL_SECONDS)
        .setJti(newId('t_'))
        .sign(key.key);
      return { token, expiresIn: TOKEN_TTL_SECONDS };
    },

    async verify(token) {
      let header;
      try {
        header = decodeProtectedHeader(token);
      } catch {
        throw unauthorized('malformed token');
      }
      if (header.alg !== ALG) throw unauthorized(`token algorithm ${String(header.alg)} is not accepted`);
      if (typeof header.kid !== 'string') throw unauthorized('token has no kid');
      const key = await verificationKey(header.kid);
      try {
        const { payload } = await jwtVerify(token, key.key, {
          algorithms: [ALG],
          issuer,
          clockTolerance: CLOCK_SKEW_SECONDS,
          currentDate: new Date(clock.now()),
          requiredClaims: ['mid', 'aid', 'jti', 'iat', 'exp'],
        });
        if (payload.type !== 'merchant' || typeof payload.mid !== 'string' || typeof payload.aid !== 'string') {
          throw unauthorized('token is not a merchant token');
        }
        return { mid: payload.mid, aid: payload.aid, jti: String(payload.jti), iat: payload.iat!, exp: payload.exp! };
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired) throw unauthorized('token expired');
        if (err instanceof joseErrors.JOSEError) throw unauthorized('invalid token');
        throw err;
      }
    },

    async rotate() {
      const now = clock.now();
      const kid = await db.transaction().execute(async (tx) => {
        await tx.updateTable('signing_keys').set({ retired_at: now }).where('retired_at', 'is', null).execute();
        return insertKey(tx, box, now);
      });
      await reload();
      return kid;
    },
  };
}
