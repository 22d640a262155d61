/**
 * The operator CLI as real `pagoda` processes (operator-interface.md "CLI"):
 * merchants and apps, imported and rotated credentials, refusals, and secrets
 * that never appear in clear where they should not.
 */
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { loadAuthApp } from '../src/modules/merchants/merchant.service.ts';
import { parseMasterKey, SecretBox } from '../src/platform/secret-box.ts';
import { sql } from 'kysely';
import { createTestDatabase, PG_ADMIN_URL, TEST_DB } from './helpers/db.ts';
import { createWorkspace, type RunResult, type Workspace } from './helpers/process.ts';

// Each command is a new process (about 2.5 s on a slow 2-core VM, more while other test files run): a generous bound.
const T = { timeout: 180_000 };
const HEX32 = /^[0-9a-f]{32}$/;
// A merchant migrating from another Starpago-compatible provider keeps these (merchant-api.md test vector).
const IMPORTED = { appId: 'af37752d8bfc9c23ce9a39e6cf44d135', appSecret: 'daa153d25c25c3736b474a91aeaa7fa7' };

function json(run: RunResult): Record<string, any> {
  assert.equal(run.code, 0, `pagoda exited ${run.code ?? run.signal}\nstderr: ${run.stderr}\nstdout: ${run.stdout}`);
  const lines = run.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `--json should print exactly one line on stdout:\n${run.stdout}`);
  return JSON.parse(lines[0]!);
}

function assertRefused(run: RunResult, option: RegExp): void {
  assert.equal(run.code, 2, `expected exit code 2, got ${run.code ?? run.signal}\nstderr: ${run.stderr}\nstdout: ${run.stdout}`);
  assert.match(run.stderr, option, `the message should name the option: ${run.stderr}`);
  assert.doesNotMatch(run.stderr, /\n\s+at /, `a refusal is a message, not a stack trace:\n${run.stderr}`);
}

