import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ConfigError, type Config } from './config.ts';
import { buildApp } from './app.ts';
import { openCore, type Core } from './core.ts';
import type { App } from './platform/http/server.ts';
import { loadTls, type TlsMaterial } from './platform/http/tls.ts';
import { startPeriodic } from './platform/jobs/periodic.ts';
import { createLogger } from './platform/log.ts';
import { expireDuePayins } from './modules/payins/payin.service.ts';
import { completeDueSandboxPayouts } from './modules/channels/sandbox/sandbox.bank.ts';
import { listenForNotifications } from './modules/notify/notify.listener.ts';
import { startNotifyWorker } from './modules/notify/notify.worker.ts';
import { recoverPayouts } from './modules/payouts/payout.recovery.ts';
import { buildServices, type Services } from './services.ts';
import { createMerchant, describeMerchant, hasMerchants, loadAuthApp, type Credentials } from './modules/merchants/merchant.service.ts';
import { safeEqual } from './platform/constant-time.ts';
import { makeDirectories, replaceFile } from './platform/files.ts';

export type Role = 'api' | 'worker' | 'all';
export { openCore, type Core };

const DEMO_CURRENCIES = ['IDR', 'MXN', 'BRL', 'INR', 'THB', 'PHP', 'PKR', 'BDT'];

/**
 * The demo merchant's credentials for the banner. `stale`: its kept secret no
 * longer authenticates; `elsewhere`: its app is not in this database (the data
 * directory was first used with another one).
 */
type DemoCredentials = Credentials & { file: string; state: 'ok' | 'stale' | 'elsewhere'; currencies: readonly string[] };

