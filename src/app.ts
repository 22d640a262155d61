import type { Core } from './core.ts';
import { ping } from './platform/db/database.ts';
import { requireSchema } from './platform/db/migrate.ts';
import { ttlCache } from './platform/ttl-cache.ts';
import { bearerGuard, signGuard, type LoadApp } from './platform/http/auth.ts';
import { createAuthThrottle } from './platform/http/auth-throttle.ts';
import { registerHealthRoutes } from './platform/http/health.routes.ts';
import { createServer, type App } from './platform/http/server.ts';
import type { TlsMaterial } from './platform/http/tls.ts';
import { registerBalanceRoutes } from './modules/ledger/balance.routes.ts';
import { loadAuthApp } from './modules/merchants/merchant.service.ts';
import { registerTokenRoutes } from './modules/merchants/token.routes.ts';
import { registerCallbackRoutes } from './modules/channels/callback.routes.ts';
import { registerPayinRoutes } from './modules/payins/payin.routes.ts';
import { registerSandboxPayinRoutes } from './modules/payins/sandbox.routes.ts';
import { buildServices, type Services } from './services.ts';
import { registerCashierRoutes } from './web/cashier.routes.ts';
import { hstsFor } from './web/cashier/csp.ts';
import { registerNotifyRoutes } from './modules/notify/notify.routes.ts';
import { registerMetricsRoutes } from './platform/http/metrics.routes.ts';
import { registerPayoutRoutes } from './modules/payouts/payout.routes.ts';

export interface AppDeps extends Core {
  tls: TlsMaterial | undefined;
  isDraining: () => boolean;
  logStream?: NodeJS.WritableStream;
}

/** Wires the HTTP surface: the server, then each module's routes. */
export function buildApp(deps: AppDeps): App & { services: Services } {
  const { config, db, box, clock, tokens } = deps;
  const app = createServer({
    tls: deps.tls ? { key: deps.tls.key, cert: deps.tls.cert, minVersion: config.tlsMinVersion } : undefined,
    behindProxy: config.behindProxy,
    trustedProxies: config.trustedProxies,
    logLevel: config.logLevel,
    requestTimeoutMs: config.requestTimeoutMs,
    logStream: deps.logStream,
    isDraining: deps.isDraining,
    authThrottle: createAuthThrottle({ limit: config.authFailureLimit, windowMs: 60_000, now: () => clock.now() }),
  });
  // Apps are read on every request; a change (disable, rotate, allow-list) reaches every process within the TTL.
  const loadApp: LoadApp = ttlCache((appId) => loadAuthApp(db, box, clock.now(), appId), { ttlMs: config.appCacheTtlMs, now: () => clock.now() });
  const v3Guard = bearerGuard({ tokens, loadApp });
  const v2Guard = signGuard({ loadApp });
  const services = buildServices(deps, app.log);

  const ready = async () => {
    await ping(db);
    await requireSchema(db);
  };
  registerHealthRoutes(app, { ping: ready, isDraining: deps.isDraining });
  registerTokenRoutes(app, { tokens, loadApp });
  // Enabled currencies change rarely (operator only); balances are always read fresh.
  registerBalanceRoutes(app, { db, v3Guard, v2Guard, currenciesOf: services.payins.merchantOf });
  registerPayinRoutes(app, {
    payins: services.payins,
    cashierLink: services.cashierLink,
    v3Guard: bearerGuard({ tokens, loadApp }, 'payin'),
    v2Guard: signGuard({ loadApp }, 'payin'),
  });
  registerCallbackRoutes(app, { channel: services.channel, dispatch: services.dispatch });
  registerSandboxPayinRoutes(app, { ...services.sandbox, v3Guard: bearerGuard({ tokens, loadApp }, 'payin'), cashierLink: services.cashierLink });
  registerPayoutRoutes(app, {
    payouts: services.payouts,
    cashierLink: services.cashierLink,
    v3Guard: bearerGuard({ tokens, loadApp }, 'payout'),
    v2Guard: signGuard({ loadApp }, 'payout'),
    bank: services.sandbox,
  });
  registerNotifyRoutes(app, { db, clock, v3Guard, wake: () => services.wakeNotifier.wake() });
  registerMetricsRoutes(app, { registry: services.registry, token: config.metricsToken });
  registerCashierRoutes(app, { db, box, now: () => clock.now(), payins: services.payins, sandbox: services.sandbox, hsts: hstsFor(config.publicUrl) });
  return Object.assign(app, { services });
}
