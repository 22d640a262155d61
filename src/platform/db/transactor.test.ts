import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { openSqlite, type Db } from './database.ts';
import { migrateToLatest } from './migrate.ts';
import { createTransactor, GATHER_MAX_TURNS, GATHER_MAX_UNITS, keepGathering, type Transact } from './transactor.ts';

let dir: string;
let db: Db;
let transact: Transact;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagoda-tx-'));
  db = openSqlite(path.join(dir, 'db.sqlite'));
  await migrateToLatest(db);
  transact = createTransactor(db);
});
after(async () => {
  await db.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
});

const insertKey = (tx: Db, kid: string) =>
  tx.insertInto('signing_keys').values({ kid, alg: 'HS256', key_enc: 'x', created_at: 1, retired_at: null }).execute();
const kids = async () => (await db.selectFrom('signing_keys').select('kid').orderBy('kid').execute()).map((r) => r.kid);

test('concurrent units share commits; a failing unit rolls back alone', async () => {
  const results = await Promise.allSettled(
    Array.from({ length: 50 }, (_, i) =>
      transact(async (tx) => {
        await insertKey(tx, `k${String(i).padStart(2, '0')}`);
        if (i % 10 === 3) throw new Error(`unit ${i} fails`);
        return i;
      }),
    ),
  );
  const failed = results.filter((r) => r.status === 'rejected').length;
  assert.equal(failed, 5);
  const stored = await kids();
  assert.equal(stored.length, 45);
  for (const bad of ['k03', 'k13', 'k23', 'k33', 'k43']) assert.ok(!stored.includes(bad), bad);
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') assert.equal(r.value, i);
  });
});

test('a unit sees its own writes and its promise settles after the commit', async () => {
  const value = await transact(async (tx) => {
    await insertKey(tx, 'own');
    return (await tx.selectFrom('signing_keys').select('kid').where('kid', '=', 'own').executeTakeFirst())?.kid;
  });
  assert.equal(value, 'own');
  // Visible to a fresh connection: committed, not only inside the batch.
  const other = openSqlite(path.join(dir, 'db.sqlite'));
  try {
    assert.ok(await other.selectFrom('signing_keys').select('kid').where('kid', '=', 'own').executeTakeFirst());
  } finally {
    await other.destroy();
  }
});

test('a constraint violation fails only its unit', async () => {
  const [dup, fresh] = await Promise.allSettled([transact((tx) => insertKey(tx, 'own')), transact((tx) => insertKey(tx, 'fresh'))]);
  assert.equal(dup.status, 'rejected');
  assert.equal(fresh.status, 'fulfilled');
  assert.ok((await kids()).includes('fresh'));
});

test('units arriving in the same turn share one transaction (one commit)', async () => {
  const seen = new Set<Db>();
  await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      transact(async (tx) => {
        seen.add(tx);
        await insertKey(tx, `g${String(i).padStart(2, '0')}`);
      }),
    ),
  );
  assert.equal(seen.size, 1);
});

test('a group commit waits a turn more only while units keep arriving, within its bounds', () => {
  const cases: [queued: number, before: number, turns: number, wait: boolean][] = [
    [1, 1, 0, false], // a lone unit: nothing arrived in its turn
    [5, 1, 0, true],
    [5, 5, 3, false], // arrivals stopped
    [9, 5, GATHER_MAX_TURNS - 1, true],
    [9, 5, GATHER_MAX_TURNS, false], // waited long enough
    [GATHER_MAX_UNITS - 1, 1, 0, true],
    [GATHER_MAX_UNITS, 1, 0, false], // full
  ];
  for (const [queued, before, turns, wait] of cases) assert.equal(keepGathering(queued, before, turns), wait, `${queued} ${before} ${turns}`);
});

test('units arriving over consecutive turns join one commit; a lone unit waits no more than before', async () => {
  const seen = new Set<Db>();
  const unit = (i: number) =>
    transact(async (tx) => {
      seen.add(tx);
      await insertKey(tx, `t${String(i).padStart(2, '0')}`);
    });
  // As requests read in successive turns of a busy server: two, then one more each turn.
  const pending: Promise<void>[] = [unit(0), unit(1)];
  for (let i = 2; i < 5; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    pending.push(unit(i));
  }
  await Promise.all(pending);
  assert.equal(seen.size, 1);

  let turns = 0;
  let counting = true;
  const count = () => {
    turns++;
    if (counting) setImmediate(count);
  };
  setImmediate(count);
  await unit(99);
  counting = false;
  assert.ok(turns <= 3, `a lone unit committed after ${turns} turns`);
});

test('a unit whose error made SQLite end the whole transaction fails its batch with its own error, and nothing commits', async () => {
  // SQLite ends the transaction by itself on some errors (a full disk while writing the WAL);
  // a unit that ends it and throws stands for that here.
  const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
  const results = await Promise.allSettled([
    transact((tx) => insertKey(tx, 'ended-before')),
    transact(async (tx) => {
      await insertKey(tx, 'ended-self');
      await sql`rollback`.execute(tx);
      throw full;
    }),
    transact((tx) => insertKey(tx, 'ended-after')),
  ]);
  assert.deepEqual(
    results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'committed')),
    ['database or disk is full', 'database or disk is full', 'database or disk is full'],
    'not "no such savepoint" or "cannot rollback - no transaction is active"',
  );
  assert.deepEqual((await kids()).filter((k) => k.startsWith('ended-')), []);
  // The next batch works.
  await transact((tx) => insertKey(tx, 'ended-next'));
  assert.deepEqual((await kids()).filter((k) => k.startsWith('ended-')), ['ended-next']);
});
