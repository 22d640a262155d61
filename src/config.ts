import path from 'node:path';
import ipaddr from 'ipaddr.js';
import { parseDuration, parseDurationList } from './platform/duration.ts';
import type { AppError } from './platform/errors.ts';
import { parseMasterKey } from './platform/secret-box.ts';
import { parseAllowList } from './modules/notify/ssrf-guard.ts';

/**
 * The only reader of process.env. Parsed once, frozen, failing fast with a
 * message that names the variable.
 */
export interface Config {
  readonly dataDir: string;
  readonly databaseUrl: string;
  readonly host: string;
  readonly port: number;
  readonly publicUrl: string;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly tlsMinVersion: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  readonly behindProxy: boolean;
  readonly trustedProxies: readonly string[];
  readonly notifySchedule: readonly number[];
  readonly notifyTimeoutMs: number;
  readonly notifyRequireHttps: boolean;
  readonly notifyAllowHosts: readonly string[];
  readonly orderTtlMs: number;
  readonly masterKey: string | undefined;
  readonly logLevel: string;
  readonly tokenIssuer: string;
  readonly demoMerchant: boolean;
  readonly requestTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  readonly channelTimeoutMs: number;
  readonly expiryIntervalMs: number;
  readonly metricsToken: string | undefined;
  readonly sandboxPayoutDelayMs: number;
  readonly appCacheTtlMs: number;
  readonly authFailureLimit: number;
  /** PostgreSQL connections of the process's pool. */
  readonly dbPoolSize: number;
}

export interface EnvVar {
  readonly name: string;
  readonly fallback: string;
  readonly meaning: string;
}

