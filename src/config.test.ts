import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, ENV_VARS, loadConfig } from './config.ts';

test('defaults are the embedded ones of the operator interface', () => {
  const c = loadConfig({});
  assert.equal(c.dataDir, path.resolve('./data'));
  assert.equal(c.databaseUrl, `sqlite:${path.resolve('./data/pagoda.db')}`);
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.port, 8443);
  assert.equal(c.publicUrl, 'https://localhost:8443');
  assert.equal(c.tlsMinVersion, 'TLSv1.2');
  assert.equal(c.behindProxy, false);
  assert.deepEqual(c.notifySchedule, [30_000, 120_000, 240_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 54_000_000]);
  assert.equal(c.notifyTimeoutMs, 10_000);
  // A create waiting on its channel (up to the channel timeout) can finish before a clean stop gives up.
  assert.ok(c.shutdownTimeoutMs > c.channelTimeoutMs);
  assert.equal(c.orderTtlMs, 1_800_000);
  assert.equal(c.demoMerchant, true);
  assert.ok(Object.isFrozen(c));
});

test('PostgreSQL turns the demo merchant off by default', () => {
  assert.equal(loadConfig({ PAGODA_DATABASE_URL: 'postgres://u@h/db', PAGODA_MASTER_KEY: 'ab'.repeat(32) }).demoMerchant, false);
});

