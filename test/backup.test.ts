/**
 * `pagoda backup` as an operator runs it: a real `pagoda` process copying the
 * SQLite database while another process keeps writing, the copy restored into
 * a new data directory, checked by `ledger check` and served by `pagoda serve`
 * with the same merchant credentials (the master key travels with it).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Agent, request } from 'undici';
import { loadConfig } from '../src/config.ts';
import { openCore, type Core } from '../src/core.ts';
import { getBalance } from '../src/modules/ledger/balance.service.ts';
import { adjust } from '../src/modules/ledger/ledger.service.ts';
import { createMerchant, type Credentials } from '../src/modules/merchants/merchant.service.ts';
import { openSqliteReadOnly } from '../src/platform/db/snapshot.ts';
import { TEST_DB } from './helpers/db.ts';
import { TEST_MASTER_KEY } from './helpers/gateway.ts';
import { createWorkspace, freePort, waitUntil, type RunResult, type Workspace } from './helpers/process.ts';
import { httpsStatus } from './helpers/tls-client.ts';

const T = { timeout: 120_000 };
const QUIET = { PAGODA_DEMO_MERCHANT: '0', PAGODA_LOG_LEVEL: 'warn' };

function refused(run: RunResult, message: RegExp): void {
  assert.equal(run.code, 2, `expected exit code 2, got ${run.code ?? run.signal}\nstderr: ${run.stderr}\nstdout: ${run.stdout}`);
  assert.match(run.stderr, message);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'a refusal is a message, not a stack trace');
}

const modeOf = (file: string) => fs.statSync(file).mode & 0o777;

function scratch(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagoda-backup-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function workspace(t: TestContext, env: Record<string, string> = {}): Promise<{ ws: Workspace; core: Core; creds: Credentials }> {
  const ws = await createWorkspace();
  const core = await openCore(loadConfig({ ...ws.env, ...env }));
  t.after(async () => {
    await core.db.destroy();
    await ws.cleanup();
  });
  const creds = await core.db.transaction().execute((tx) => createMerchant(tx, { box: core.box, now: Date.now(), actor: 'test' }, { name: 'Backup Co', currencies: ['MXN'] }));
  return { ws, core, creds };
}

/** Adjustments of `from` + 1, + 2, … minor units, each committed on its own, until stopped; `committed` is the last made. */
function startWriter(core: Core, merchantId: string, from = 0) {
  const state = { committed: from, stopped: false, failure: undefined as unknown };
  const done = (async () => {
    try {
      while (!state.stopped) {
        const amount = BigInt(state.committed + 1);
        await core.db.transaction().execute((tx) => adjust(tx, { now: Date.now(), actor: 'test:writer' }, { merchantId, currency: 'MXN', account: 'payout', amount, reason: 'backup test' }));
        state.committed++;
        // SQLite answers in microtasks: without a turn of the event loop, nothing else (the child's exit) would run.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      state.failure = err;
    }
  })();
  return {
    state,
    async stop() {
      state.stopped = true;
      await done;
      if (state.failure) throw state.failure;
    },
  };
}

/** 1 + 2 + … + k */
const triangle = (k: number) => BigInt(k * (k + 1)) / 2n;

/** What a copy holds: the audited adjustments and the payout balance they made. */
async function copyState(file: string, merchantId: string): Promise<{ adjustments: number; payout: bigint }> {
  const db = openSqliteReadOnly(file);
  try {
    const row = await db.selectFrom('audit_log').select((eb) => eb.fn.countAll<bigint>().as('n')).where('action', '=', 'balance.adjust').executeTakeFirstOrThrow();
    return { adjustments: Number(row.n), payout: (await getBalance(db, merchantId, 'MXN')).payout };
  } finally {
    await db.destroy();
  }
}

describe('pagoda backup', () => {
  if (TEST_DB === 'postgres') {
    it('refuses a PostgreSQL database, naming pg_dump, and makes nothing', T, async (t) => {
      const { ws } = await workspace(t);
      const target = path.join(scratch(t), 'copy');
      refused(await ws.run(['backup', '--to', target]), /^pagoda: backup copies a SQLite database; back up PostgreSQL with pg_dump/);
      assert.equal(fs.existsSync(target), false);
    });
    return;
  }

  it('copies the database while another process writes: a consistent snapshot that restores with its secrets', T, async (t) => {
    const { ws, core, creds } = await workspace(t);
    const dir = scratch(t);

    // Commits the writer's connection has not checkpointed yet (they are in the WAL only) are in the copy.
    let writer = startWriter(core, creds.merchantId);
    assert.ok(await waitUntil(async () => writer.state.committed >= 40, 20_000), 'the writer is writing');
    await writer.stop();
    const quiet = writer.state.committed;
    const first = await ws.run(['backup', '--to', path.join(dir, 'quiet')]);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(await copyState(path.join(dir, 'quiet', 'pagoda.db'), creds.merchantId), { adjustments: quiet, payout: triangle(quiet) });

    // While the writer writes, the copy holds the first k adjustments, each whole.
    writer = startWriter(core, creds.merchantId, quiet);
    assert.ok(await waitUntil(async () => writer.state.committed >= quiet + 50, 20_000), 'the writer is writing again');
    const before = writer.state.committed;
    const target = path.join(dir, 'copy');
    const run = await ws.run(['backup', '--to', target, '--json']);
    const after = writer.state.committed;
    await writer.stop();
    assert.equal(run.code, 0, run.stderr);
    assert.ok(after > before, `the writer kept committing while the copy was made (${before} → ${after})`);

    const out = JSON.parse(run.stdout);
    const database = path.join(target, 'pagoda.db');
    assert.deepEqual(out, { backup: target, database, bytes: fs.statSync(database).size, orders: 0, masterKey: 'copied', tls: 'none in the data directory' });
    assert.deepEqual(fs.readdirSync(dir).sort(), ['copy', 'quiet'], 'no partial directory left beside them');
    assert.deepEqual(fs.readdirSync(target).sort(), ['master.key', 'pagoda.db'], 'nothing else: no journal, no partial file');
    assert.equal(modeOf(target), 0o700);
    assert.equal(modeOf(database), 0o600);
    assert.equal(modeOf(path.join(target, 'master.key')), 0o600);
    assert.equal(fs.readFileSync(path.join(target, 'master.key'), 'utf8'), fs.readFileSync(path.join(ws.dataDir, 'master.key'), 'utf8'));
    const copied = await copyState(database, creds.merchantId);
    const k = copied.adjustments;
    assert.equal(copied.payout, triangle(k), `the payout balance is not 1 + 2 + … + ${k}: the copy is not one moment's state`);
    assert.ok(k >= before && k <= after, `the copy holds ${k} adjustments; the writer had made ${before} when the copy began and ${after} when it ended`);

    // Restored as the README says: the backup's directory copied as a new data directory.
    const restored = path.join(dir, 'data');
    execFileSync('cp', ['-a', target, restored]);
    const env = { PAGODA_DATA_DIR: restored, ...QUIET };
    const check = await ws.run(['ledger', 'check'], env);
    assert.equal(check.code, 0, check.stdout + check.stderr);

    const port = await freePort();
    const server = ws.spawn(['serve'], { ...env, PAGODA_PORT: String(port) });
    assert.ok(await waitUntil(async () => (await httpsStatus(port, '/readyz').catch(() => 0)) === 200, 30_000), `not ready: ${server.stderr()}`);
    const agent = new Agent({ connect: { rejectUnauthorized: false } });
    t.after(() => agent.close());
    const call = async (method: 'GET' | 'POST', pathname: string, body?: unknown, token?: string) => {
      const res = await request(`https://127.0.0.1:${port}${pathname}`, {
        method,
        dispatcher: agent,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return (await res.body.json()) as Record<string, any>;
    };
    const token = await call('POST', '/api/v3/oauth/token', { grant_type: 'client_credentials', app_id: creds.appId, app_secret: creds.appSecret });
    assert.equal(token.code, 0, JSON.stringify(token));
    const balance = await call('GET', '/api/v3/merchant/balance?currency=MXN', undefined, token.data.token);
    assert.equal(balance.code, 0, JSON.stringify(balance));
    assert.equal(BigInt(Math.round(balance.data.payoutValue * 100)), triangle(k));
  });

  it('changes nothing at the source: an older schema is copied as it is, a missing master key is refused, not made', T, async (t) => {
    const { ws } = await workspace(t);
    const file = path.join(ws.dataDir, 'pagoda.db');
    // One release behind: the last migration not applied yet.
    const latest = (db: BetterSqlite3.Database) => (db.prepare('select name from pagoda_migrations order by name desc limit 1').get() as { name: string }).name;
    const source = new BetterSqlite3(file);
    const newest = latest(source);
    source.prepare('delete from pagoda_migrations where name = ?').run(newest);
    source.close();
    const dir = scratch(t);
    const run = await ws.run(['backup', '--to', path.join(dir, 'old')]);
    assert.equal(run.code, 0, run.stderr);
    for (const db of [new BetterSqlite3(file, { readonly: true }), new BetterSqlite3(path.join(dir, 'old', 'pagoda.db'), { readonly: true })]) {
      assert.notEqual(latest(db), newest, 'migrated by a backup');
      db.close();
    }

    const key = path.join(ws.dataDir, 'master.key');
    fs.renameSync(key, `${key}.away`);
    refused(await ws.run(['backup', '--to', path.join(dir, 'nokey')]), /^pagoda: no master key: \S+master\.key does not exist and PAGODA_MASTER_KEY is not set$/m);
    assert.equal(fs.existsSync(key), false, 'a new master key was made');
    fs.renameSync(`${key}.away`, key);
    assert.deepEqual(fs.readdirSync(dir), ['old']);
  });

  it('copies the data directory\'s own certificate and key with the database', T, async (t) => {
    const { ws } = await workspace(t);
    fs.mkdirSync(path.join(ws.dataDir, 'tls'), { mode: 0o700 });
    fs.writeFileSync(path.join(ws.dataDir, 'tls', 'cert.pem'), 'CERT\n');
    fs.writeFileSync(path.join(ws.dataDir, 'tls', 'key.pem'), 'KEY\n', { mode: 0o600 });
    const target = path.join(scratch(t), 'copy');
    const run = await ws.run(['backup', '--to', target, '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).tls, 'copied');
    assert.deepEqual(fs.readdirSync(path.join(target, 'tls')).sort(), ['cert.pem', 'key.pem']);
    for (const [name, text] of [['cert.pem', 'CERT\n'], ['key.pem', 'KEY\n']] as const) {
      assert.equal(fs.readFileSync(path.join(target, 'tls', name), 'utf8'), text);
      assert.equal(modeOf(path.join(target, 'tls', name)), 0o600);
    }
  });

  it('with PAGODA_MASTER_KEY the key is not copied, and the answer says where it must come from', T, async (t) => {
    const env = { PAGODA_MASTER_KEY: TEST_MASTER_KEY };
    const { ws } = await workspace(t, env);
    const target = path.join(scratch(t), 'copy');
    const run = await ws.run(['backup', '--to', target], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^masterKey\s+not copied: it comes from PAGODA_MASTER_KEY; keep that key with this backup$/m);
    assert.deepEqual(fs.readdirSync(target), ['pagoda.db']);
    assert.match(run.stdout, /^tls\s+none in the data directory$/m);
    assert.ok(!run.stdout.includes(TEST_MASTER_KEY));
  });

  it('refuses an existing target, and reports a missing parent or database; makes nothing', T, async (t) => {
    const { ws } = await workspace(t);
    const dir = scratch(t);
    fs.mkdirSync(path.join(dir, 'taken'));
    fs.writeFileSync(path.join(dir, 'taken', 'keep.txt'), 'x');
    refused(await ws.run(['backup', '--to', path.join(dir, 'taken')]), /--to: \S+taken already exists; a backup goes into a new directory/);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'taken')), ['keep.txt']);
    fs.writeFileSync(path.join(dir, 'file'), 'x');
    refused(await ws.run(['backup', '--to', path.join(dir, 'file')]), /already exists/);

    const orphan = await ws.run(['backup', '--to', path.join(dir, 'no', 'such')]);
    assert.equal(orphan.code, 1, orphan.stderr);
    assert.match(orphan.stderr, /^pagoda: \S+\/no does not exist \(the directory --to is made in\) \(ENOENT\)$/m);

    refused(await ws.run(['backup', '--to', path.join(dir, 'a')], { PAGODA_DATA_DIR: path.join(dir, 'nowhere') }), /no database at \S+nowhere\/pagoda\.db/);
    refused(await ws.run(['backup']), /required option '--to <dir>'/);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['file', 'taken']);
    assert.equal(fs.existsSync(path.join(dir, 'nowhere')), false, 'no data directory made for a database that is not there');
  });
});