/** Every variable, for `pagoda serve --help`. */
export const ENV_VARS: readonly EnvVar[] = [
  { name: 'PAGODA_DATA_DIR', fallback: './data', meaning: 'embedded defaults: SQLite file, generated TLS certificate, master key' },
  { name: 'PAGODA_DATABASE_URL', fallback: 'sqlite:<data dir>/pagoda.db', meaning: 'sqlite:<path> or postgres://…' },
  { name: 'PAGODA_HOST', fallback: '0.0.0.0', meaning: 'listen address' },
  { name: 'PAGODA_PORT', fallback: '8443', meaning: 'HTTPS port (plain HTTP behind a proxy)' },
  { name: 'PAGODA_PUBLIC_URL', fallback: 'https://localhost:<port>', meaning: 'base of cashier links' },
  { name: 'PAGODA_TLS_CERT', fallback: '<data dir>/tls/cert.pem (self-signed)', meaning: 'PEM certificate chain' },
  { name: 'PAGODA_TLS_KEY', fallback: '<data dir>/tls/key.pem (self-signed)', meaning: 'PEM private key' },
  { name: 'PAGODA_TLS_MIN_VERSION', fallback: 'TLSv1.2', meaning: 'TLSv1.1, TLSv1.2 or TLSv1.3' },
  { name: 'PAGODA_BEHIND_PROXY', fallback: 'off', meaning: '1: plain HTTP, trust X-Forwarded-Proto from PAGODA_TRUSTED_PROXIES, refuse what is not https' },
  { name: 'PAGODA_TRUSTED_PROXIES', fallback: '127.0.0.1,::1', meaning: 'comma-separated proxy addresses/CIDRs trusted for X-Forwarded-*' },
  { name: 'PAGODA_NOTIFY_SCHEDULE', fallback: '30s,2m,4m,10m,30m,1h,2h,6h,15h', meaning: 'intervals between notification attempts' },
  { name: 'PAGODA_NOTIFY_TIMEOUT', fallback: '10s', meaning: 'per notification attempt' },
  { name: 'PAGODA_NOTIFY_REQUIRE_HTTPS', fallback: 'off', meaning: '1: refuse http notify URLs at order creation' },
  { name: 'PAGODA_NOTIFY_ALLOW_HOSTS', fallback: '', meaning: 'hosts/CIDRs exempt from the private-address guard' },
  { name: 'PAGODA_ORDER_TTL', fallback: '30m', meaning: 'pay-in expiry' },
  { name: 'PAGODA_MASTER_KEY', fallback: 'generated into <data dir> for SQLite', meaning: 'base64 or hex 32-byte key encrypting app secrets; required for PostgreSQL' },
  { name: 'PAGODA_LOG_LEVEL', fallback: 'info', meaning: 'pino level' },
  { name: 'PAGODA_TOKEN_ISSUER', fallback: '<public url>', meaning: 'iss claim of merchant tokens' },
  { name: 'PAGODA_DEMO_MERCHANT', fallback: '1 on SQLite, 0 on PostgreSQL', meaning: 'create a demo merchant on first start' },
  { name: 'PAGODA_REQUEST_TIMEOUT', fallback: '30s', meaning: 'how long a client may take to send a whole request (headers and body); a slower one gets 408' },
  { name: 'PAGODA_SHUTDOWN_TIMEOUT', fallback: '20s', meaning: 'how long SIGTERM waits for in-flight work (longer than PAGODA_CHANNEL_TIMEOUT, so a channel call in flight can finish)' },
  { name: 'PAGODA_CHANNEL_TIMEOUT', fallback: '15s', meaning: 'how long a call to a channel may take before its outcome is unknown' },
  { name: 'PAGODA_METRICS_TOKEN', fallback: '(none: loopback only)', meaning: 'bearer token for GET /metrics' },
  { name: 'PAGODA_SANDBOX_PAYOUT_DELAY', fallback: '5s', meaning: 'how long a sandbox payout takes to complete by itself' },
  { name: 'PAGODA_AUTH_FAILURE_LIMIT', fallback: '60', meaning: 'failed authentications per client address per minute after which its API calls answer 429 until the minute ends (0: off)' },
  { name: 'PAGODA_APP_CACHE_TTL', fallback: '1s', meaning: 'how long a process may use an app (credentials, scope, allow-list), or a merchant\'s currencies and method settings, it has read' },
  { name: 'PAGODA_DB_POOL_SIZE', fallback: '10', meaning: 'PostgreSQL connections a process may open, 1 to 1000 (a process with the worker role holds one more, for LISTEN); size a pooler for all of them' },
  { name: 'PAGODA_EXPIRY_INTERVAL', fallback: '5s', meaning: 'how often the worker looks for pay-ins past their TTL' },
];

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Parses a variable now, so that a bad value stops the start with its name, not later with a stack trace. */
function checkParsed(env: Env, name: string, parse: (value: string) => unknown): void {
  const value = env[name];
  if (!value) return;
  try {
    parse(value);
  } catch (err) {
    // The value itself is not repeated: it may be a secret.
    throw new ConfigError(`${name}: ${(err as Error).message.replace(/^PAGODA_[A-Z_]+ /, '')}`);
  }
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'on', 'yes'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'off', 'no'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(`${name}: expected 1 or 0, got "${raw}"`);
}

function count(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,9}$/.test(raw)) throw new ConfigError(`${name}: "${raw}" is not a whole number`);
  if (Number(raw) < min || Number(raw) > max) throw new ConfigError(`${name}: must be from ${min} to ${max}`);
  return Number(raw);
}

/**
 * A postgres:// URL as libpq and node-postgres read it, where the host may be
 * empty (the default, or `?host=/socket/dir`) even after credentials, which the
 * WHATWG parser refuses: postgres://user:pw@/db?host=/var/run/postgresql.
 */