const bad: Array<[Record<string, string>, string]> = [
  [{ PAGODA_PORT: 'http' }, 'PAGODA_PORT'],
  [{ PAGODA_PORT: '70000' }, 'PAGODA_PORT'],
  [{ PAGODA_DATABASE_URL: 'mysql://x' }, 'PAGODA_DATABASE_URL'],
  [{ PAGODA_TLS_MIN_VERSION: 'TLSv1' }, 'PAGODA_TLS_MIN_VERSION'],
  [{ PAGODA_BEHIND_PROXY: 'maybe' }, 'PAGODA_BEHIND_PROXY'],
  [{ PAGODA_NOTIFY_SCHEDULE: '30s,soon' }, 'PAGODA_NOTIFY_SCHEDULE'],
  [{ PAGODA_ORDER_TTL: '30 minutes' }, 'PAGODA_ORDER_TTL'],
  [{ PAGODA_ORDER_TTL: '400d' }, 'PAGODA_ORDER_TTL: "400d" is longer than 366 days'],
  [{ PAGODA_NOTIFY_SCHEDULE: '30s,9999999999999h' }, 'PAGODA_NOTIFY_SCHEDULE'],
  [{ PAGODA_PUBLIC_URL: 'not a url' }, 'PAGODA_PUBLIC_URL'],
  [{ PAGODA_LOG_LEVEL: 'loud' }, 'PAGODA_LOG_LEVEL'],
  [{ PAGODA_NOTIFY_ALLOW_HOSTS: 'not a host!' }, 'PAGODA_NOTIFY_ALLOW_HOSTS'],
  [{ PAGODA_NOTIFY_ALLOW_HOSTS: '127.0.0.1,10.0.0.0/33' }, 'PAGODA_NOTIFY_ALLOW_HOSTS'],
  [{ PAGODA_MASTER_KEY: 'abc' }, 'PAGODA_MASTER_KEY'],
  [{ PAGODA_TLS_CERT: '/etc/pagoda/cert.pem' }, 'PAGODA_TLS_CERT and PAGODA_TLS_KEY'],
  [{ PAGODA_TLS_KEY: '/etc/pagoda/key.pem' }, 'PAGODA_TLS_CERT and PAGODA_TLS_KEY'],
  // Zero, or next to it, where something must last or wait.
  [{ PAGODA_NOTIFY_TIMEOUT: '0s' }, 'PAGODA_NOTIFY_TIMEOUT: "0s" must be at least 1ms'],
  [{ PAGODA_ORDER_TTL: '0s' }, 'PAGODA_ORDER_TTL: "0s" must be at least 1000ms'],
  [{ PAGODA_ORDER_TTL: '999ms' }, 'PAGODA_ORDER_TTL'],
  [{ PAGODA_CHANNEL_TIMEOUT: '0ms' }, 'PAGODA_CHANNEL_TIMEOUT'],
  [{ PAGODA_SHUTDOWN_TIMEOUT: '0s' }, 'PAGODA_SHUTDOWN_TIMEOUT'],
  [{ PAGODA_EXPIRY_INTERVAL: '0ms' }, 'PAGODA_EXPIRY_INTERVAL'],
  [{ PAGODA_EXPIRY_INTERVAL: '99ms' }, 'PAGODA_EXPIRY_INTERVAL: "99ms" must be at least 100ms'],
  // Node.js fires a timer longer than 2^31 - 1 ms after 1 ms: a 25-day shutdown timeout would exit at once.
  [{ PAGODA_SHUTDOWN_TIMEOUT: '25d' }, 'PAGODA_SHUTDOWN_TIMEOUT: "25d" must be at most 2147483647ms'],
  [{ PAGODA_EXPIRY_INTERVAL: '25d' }, 'PAGODA_EXPIRY_INTERVAL: "25d" must be at most'],
  [{ PAGODA_NOTIFY_TIMEOUT: '25d' }, 'PAGODA_NOTIFY_TIMEOUT: "25d" must be at most'],
  [{ PAGODA_CHANNEL_TIMEOUT: '25d' }, 'PAGODA_CHANNEL_TIMEOUT: "25d" must be at most'],
  [{ PAGODA_REQUEST_TIMEOUT: '25d' }, 'PAGODA_REQUEST_TIMEOUT: "25d" must be at most'],
  [{ PAGODA_SANDBOX_PAYOUT_DELAY: '25d' }, 'PAGODA_SANDBOX_PAYOUT_DELAY: "25d" must be at most'],
  [{ PAGODA_APP_CACHE_TTL: '25d' }, 'PAGODA_APP_CACHE_TTL: "25d" must be at most'],
  // A base for cashier links: no credentials, query or fragment to repeat in each.
  [{ PAGODA_PUBLIC_URL: 'https://user:pw@pay.example' }, 'PAGODA_PUBLIC_URL: must be a scheme, host'],
  [{ PAGODA_PUBLIC_URL: 'https://pay.example/?q=1' }, 'PAGODA_PUBLIC_URL: must be a scheme, host'],
  [{ PAGODA_PUBLIC_URL: 'https://pay.example/#top' }, 'PAGODA_PUBLIC_URL: must be a scheme, host'],
  [{ PAGODA_PUBLIC_URL: 'https://pay.example/?' }, 'PAGODA_PUBLIC_URL: must be a scheme, host'],
  [{ PAGODA_PUBLIC_URL: 'ftp://pay.example' }, 'PAGODA_PUBLIC_URL: must be an https (or http, behind a proxy) URL'],
  [{ PAGODA_DATABASE_URL: 'sqlite:' }, 'PAGODA_DATABASE_URL: sqlite: needs a file path'],
  [{ PAGODA_DATABASE_URL: 'postgres://u@h/db' }, 'PAGODA_MASTER_KEY: required with PostgreSQL'],
  [{ PAGODA_DB_POOL_SIZE: '0' }, 'PAGODA_DB_POOL_SIZE: must be from 1 to 1000'],
  [{ PAGODA_DB_POOL_SIZE: '1001' }, 'PAGODA_DB_POOL_SIZE: must be from 1 to 1000'],
  [{ PAGODA_DB_POOL_SIZE: '-3' }, 'PAGODA_DB_POOL_SIZE: "-3" is not a whole number'],
  [{ PAGODA_DB_POOL_SIZE: 'ten' }, 'PAGODA_DB_POOL_SIZE: "ten" is not a whole number'],
  [{ PAGODA_DATABASE_URL: 'postgres://u:pw@/db?host=/run/x', PAGODA_MASTER_KEY: 'ab'.repeat(32), PAGODA_DB_POOL_SIZE: '1.5' }, 'PAGODA_DB_POOL_SIZE: "1.5" is not a whole number'],
  [{ PAGODA_TRUSTED_PROXIES: 'garbage' }, 'PAGODA_TRUSTED_PROXIES: "garbage" is not an address'],
  [{ PAGODA_TRUSTED_PROXIES: '10.0.0.0/99' }, 'PAGODA_TRUSTED_PROXIES: "10.0.0.0/99"'],
];
for (const [env, name] of bad) {
  test(`a bad ${name} fails fast and names the variable`, () => {
    assert.throws(() => loadConfig(env), (err: unknown) => err instanceof ConfigError && err.message.startsWith(name));
  });
}

