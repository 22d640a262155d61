import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { openDatabase } from '../../platform/db/database.ts';
import { migrateToLatest } from '../../platform/db/migrate.ts';
import { registerNotifyMetrics } from './notify.metrics.ts';

test('metrics answer while the database cannot be read: backlog unknown (NaN), pagoda_database_up 0', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagoda-metrics-'));
  try {
    const db = openDatabase(`sqlite:${path.join(dir, 'm.db')}`);
    await migrateToLatest(db);
    const registry = new Registry();
    registerNotifyMetrics(registry, { db, clock: { now: () => Date.now() } });
    const up = await registry.metrics();
    assert.match(up, /^pagoda_database_up 1$/m);
    assert.match(up, /^pagoda_notify_backlog 0$/m);
    await db.destroy();
    await new Promise((resolve) => setImmediate(resolve)); // a later scrape
    const down = await registry.metrics();
    assert.match(down, /^pagoda_database_up 0$/m);
    assert.match(down, /^pagoda_notify_backlog NaN$/im);
    assert.match(down, /^pagoda_notify_oldest_due_age_seconds NaN$/im);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
