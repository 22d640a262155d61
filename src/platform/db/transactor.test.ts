import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { openSqlite, type Db } from './database.ts';
import { migrateToLatest } from './migrate.ts';
import { createTransactor, type Transact } from './transactor.ts';

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