function isPostgresUrl(url: string): boolean {
  return URL.canParse(url.replace(/^(postgres(?:ql)?:\/\/[^/?#]*@)(?=\/)/, '$1localhost'));
}

/** The longest delay a Node.js timer takes; a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A duration of at least `minMs` (0: any; timeouts, TTLs and intervals need more
 * than nothing) and, for what runs on a timer, at most MAX_TIMER_MS.
 */
function duration(env: Env, name: string, fallback: string, minMs = 0, maxMs = MAX_TIMER_MS): number {
  let ms: number;
  try {
    ms = parseDuration(env[name] || fallback);
  } catch (err) {
    throw new ConfigError(`${name}: ${(err as AppError).detail}`);
  }
  if (ms < minMs) throw new ConfigError(`${name}: "${env[name]}" must be at least ${minMs}ms`);
  if (ms > maxMs) throw new ConfigError(`${name}: "${env[name]}" must be at most ${maxMs}ms (about 24.8 days, the longest timer Node.js sets)`);
  return ms;
}

// proxy-addr's names for address ranges, besides addresses and CIDRs.
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function trustedProxies(env: Env): string[] {
  const entries = list(env, 'PAGODA_TRUSTED_PROXIES', '127.0.0.1,::1');
  for (const entry of entries) {
    if (!ipaddr.isValid(entry) && !ipaddr.isValidCIDR(entry) && !PROXY_RANGE_NAMES.has(entry)) {
      throw new ConfigError(`PAGODA_TRUSTED_PROXIES: "${entry}" is not an address, a CIDR range, loopback, linklocal or uniquelocal`);
    }
  }
  return entries;
}

function list(env: Env, name: string, fallback: string): string[] {
  return (env[name] ?? fallback).split(',').map((s) => s.trim()).filter(Boolean);
}

function port(env: Env): number {
  const raw = env.PAGODA_PORT || '8443';
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 65535) throw new ConfigError(`PAGODA_PORT: "${raw}" is not a port number`);
  return n;
}

function tlsMinVersion(env: Env): Config['tlsMinVersion'] {
  const raw = env.PAGODA_TLS_MIN_VERSION || 'TLSv1.2';
  if (raw !== 'TLSv1.1' && raw !== 'TLSv1.2' && raw !== 'TLSv1.3') {
    throw new ConfigError(`PAGODA_TLS_MIN_VERSION: "${raw}" must be TLSv1.1, TLSv1.2 or TLSv1.3`);
  }
  return raw;
}

function publicUrl(env: Env, listenPort: number): string {
  const raw = env.PAGODA_PUBLIC_URL || `https://localhost:${listenPort}`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`PAGODA_PUBLIC_URL: "${raw}" is not an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError('PAGODA_PUBLIC_URL: must be an https (or http, behind a proxy) URL');
  // It prefixes cashier links: credentials, a query or a fragment would end up in every one.
  if (url.username || url.password || url.search || url.hash || /[?#]/.test(raw)) {
    throw new ConfigError('PAGODA_PUBLIC_URL: must be a scheme, host, optional port and path, without credentials, query or fragment');
  }
  return raw.replace(/\/+$/, '');
}

function scheduleOf(env: Env): number[] {
  const raw = env.PAGODA_NOTIFY_SCHEDULE || '30s,2m,4m,10m,30m,1h,2h,6h,15h';
  try {
    return parseDurationList(raw);
  } catch (err) {
    throw new ConfigError(`PAGODA_NOTIFY_SCHEDULE: "${raw}" must be comma-separated durations (ms, s, m, h); ${(err as AppError).detail}`);
  }
}

export function loadConfig(env: Env = process.env): Config {
  const dataDir = path.resolve(env.PAGODA_DATA_DIR || './data');
  const listenPort = port(env);
  const databaseUrl = env.PAGODA_DATABASE_URL || `sqlite:${path.join(dataDir, 'pagoda.db')}`;
  if (!/^(sqlite:|postgres:\/\/|postgresql:\/\/)/.test(databaseUrl)) {
    throw new ConfigError('PAGODA_DATABASE_URL: must start with sqlite: or postgres://');
  }
  const isSqlite = databaseUrl.startsWith('sqlite:');
  if (isSqlite && databaseUrl === 'sqlite:') throw new ConfigError('PAGODA_DATABASE_URL: sqlite: needs a file path (sqlite:/var/lib/pagoda/pagoda.db)');
  if (!isSqlite) {
    // Not repeated in the message: it may hold a password.
    if (!isPostgresUrl(databaseUrl)) throw new ConfigError('PAGODA_DATABASE_URL: not a valid postgres:// URL');
    if (!env.PAGODA_MASTER_KEY) throw new ConfigError('PAGODA_MASTER_KEY: required with PostgreSQL (32 bytes as 64 hex characters or base64); keep it, it decrypts the app secrets');
  }
  const base = publicUrl(env, listenPort);
  const notifyAllowHosts = list(env, 'PAGODA_NOTIFY_ALLOW_HOSTS', '');
  checkParsed(env, 'PAGODA_NOTIFY_ALLOW_HOSTS', () => parseAllowList(notifyAllowHosts));
  checkParsed(env, 'PAGODA_MASTER_KEY', parseMasterKey);
  if (env.PAGODA_LOG_LEVEL && !LOG_LEVELS.includes(env.PAGODA_LOG_LEVEL)) {
    throw new ConfigError(`PAGODA_LOG_LEVEL: "${env.PAGODA_LOG_LEVEL}" must be one of ${LOG_LEVELS.join(', ')}`);
  }
  if (Boolean(env.PAGODA_TLS_CERT) !== Boolean(env.PAGODA_TLS_KEY)) {
    throw new ConfigError('PAGODA_TLS_CERT and PAGODA_TLS_KEY: give both (a certificate chain and its key) or neither');
  }
  return Object.freeze({
    dataDir,
    databaseUrl,
    host: env.PAGODA_HOST || '0.0.0.0',
    port: listenPort,
    publicUrl: base,
    tlsCert: env.PAGODA_TLS_CERT || undefined,
    tlsKey: env.PAGODA_TLS_KEY || undefined,
    tlsMinVersion: tlsMinVersion(env),
    behindProxy: flag(env, 'PAGODA_BEHIND_PROXY', false),
    trustedProxies: Object.freeze(trustedProxies(env)),
    notifySchedule: Object.freeze(scheduleOf(env)),
    notifyTimeoutMs: duration(env, 'PAGODA_NOTIFY_TIMEOUT', '10s', 1),
    notifyRequireHttps: flag(env, 'PAGODA_NOTIFY_REQUIRE_HTTPS', false),
    notifyAllowHosts: Object.freeze(notifyAllowHosts),
    orderTtlMs: duration(env, 'PAGODA_ORDER_TTL', '30m', 1000, Number.POSITIVE_INFINITY),
    masterKey: env.PAGODA_MASTER_KEY || undefined,
    logLevel: env.PAGODA_LOG_LEVEL || 'info',
    tokenIssuer: env.PAGODA_TOKEN_ISSUER || base,
    demoMerchant: flag(env, 'PAGODA_DEMO_MERCHANT', isSqlite),
    requestTimeoutMs: duration(env, 'PAGODA_REQUEST_TIMEOUT', '30s', 1000),
    shutdownTimeoutMs: duration(env, 'PAGODA_SHUTDOWN_TIMEOUT', '20s', 1),
    channelTimeoutMs: duration(env, 'PAGODA_CHANNEL_TIMEOUT', '15s', 1),
    expiryIntervalMs: duration(env, 'PAGODA_EXPIRY_INTERVAL', '5s', 100),
    metricsToken: env.PAGODA_METRICS_TOKEN || undefined,
    sandboxPayoutDelayMs: duration(env, 'PAGODA_SANDBOX_PAYOUT_DELAY', '5s'),
    appCacheTtlMs: duration(env, 'PAGODA_APP_CACHE_TTL', '1s'),
    authFailureLimit: count(env, 'PAGODA_AUTH_FAILURE_LIMIT', 60),
    dbPoolSize: count(env, 'PAGODA_DB_POOL_SIZE', 10, 1, 1000),
  });
}
