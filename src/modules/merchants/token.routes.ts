import { Type } from 'typebox';
import type { TokenService } from '../../platform/auth/tokens.ts';
import { DECOY_SECRET, safeEqual } from '../../platform/constant-time.ts';
import { badRequest, unauthorized } from '../../platform/errors.ts';
import { checkAppAccess, type LoadApp } from '../../platform/http/auth.ts';
import { ok } from '../../platform/http/envelope.ts';
import type { App } from '../../platform/http/server.ts';

const TokenRequest = Type.Object({
  grant_type: Type.String({ maxLength: 64 }),
  app_id: Type.String({ maxLength: 128 }),
  app_secret: Type.String({ maxLength: 128 }),
});

const BAD_CREDENTIALS = 'invalid app_id or app_secret';

/** POST /api/v3/oauth/token: OAuth 2 client credentials → merchant JWT. */
export function registerTokenRoutes(app: App, deps: { tokens: TokenService; loadApp: LoadApp }): void {
  app.post('/api/v3/oauth/token', { schema: { body: TokenRequest } }, async (request, reply) => {
    // With the server's Cache-Control: no-store, as RFC 6749 §5.1 asks of token answers.
    reply.header('pragma', 'no-cache');
    const { grant_type, app_id, app_secret } = request.body;
    if (grant_type !== 'client_credentials') throw badRequest(`grant_type: "${grant_type}" is not supported; use client_credentials`);
    const found = await deps.loadApp(app_id);
    const candidates = found?.active ? found.secrets : [DECOY_SECRET];
    // Every candidate is compared, whichever matches.
    let match = -1;
    candidates.forEach((secret, i) => {
      if (safeEqual(secret, app_secret)) match = i;
    });
    if (!found || !found.active || match < 0) throw unauthorized(BAD_CREDENTIALS);
    checkAppAccess(found, request.ip, undefined);
    const { token, expiresIn } = await deps.tokens.issue(found.merchantId, found.appId, { secretId: found.secretIds[match]!, epoch: found.tokenEpoch });
    return ok({ token, token_type: 'Bearer', expires_in: expiresIn });
  });
}