test('every variable of the operator interface is documented for --help', () => {
  const names = ENV_VARS.map((v) => v.name);
  for (const required of [
    'PAGODA_DATA_DIR', 'PAGODA_DATABASE_URL', 'PAGODA_HOST', 'PAGODA_PORT', 'PAGODA_PUBLIC_URL', 'PAGODA_TLS_CERT', 'PAGODA_TLS_KEY',
    'PAGODA_TLS_MIN_VERSION', 'PAGODA_BEHIND_PROXY', 'PAGODA_NOTIFY_SCHEDULE', 'PAGODA_NOTIFY_TIMEOUT', 'PAGODA_NOTIFY_REQUIRE_HTTPS',
    'PAGODA_NOTIFY_ALLOW_HOSTS', 'PAGODA_ORDER_TTL', 'PAGODA_MASTER_KEY', 'PAGODA_LOG_LEVEL',
  ]) {
    assert.ok(names.includes(required), required);
  }
});

test('a bad master key is refused without repeating the key', () => {
  const key = 'c2VjcmV0LWJ1dC10b28tc2hvcnQ=';
  assert.throws(() => loadConfig({ PAGODA_MASTER_KEY: key }), (err: unknown) => err instanceof ConfigError && !err.message.includes(key) && /32 bytes/.test(err.message));
});

test('a PostgreSQL URL that does not parse is refused without repeating it (it may hold a password)', () => {
  const url = 'postgres://u:s3cret@127.0.0.1:notaport/x';
  assert.throws(
    () => loadConfig({ PAGODA_DATABASE_URL: url, PAGODA_MASTER_KEY: 'ab'.repeat(32) }),
    (err: unknown) => err instanceof ConfigError && err.message === 'PAGODA_DATABASE_URL: not a valid postgres:// URL',
  );
});

test('PostgreSQL URLs in the forms libpq takes, a socket directory with credentials and no host included', () => {
  const key = { PAGODA_MASTER_KEY: 'ab'.repeat(32) };
  for (const url of [
    'postgres://pagoda:p%40ss@/pagoda?host=/var/run/postgresql',
    'postgresql://pagoda@/pagoda',
    'postgres:///pagoda?host=/var/run/postgresql&user=pagoda',
    'postgres://%2Fvar%2Frun%2Fpostgresql/pagoda',
    'postgres://pagoda:pw@db.internal:5432/pagoda?options=-csearch_path%3Dpagoda',
  ]) {
    assert.equal(loadConfig({ ...key, PAGODA_DATABASE_URL: url }).databaseUrl, url);
  }
  for (const url of ['postgres://u:pw@db.internal:notaport/x', 'postgres://u:pw@[::1/x', 'postgres://u:pw@?host=127.0.0.1', 'postgres://u:pw@#x', 'postgres://u:pw@']) {
    assert.throws(() => loadConfig({ ...key, PAGODA_DATABASE_URL: url }), /not a valid postgres:\/\/ URL/);
  }
});

test('the PostgreSQL pool holds 10 connections unless PAGODA_DB_POOL_SIZE says otherwise', () => {
  assert.equal(loadConfig({}).dbPoolSize, 10);
  assert.equal(loadConfig({ PAGODA_DB_POOL_SIZE: '4' }).dbPoolSize, 4);
  assert.equal(loadConfig({ PAGODA_DB_POOL_SIZE: '1000' }).dbPoolSize, 1000);
});

test('good values of the checked variables pass', () => {
  const edge = loadConfig({
    PAGODA_PUBLIC_URL: 'http://pay.example:8080/gateway/',
    PAGODA_TRUSTED_PROXIES: 'loopback, 10.0.0.0/8,fd00::/8,203.0.113.7',
    PAGODA_ORDER_TTL: '1s',
    PAGODA_EXPIRY_INTERVAL: '100ms',
    PAGODA_SANDBOX_PAYOUT_DELAY: '0s',
  });
  assert.deepEqual(
    [edge.publicUrl, edge.trustedProxies, edge.orderTtlMs, edge.expiryIntervalMs, edge.sandboxPayoutDelayMs],
    ['http://pay.example:8080/gateway', ['loopback', '10.0.0.0/8', 'fd00::/8', '203.0.113.7'], 1000, 100, 0],
  );
  const c = loadConfig({ PAGODA_LOG_LEVEL: 'debug', PAGODA_NOTIFY_ALLOW_HOSTS: '127.0.0.1,10.0.0.0/8,hooks.internal', PAGODA_MASTER_KEY: 'ab'.repeat(32) });
  assert.deepEqual([c.logLevel, c.notifyAllowHosts.length], ['debug', 3]);
});
