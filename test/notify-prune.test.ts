/**
 * `pagoda notify prune`: delivered and exhausted notifications older than the
 * cut-off go, with their attempts, across several pages of the walk; pending
 * ones and recent ones stay; the prune is audited before it deletes; bad input
 * changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MIN_PRUNE_AGE_MS, pruneNotifications } from '../src/modules/notify/notify.service.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { paidPayin } from './helpers/payins.ts';

const DAY = 86_400_000;

describe('notify prune', () => {
  let gw: TestGateway;
  let now: number;

  before(async () => {
    gw = await startGateway();
    now = gw.clock.now();
    const order = await paidPayin(gw, await gw.merchant(['MXN']), 'https://merchant.example/notify');
    const template = await gw.core.db.selectFrom('notifications').selectAll().where('order_no', '=', order).executeTakeFirstOrThrow();
    await gw.core.db.deleteFrom('notifications').where('id', '=', template.id).execute();
    // More than one page (500) of old final notifications, and some that must stay.
    const rows: Array<[string, string, number]> = [];
    for (let i = 0; i < 620; i++) rows.push([`ntf_old_${String(i).padStart(4, '0')}`, i % 3 === 0 ? 'exhausted' : 'delivered', now - 40 * DAY]);
    rows.push(['ntf_old_pending', 'pending', now - 40 * DAY], ['ntf_recent', 'delivered', now - 29 * DAY], ['ntf_edge', 'delivered', now - 30 * DAY]);
    for (let i = 0; i < rows.length; i += 100) {
      await gw.core.db
        .insertInto('notifications')
        .values(rows.slice(i, i + 100).map(([id, state, at]) => ({ ...template, id, state, updated_at: at, created_at: at, next_attempt_at: at })))
        .execute();
    }
    // Two attempts for every notification.
    const attempts = rows.flatMap(([id, , at]) =>
      [1, 2].map((n) => ({ id: `${id}_a${n}`, notification_id: id, attempt_no: BigInt(n), started_at: at, url: template.url, request_headers: '{}', request_body: '{}', duration_ms: 5n, outcome: 'failed' })),
    );
    for (let i = 0; i < attempts.length; i += 200) await gw.core.db.insertInto('notification_attempts').values(attempts.slice(i, i + 200)).execute();
  });
  after(() => gw?.close());

  const ids = async () => (await gw.core.db.selectFrom('notifications').select('id').orderBy('id').execute()).map((r) => r.id);

  test('refuses a cut-off under a day or a bad reason, and deletes nothing', async () => {
    const count = (await ids()).length;
    await assert.rejects(pruneNotifications(gw.core.db, now, { olderThanMs: MIN_PRUNE_AGE_MS - 1, actor: 'test' }), { detail: /^older-than: at least 1d/ });
    await assert.rejects(pruneNotifications(gw.core.db, now, { olderThanMs: 30 * DAY, actor: 'test', reason: 'a\nb' }), { detail: /^reason: must not contain control characters/ });
    assert.equal((await ids()).length, count);
    assert.equal((await gw.core.db.selectFrom('audit_log').select('id').where('action', 'like', 'notify.prune%').execute()).length, 0);
  });

  test('deletes final notifications older than the cut-off with their attempts; keeps pending and recent ones', async () => {
    const result = await pruneNotifications(gw.core.db, now, { olderThanMs: 30 * DAY, actor: 'cli:ops', reason: 'retention' });
    assert.deepEqual(result, { before: now - 30 * DAY, notifications: 620, attempts: 1240 });
    assert.deepEqual(await ids(), ['ntf_edge', 'ntf_old_pending', 'ntf_recent']);
    const attempts = await gw.core.db.selectFrom('notification_attempts').select('notification_id').execute();
    assert.deepEqual([...new Set(attempts.map((a) => a.notification_id))].sort(), ['ntf_edge', 'ntf_old_pending', 'ntf_recent']);
    const audit = await gw.core.db.selectFrom('audit_log').selectAll().where('action', 'like', 'notify.prune%').orderBy('id').execute();
    const cutOff = new Date(now - 30 * DAY).toISOString();
    assert.deepEqual(
      audit.map((a) => [a.action, a.actor, a.reason, JSON.parse(a.detail!)]),
      [
        ['notify.prune', 'cli:ops', 'retention', { before: cutOff }],
        ['notify.prune.done', 'cli:ops', null, { before: cutOff, notifications: 620, attempts: 1240 }],
      ],
    );
    // Again: nothing left to delete.
    assert.deepEqual(await pruneNotifications(gw.core.db, now, { olderThanMs: 30 * DAY, actor: 'cli:ops' }), { before: now - 30 * DAY, notifications: 0, attempts: 0 });
  });
});