describe('pagoda merchant / app commands', () => {
  let ws: Workspace;
  /** Every command run, to check none printed the master key. */
  const runs: RunResult[] = [];
  /** Every app secret that exists, to check none is stored in clear. */
  const secrets: string[] = [];
  let merchantId: string;
  let firstApp: { appId: string; appSecret: string };
  const pagoda = async (...args: string[]) => {
    const run = await ws.run(args);
    runs.push(run);
    return run;
  };

  before(async () => {
    ws = await createWorkspace();
  });
  after(() => ws?.cleanup());

  it('a refused merchant create leaves nothing behind, not even a new database', T, async () => {
    const fresh = await createWorkspace();
    try {
      assertRefused(await fresh.run(['merchant', 'create', '--name', '', '--currencies', 'MXN']), /name: 1 to 128 characters/);
      assertRefused(await fresh.run(['merchant', 'create', '--name', 'Line\nBreak', '--currencies', 'MXN']), /name: must not contain control or format characters/);
      assert.deepEqual(fs.readdirSync(fresh.dataDir), [], 'no database, no master key');
    } finally {
      await fresh.cleanup();
    }
  });

  it('merchant create --json prints {merchantId, appId, appSecret}', T, async () => {
    const out = json(await pagoda('merchant', 'create', '--name', 'Acme', '--currencies', 'MXN,BRL', '--json'));
    assert.deepEqual(Object.keys(out).sort(), ['appId', 'appSecret', 'merchantId']);
    assert.equal(typeof out.merchantId, 'string');
    assert.ok(out.merchantId.length > 0);
    assert.match(out.appId, HEX32);
    assert.match(out.appSecret, HEX32);
    assert.notEqual(out.appId, out.appSecret);
    merchantId = out.merchantId;
    firstApp = { appId: out.appId, appSecret: out.appSecret };
    secrets.push(out.appSecret);
  });

  it('app create --scope payout --json prints a new app', T, async () => {
    const out = json(await pagoda('app', 'create', '--merchant', merchantId, '--scope', 'payout', '--json'));
    assert.deepEqual(Object.keys(out).sort(), ['appId', 'appSecret']);
    assert.match(out.appId, HEX32);
    assert.match(out.appSecret, HEX32);
    assert.notEqual(out.appId, firstApp.appId);
    secrets.push(out.appSecret);
    await ws.withDb(async (db) => {
      const row = await db.selectFrom('apps').select(['merchant_id', 'scopes']).where('app_id', '=', out.appId).executeTakeFirstOrThrow();
      assert.deepEqual(row, { merchant_id: merchantId, scopes: 'payout' });
    });
  });

  it('app create imports existing credentials; importing the same appId again exits 2 with a clear message', T, async () => {
    const out = json(await pagoda('app', 'create', '--merchant', merchantId, '--app-id', IMPORTED.appId, '--app-secret', IMPORTED.appSecret, '--json'));
    assert.deepEqual(out, IMPORTED);
    secrets.push(IMPORTED.appSecret);
    const again = await pagoda('app', 'create', '--merchant', merchantId, '--app-id', IMPORTED.appId, '--app-secret', 'ffffffffffffffffffffffffffffffff', '--json');
    assertRefused(again, new RegExp(IMPORTED.appId));
    assert.match(again.stderr, /exists/);
    assert.equal(again.stdout, '');
  });

  it('app rotate --grace 1h --json prints a new secret; the old one stays valid for the grace period', T, async () => {
    const before = Date.now();
    const out = json(await pagoda('app', 'rotate', '--app-id', IMPORTED.appId, '--grace', '1h', '--reason', 'leaked in a log', '--json'));
    assert.equal(out.appId, IMPORTED.appId);
    const audit = await ws.withDb((db) => db.selectFrom('audit_log').select(['actor', 'reason']).where('action', '=', 'app.rotate').where('subject', '=', IMPORTED.appId).execute());
    assert.deepEqual(audit.map((a) => a.reason), ['leaked in a log']);
    assert.match(audit[0]!.actor, /^cli:/);
    assert.match(out.appSecret, HEX32);
    assert.notEqual(out.appSecret, IMPORTED.appSecret);
    secrets.push(out.appSecret);
    const until = Date.parse(out.oldSecretValidUntil);
    assert.ok(Math.abs(until - (before + 3_600_000)) < 60_000, `old secret valid until ${out.oldSecretValidUntil}`);

    // What authentication sees: both secrets, newest first, decrypted with the master key the CLI used.
    await ws.withDb(async (db) => {
      const auth = await loadAuthApp(db, new SecretBox(parseMasterKey(masterKey(ws))), Date.now(), IMPORTED.appId);
      assert.deepEqual(auth?.secrets, [out.appSecret, IMPORTED.appSecret]);
      const later = await loadAuthApp(db, new SecretBox(parseMasterKey(masterKey(ws))), Date.now() + 3_700_000, IMPORTED.appId);
      assert.deepEqual(later?.secrets, [out.appSecret], 'the old secret must expire after the grace period');
    });
  });

  it('merchant update --disable / --enable switches the merchant, with the reason in the audit log', T, async () => {
    assert.deepEqual(json(await pagoda('merchant', 'update', '--merchant', merchantId, '--disable', '--reason', 'chargebacks under review', '--json')), { merchantId, status: 'disabled' });
    const statusOf = () =>
      ws.withDb(async (db) => {
        const row = await db.selectFrom('merchants').select('status').where('id', '=', merchantId).executeTakeFirstOrThrow();
        const audits = await db.selectFrom('audit_log').select(['action', 'detail']).where('subject', '=', merchantId).execute();
        return { status: row.status, audits: audits.filter((a) => a.action !== 'merchant.create').map((a) => `${a.action} ${String(a.detail)}`) };
      });
    const disabled = await statusOf();
    assert.equal(disabled.status, 'disabled');
    assert.match(disabled.audits.join('\n'), /merchant\.disable .*chargebacks under review/);
    assert.deepEqual(json(await pagoda('merchant', 'update', '--merchant', merchantId, '--enable', '--reason', 'cleared', '--json')), { merchantId, status: 'active' });
    assert.equal((await statusOf()).status, 'active');
    assertRefused(await pagoda('merchant', 'update', '--merchant', merchantId, '--disable', '--enable', '--reason', 'x'), /--disable and --enable/);
    assertRefused(await pagoda('merchant', 'update', '--merchant', merchantId, '--reason', 'x'), /--disable and --enable/);
    const unknown = await pagoda('merchant', 'update', '--merchant', 'mch_NOPE', '--disable', '--reason', 'x');
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /merchant mch_NOPE does not exist/);
  });

  it('a bad configuration or an unreachable database is a one-line message, not a stack trace', T, async () => {
    const fine = await pagoda('migrate', '--json');
    assert.equal(fine.code, 0, fine.stderr);
    assertRefused(await ws.run(['migrate'], { PAGODA_LOG_LEVEL: 'loud' }), /PAGODA_LOG_LEVEL: "loud" must be one of/);
    assertRefused(await ws.run(['migrate'], { PAGODA_NOTIFY_ALLOW_HOSTS: 'not a host!' }), /PAGODA_NOTIFY_ALLOW_HOSTS: invalid allow-list entry/);
    const unreachable = await ws.run(['migrate'], { PAGODA_DATABASE_URL: 'postgres://pagoda@127.0.0.1:1/none', PAGODA_MASTER_KEY: 'ab'.repeat(32) });
    assert.equal(unreachable.code, 3, unreachable.stderr);
    assert.match(unreachable.stderr, /^pagoda: cannot use the database \(ECONNREFUSED\)/);
    assert.doesNotMatch(unreachable.stderr, /\n\s+at /);
  });

  it('a PostgreSQL refusal (no TLS where the URL asks for it, a read-only role) exits 3 with one line, not 1 with a stack trace', { ...T, skip: TEST_DB !== 'postgres' && 'PostgreSQL only' }, async () => {
    const key = { PAGODA_MASTER_KEY: 'ab'.repeat(32) };
    const noTls = new URL(PG_ADMIN_URL);
    noTls.searchParams.set('sslmode', 'verify-full');
    const tlsRun = await ws.run(['ledger', 'check'], { ...key, PAGODA_DATABASE_URL: noTls.toString() });
    assert.equal(tlsRun.code, 3, tlsRun.stderr);
    assert.match(tlsRun.stderr, /^pagoda: cannot use the database/m);
    assert.doesNotMatch(tlsRun.stderr, /\n\s+at /);
    const db = await createTestDatabase('postgres');
    try {
      const readOnly = new URL(db.url);
      readOnly.searchParams.set('options', '-c default_transaction_read_only=on');
      const run = await ws.run(['migrate'], { ...key, PAGODA_DATABASE_URL: readOnly.toString() });
      assert.equal(run.code, 3, run.stderr);
      assert.match(run.stderr, /^pagoda: cannot use the database \(25006\): cannot execute CREATE TABLE in a read-only transaction$/m);
      assert.doesNotMatch(run.stderr, /\n\s+at /);
    } finally {
      await db.drop();
    }
  });

  it('a master key that does not open the database is refused before anything is written', T, async () => {
    const keys = () => ws.withDb(async (db) => (await db.selectFrom('signing_keys').select('kid').execute()).length);
    const rotated = await pagoda('keys', 'rotate', '--reason', 'yearly', '--json');
    assert.equal(rotated.code, 0, rotated.stderr);
    const kid = JSON.parse(rotated.stdout).kid as string;
    const audit = await ws.withDb((db) => db.selectFrom('audit_log').select(['actor', 'reason']).where('action', '=', 'keys.rotate').where('subject', '=', kid).execute());
    assert.deepEqual(audit.map((a) => a.reason), ['yearly'], 'a key rotation is audited with its reason, in its own transaction');
    const before = await keys();
    const wrong = { PAGODA_MASTER_KEY: 'cd'.repeat(32) };
    for (const args of [['keys', 'rotate'], ['merchant', 'create', '--name', 'X', '--currencies', 'MXN']]) {
      assertRefused(await ws.run(args, wrong), /^pagoda: PAGODA_MASTER_KEY does not open the secrets this database holds/);
    }
    assert.equal(await keys(), before, 'no signing key sealed with the wrong key');
    assert.equal((await pagoda('keys', 'rotate', '--json')).code, 0, 'the right key still works');
  });

  it('a port already taken, or a database migrated by a newer version, is a one-line message', T, async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    try {
      const port = String((holder.address() as net.AddressInfo).port);
      const taken = await ws.run(['serve'], { PAGODA_PORT: port });
      assert.equal(taken.code, 1, taken.stderr);
      assert.match(taken.stderr, /^pagoda: .*EADDRINUSE/);
      assert.doesNotMatch(taken.stderr, /\n\s+at /);
      // A listening host that does not resolve is named as the setting it is, not blamed on the database.
      const nowhere = await ws.run(['serve'], { PAGODA_PORT: port, PAGODA_HOST: 'nowhere.invalid' });
      assert.equal(nowhere.code, 2, nowhere.stderr);
      assert.match(nowhere.stderr, /^pagoda: PAGODA_HOST: cannot listen on "nowhere.invalid": /);
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
    await ws.withDb((db) => sql`insert into pagoda_migrations (name, timestamp) values ('0099_future', '2099-01-01T00:00:00.000Z')`.execute(db));
    try {
      assertRefused(await pagoda('migrate'), /^pagoda: the database has migration 0099_future, which this version does not know: it was migrated by a newer version/);
    } finally {
      await ws.withDb((db) => sql`delete from pagoda_migrations where name = '0099_future'`.execute(db));
    }
  });

  it('a data directory whose master.key or demo-merchant.json is damaged is a one-line message naming the file', T, async () => {
    const dataDir = fs.mkdtempSync(path.join(ws.dataDir, 'damaged-'));
    const embedded = { PAGODA_DATA_DIR: dataDir, PAGODA_DATABASE_URL: '', PAGODA_MASTER_KEY: '' };
    assert.equal((await ws.run(['merchant', 'create', '--name', 'Y', '--currencies', 'MXN'], embedded)).code, 0, 'the embedded default starts');
    const keyFile = path.join(dataDir, 'master.key');
    const key = fs.readFileSync(keyFile, 'utf8');
    for (const damaged of ['', 'garbage\n', key.slice(0, 40)]) {
      fs.writeFileSync(keyFile, damaged);
      assertRefused(await ws.run(['merchant', 'create', '--name', 'X', '--currencies', 'MXN'], embedded), /^pagoda: .*damaged-\w+\/master\.key: not a master key/);
    }
    fs.writeFileSync(keyFile, key);
    const demoFile = path.join(dataDir, 'demo-merchant.json');
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = String((holder.address() as net.AddressInfo).port);
    await new Promise<void>((resolve) => holder.close(() => resolve()));
    for (const damaged of ['{"merchantId":', '[]', '{"merchantId":"m","appId":1}']) {
      fs.writeFileSync(demoFile, damaged);
      assertRefused(await ws.run(['serve'], { ...embedded, PAGODA_PORT: port }), /^pagoda: .*demo-merchant\.json: not the demo merchant's credentials/);
    }
  });

  it('a mistyped data directory is refused, not given a new empty database (where ledger check would pass)', T, async () => {
    const mistyped = path.join(ws.dataDir, 'no-such-dir');
    const env = { PAGODA_DATA_DIR: mistyped, PAGODA_DATABASE_URL: '', PAGODA_MASTER_KEY: '' };
    for (const args of [['ledger', 'check'], ['balance', 'show', '--merchant', 'm_x'], ['order', 'show', 'PI_x']]) {
      assertRefused(await ws.run(args, env), /no database at .*no-such-dir.*pagoda\.db: check PAGODA_DATA_DIR/);
    }
    assert.equal(fs.existsSync(mistyped), false, 'nothing was created');
  });

  it('notify list: an empty list for a merchant without notifications; an unknown merchant or order is refused', T, async () => {
    const listed = await pagoda('notify', 'list', '--merchant', merchantId, '--json');
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(JSON.parse(listed.stdout), []);
    assertRefused(await pagoda('notify', 'list', '--merchant', 'mch_NOPE', '--json'), /merchant mch_NOPE does not exist/);
    assertRefused(await pagoda('notify', 'list', '--order', 'PI_NOPE', '--json'), /order PI_NOPE does not exist/);
    for (const limit of ['1e2', '0x10', ' 5', '0', '10001', '2.5']) assertRefused(await pagoda('notify', 'list', '--limit', limit), /limit: a whole number from 1 to 10000/);
    // Nothing left to apply is said, not left blank.
    assert.equal((await pagoda('migrate')).stdout, 'applied  (none)\n');
    assertRefused(await pagoda('notify', 'list', '--status', 'lost'), /status: pending, delivered or exhausted/);
    assertRefused(await pagoda('notify', 'resend', '--order', 'PI_NOPE'), /PI_NOPE/);
  });

  it('notify prune: refuses a cut-off under a day or not a duration; prints what it deleted', T, async () => {
    assertRefused(await pagoda('notify', 'prune', '--older-than', '23h'), /older-than: at least 1d/);
    assertRefused(await pagoda('notify', 'prune', '--older-than', '90'), /"90" is not a duration/);
    assertRefused(await pagoda('notify', 'prune'), /required option '--older-than <duration>'/);
    const run = await pagoda('notify', 'prune', '--older-than', '90d', '--reason', 'retention', '--json');
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout);
    assert.deepEqual({ ...out, before: undefined }, { before: undefined, notifications: 0, attempts: 0 });
    assert.ok(Math.abs(Date.parse(out.before) - (Date.now() - 90 * 86_400_000)) < 60_000, out.before);
  });

  it('merchant show: status, currencies with the default first, and apps without their secrets', T, async () => {
    const run = await pagoda('merchant', 'show', '--merchant', merchantId, '--json');
    const shown = json(run);
    assert.equal(shown.merchantId, merchantId);
    assert.deepEqual(shown.currencies, ['MXN', 'BRL']);
    assert.ok(shown.apps.some((a: Record<string, unknown>) => a.appId === firstApp.appId && a.status === 'active'));
    for (const secret of secrets) assert.ok(!run.stdout.includes(secret), 'no secret is shown');
    assertRefused(await pagoda('merchant', 'show', '--merchant', 'mch_NOPE'), /merchant mch_NOPE does not exist/);
  });

  it('method list and method banks: the catalogue and the bank codes, without a database', T, async () => {
    const listed = json(await pagoda('method', 'list', '--currency', 'pkr', '--json'));
    assert.deepEqual(listed.map((m: Record<string, unknown>) => m.method), ['PK_WALLET', 'PK_DF']);
    assert.deepEqual(listed[0].payinExtra, ['payType', 'mobile']);
    const banks = json(await pagoda('method', 'banks', '--country', 'id', '--json'));
    assert.deepEqual(banks.find((b: Record<string, unknown>) => b.bankCode === 'BCA'), { bankCode: 'BCA', name: 'Bank Central Asia', kind: 'bank', aliases: ['014'] });
    assertRefused(await pagoda('method', 'banks', '--country', 'XX'), /country: XX is not one of/);
    assertRefused(await pagoda('method', 'banks', '--country', 'IN'), /IFSC/);
    assertRefused(await pagoda('method', 'list', '--currency', 'EURO'), /currency/);
    const before = await ws.withDb((db) => db.selectFrom('method_settings').selectAll().execute());
    assertRefused(await pagoda('method', 'set', '--merchant', merchantId, '--method', 'MX_SPEI', '--disable', '--enable'), /at most one of --disable and --enable/);
    // A typo that would refuse every amount of the method.
    assertRefused(await pagoda('method', 'set', '--merchant', merchantId, '--method', 'MX_SPEI', '--min', '100', '--max', '50'), /min: must not exceed max/);
    assert.deepEqual(await ws.withDb((db) => db.selectFrom('method_settings').selectAll().execute()), before);
    const set = await pagoda('method', 'set', '--merchant', merchantId, '--method', 'MX_SPEI', '--fee-bps', '250', '--fee-fixed', '1.5', '--max', '50000', '--reason', 'new contract');
    assert.equal(set.code, 0, set.stderr);
    const audit = await ws.withDb((db) => db.selectFrom('audit_log').select(['reason', 'detail']).where('action', '=', 'method.set').where('subject', '=', merchantId).execute());
    assert.deepEqual(
      audit.map((a) => [a.reason, JSON.parse(a.detail!)]),
      [['new contract', { method: 'MX_SPEI', direction: 'payin', channel: 'sandbox', enabled: true, feeBps: 250, feeFixed: '1.5', min: null, max: '50000' }]],
      'what the settings became is in the audit log, not only the channel',
    );
  });

  it('bad input exits 2 with a message naming the option', T, async () => {
    assertRefused(await pagoda('merchant', 'create', '--name', 'Bad', '--currencies', 'XXX1', '--json'), /currenc/i);
    assertRefused(await pagoda('app', 'create', '--merchant', merchantId, '--scope', 'admin', '--json'), /scope/i);
    assertRefused(await pagoda('app', 'create', '--merchant', merchantId, '--app-id', 'AF37752D8BFC9C23CE9A39E6CF44D135', '--app-secret', IMPORTED.appSecret), /app-?id/i);
    assertRefused(await pagoda('app', 'rotate', '--app-id', firstApp.appId, '--grace', 'soon'), /grace|duration/i);
    // Refused before anything is written: the app keeps exactly the secrets it had.
    const secretsBefore = await ws.withDb((db) => db.selectFrom('app_secrets').select('id').where('app_id', '=', firstApp.appId).execute());
    assertRefused(await pagoda('app', 'rotate', '--app-id', firstApp.appId, '--grace', '99999999999h', '--json'), /^pagoda: grace: "99999999999h" is longer than 366 days/);
    assert.deepEqual(await ws.withDb((db) => db.selectFrom('app_secrets').select('id').where('app_id', '=', firstApp.appId).execute()), secretsBefore);
    assertRefused(await pagoda('app', 'update', '--app-id', firstApp.appId, '--disable', '--enable'), /at most one of --disable and --enable/);
    assertRefused(await pagoda('app', 'update', '--app-id', firstApp.appId), /nothing to change/);
    assertRefused(await pagoda('merchant', 'update', '--merchant', merchantId, '--disable', '--reason', ' '), /reason/);
    const app = await ws.withDb((db) => db.selectFrom('apps').select('status').where('app_id', '=', firstApp.appId).executeTakeFirstOrThrow());
    assert.equal(app.status, 'active');
  });

  it('no command printed the master key', T, () => {
    const key = masterKey(ws);
    const forms = [key, Buffer.from(key, 'hex').toString('base64'), Buffer.from(key, 'hex').toString('base64url')];
    assert.ok(runs.length >= 8);
    for (const run of runs) {
      for (const form of forms) assert.ok(!(run.stdout + run.stderr).includes(form), `the master key was printed:\n${run.stdout}${run.stderr}`);
    }
  });

  it('no app secret is stored in clear: not in any table, not in the SQLite files', T, async () => {
    assert.equal(secrets.length, 4);
    await ws.withDb(async (db) => {
      const stored = await db.selectFrom('app_secrets').selectAll().execute();
      assert.equal(stored.length, 4, 'one row per secret (three apps, one rotation)');
      for (const table of ['merchants', 'merchant_currencies', 'apps', 'app_secrets', 'signing_keys', 'audit_log'] as const) {
        const dump = JSON.stringify(await db.selectFrom(table).selectAll().execute(), (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
        for (const secret of secrets) assert.ok(!dump.includes(secret), `${table} holds an app secret in clear`);
      }
    });
    if (ws.db.dialect === 'sqlite') {
      const files = fs.readdirSync(ws.dataDir).filter((f) => f.startsWith('pagoda.db'));
      assert.ok(files.includes('pagoda.db'), `no SQLite file in ${fs.readdirSync(ws.dataDir).join(', ')}`);
      for (const file of files) {
        const bytes = fs.readFileSync(path.join(ws.dataDir, file));
        for (const secret of secrets) {
          assert.equal(bytes.indexOf(secret, 0, 'latin1'), -1, `${file} holds an app secret in clear`);
          assert.equal(bytes.indexOf(Buffer.from(secret, 'hex')), -1, `${file} holds an app secret's bytes in clear`);
        }
      }
    }
  });
});

/** The master key the commands used: the test key on PostgreSQL, the generated one on SQLite. */
function masterKey(ws: Workspace): string {
  if (ws.env.PAGODA_MASTER_KEY) return ws.env.PAGODA_MASTER_KEY;
  const file = path.join(ws.dataDir, 'master.key');
  assert.ok(fs.existsSync(file), 'SQLite: the master key should be generated into the data directory');
  return fs.readFileSync(file, 'utf8').trim();
}