/** The demo credentials kept for the banner; a file that does not hold them is the operator's to fix. */
function keptCredentials(file: string): Credentials {
  const kept = parseJson(fs.readFileSync(file, 'utf8')) as Partial<Record<keyof Credentials, unknown>> | null;
  if (typeof kept?.merchantId !== 'string' || typeof kept.appId !== 'string' || typeof kept.appSecret !== 'string') {
    throw new ConfigError(`${file}: not the demo merchant's credentials (JSON with merchantId, appId and appSecret); delete it to start without the demo banner`);
  }
  return { merchantId: kept.merchantId, appId: kept.appId, appSecret: kept.appSecret };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** On a fresh embedded install: a demo merchant whose credentials are kept for the banner. */
async function ensureDemoMerchant(core: Core): Promise<DemoCredentials | undefined> {
  const file = path.join(core.config.dataDir, 'demo-merchant.json');
  if (fs.existsSync(file)) {
    const kept = keptCredentials(file);
    // Rotated or disabled since: a secret that no longer works is not shown again.
    const app = await loadAuthApp(core.db, core.box, core.clock.now(), kept.appId);
    if (!app) return { ...kept, file, state: 'elsewhere', currencies: [] };
    const works = app.active && app.secrets.some((secret) => safeEqual(secret, kept.appSecret));
    const { currencies } = await describeMerchant(core.db, core.clock.now(), kept.merchantId);
    return { ...kept, file, state: works ? 'ok' : 'stale', currencies };
  }
  if (!core.config.demoMerchant) return undefined;
  const created = await core.db.transaction().execute(async (tx) => {
    if (await hasMerchants(tx)) return undefined;
    return createMerchant(tx, { box: core.box, now: core.clock.now(), actor: 'system:demo' }, { name: 'Demo Merchant', currencies: DEMO_CURRENCIES });
  });
  if (created) {
    makeDirectories(core.config.dataDir);
    replaceFile(file, JSON.stringify(created, null, 2) + '\n', 0o600);
  }
  return created && { ...created, file, state: 'ok', currencies: (await describeMerchant(core.db, core.clock.now(), created.merchantId)).currencies };
}

function banner(config: Config, role: Role, demo: DemoCredentials | undefined, tls: TlsMaterial | undefined): string {
  const certPath = tls?.certPath;
  // Where merchants reach the gateway (by default https://localhost:<port>; behind a proxy, the proxy).
  const base = config.publicUrl;
  if (role === 'worker') return 'Pagoda worker is running (background jobs only, no HTTP)\n';
  const lines = [`Pagoda is listening on ${config.behindProxy ? 'http' : 'https'}://${config.host}:${config.port} (public URL ${config.publicUrl})`];
  if (certPath) lines.push(`TLS certificate: ${certPath} (self-signed unless configured; curl needs -k or --cacert)`);
  if (tls?.uncoveredHost) {
    lines.push(`warning: that certificate, generated on an earlier start, does not name ${tls.uncoveredHost} (PAGODA_PUBLIC_URL); delete ${path.dirname(tls.certPath)} to generate one that does, or set PAGODA_TLS_CERT and PAGODA_TLS_KEY`);
  }
  if (demo?.state === 'stale') {
    lines.push('', `Demo merchant ${demo.merchantId}: the app secret kept in ${demo.file} no longer authenticates (rotated or disabled), so it is not shown.`);
  } else if (demo?.state === 'elsewhere') {
    lines.push('', `Demo merchant ${demo.merchantId} of ${demo.file} is not in this database (that file was written with another one), so it is not shown.`);
  } else if (demo) {
    const body = JSON.stringify({ grant_type: 'client_credentials', app_id: demo.appId, app_secret: demo.appSecret });
    lines.push(
      '',
      'Demo merchant (kept in the data directory, readable by its owner only):',
      `  merchantId  ${demo.merchantId}`,
      `  appId       ${demo.appId}`,
      `  appSecret   ${demo.appSecret}`,
      `  currencies  ${demo.currencies.join(', ')} (the first is the default)`,
      '',
      'Get a token:',
      `  curl -k -X POST ${base}/api/v3/oauth/token -H 'Content-Type: application/json' -d '${body}'`,
      'Then:',
      `  curl -k ${base}/api/v3/merchant/balance -H 'Authorization: Bearer <token>'`,
    );
  }
  return lines.join('\n') + '\n';
}

type Stoppable = { stop(): Promise<void> };

const RECOVERY_INTERVAL_MS = 10_000;
const SANDBOX_INTERVAL_MS = 1000;
/** How long a draining server still answers (503, Connection: close) before it closes. */
const DRAIN_GRACE_MS = 500;

/** The worker role: background work that must happen once, whichever process does it. */
function startJobs(config: Config, services: Services): Stoppable[] {
  const log = services.payins.log;
  const notifier = startNotifyWorker(services.notify);
  services.wakeNotifier.wake = () => notifier.wake();
  const jobs: Stoppable[] = [
    notifier,
    startPeriodic('expire-payins', config.expiryIntervalMs, () => drain(() => expireDuePayins(services.payins)), log),
    startPeriodic('recover-payouts', RECOVERY_INTERVAL_MS, () => recoverPayouts(services.payouts), log),
    startPeriodic('sandbox-payouts', SANDBOX_INTERVAL_MS, () => drain(() => completeDueSandboxPayouts(services.sandbox)), log),
  ];
  if (!config.databaseUrl.startsWith('sqlite:')) jobs.push(listenForNotifications(config.databaseUrl, () => notifier.wake(), log));
  return jobs;
}

/**
 * Stops taking connections and waits for those that carry a request, then for
 * the handlers. A connection with no request on it (nothing sent, a TLS
 * handshake or a request head never finished) is ended, not waited for.
 */
async function closeServer(app: App): Promise<void> {
  const closed = app.close();
  // Fastify closes the port after its hooks: from then on no connection comes.
  while (app.server.listening) await delay(5);
  app.connections.dropUnused();
  await closed;
  await app.inFlight.idle();
}

/** Repeats a batch job until a batch finds nothing to do. */
async function drain(batch: () => Promise<number>): Promise<void> {
  while ((await batch()) > 0);
}

export interface Running {
  app: App | undefined;
  core: Core;
  /** Drains and stops; resolves when everything is closed. */
  stop(): Promise<void>;
}

/** The certificate to serve; the operator's own files are checked (readable, PEM, the key matches). */
async function tlsOf(config: Config): Promise<TlsMaterial> {
  try {
    return await loadTls({ certFile: config.tlsCert, keyFile: config.tlsKey, dataDir: config.dataDir, publicUrl: config.publicUrl });
  } catch (err) {
    if (!config.tlsCert) throw err;
    throw new ConfigError(`PAGODA_TLS_CERT and PAGODA_TLS_KEY: ${(err as Error).message}`);
  }
}

export async function serve(config: Config, role: Role, out: NodeJS.WritableStream = process.stdout): Promise<Running> {
  const core = await openCore(config);
  let draining = false;
  let app: ReturnType<typeof buildApp> | undefined;
  let tls: TlsMaterial | undefined;
  const demo = await ensureDemoMerchant(core);
  if (role !== 'worker') {
    tls = config.behindProxy ? undefined : await tlsOf(config);
    app = buildApp({ ...core, tls, isDraining: () => draining });
    await app.listen({ host: config.host, port: config.port }).catch((err: NodeJS.ErrnoException) => {
      // A host that does not resolve is a setting to fix, not a database to reach.
      if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') throw new ConfigError(`PAGODA_HOST: cannot listen on "${config.host}": ${err.message}`);
      throw err;
    });
  }
  const services = app ? app.services : buildServices(core, createLogger(config.logLevel));
  const jobs = role === 'api' ? [] : startJobs(config, services);
  out.write(banner(config, role, demo, tls));

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      draining = true;
      // For a moment the server still reads what clients sent before the signal (or on a
      // connection it held open) and answers 503 with Connection: close, where closing at
      // once would reset those connections with their requests unanswered.
      // Closing the server then waits for open connections; handlers whose client left are waited for too.
      const closeHttp = app ? delay(DRAIN_GRACE_MS).then(() => closeServer(app!)) : undefined;
      await Promise.all([closeHttp, ...jobs.map((job) => job.stop())]);
      await services.close();
      await core.db.destroy();
    })();
    return stopping;
  };
  return { app, core, stop };
}

/**
 * SIGTERM/SIGINT: stop taking work, finish what is in flight (bounded), exit 0.
 * Installed before start-up finishes, so a signal during start-up waits for it
 * and then drains.
 */
export function exitOnSignals(starting: Promise<Running>, timeoutMs: number): void {
  let stopping = false;
  const onSignal = (signal: string) => {
    // A second signal during the drain must not cut it short (the default action
    // would end the process at once, with requests and deliveries in flight).
    if (stopping) {
      void starting.then((running) => running.app?.log.warn({ signal }, 'already draining; the signal is ignored'));
      return;
    }
    stopping = true;
    const force = setTimeout(() => process.exit(1), timeoutMs);
    force.unref();
    starting
      .then((running) => {
        running.app?.log.info({ signal }, 'draining');
        return running.stop();
      })
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
}
