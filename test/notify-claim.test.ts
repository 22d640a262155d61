/**
 * The claim of due notifications when a busy destination's backlog fills the
 * head of the queue (a merchant whose endpoint is down, thousands due): the
 * rows of every other destination are still claimed oldest first, with the
 * merchant and merchant-destination skips applied, on SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { claimDue, HEAD_SCAN } from '../src/modules/notify/notify.repository.ts';
import { TEST_DB } from './helpers/db.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { paidPayin } from './helpers/payins.ts';

const BUSY = 'https://busy.example';
const LEASE_MS = 60_000;

describe('claiming around a busy destination', () => {
  let gw: TestGateway;
  let now: number;

  let templateId: string;

  /** Copies of the order's own notification (kept out of the way): [id, merchant, origin, due offset from now]. */
  async function insert(rows: ReadonlyArray<readonly [string, string, string, number]>) {
    const template = await gw.core.db.selectFrom('notifications').selectAll().where('id', '=', templateId).executeTakeFirstOrThrow();
    const values = rows.map(([id, merchant, origin, due]) => ({ ...template, id, merchant_id: merchant, url: `${origin}/notify`, origin, next_attempt_at: now + due, state: 'pending', lease_until: null }));
    for (let i = 0; i < values.length; i += 100) await gw.core.db.insertInto('notifications').values(values.slice(i, i + 100)).execute();
  }

  before(async () => {
    gw = await startGateway();
    now = gw.clock.now();
    const order = await paidPayin(gw, await gw.merchant(['MXN']), 'https://merchant.example/notify');
    templateId = (await gw.core.db.selectFrom('notifications').select('id').where('order_no', '=', order).executeTakeFirstOrThrow()).id;
    await gw.core.db.updateTable('notifications').set({ state: 'delivered' }).where('id', '=', templateId).execute();
    const busy = Array.from({ length: HEAD_SCAN + 30 }, (_, i) => [`busy_${String(i).padStart(4, '0')}`, 'mch_a', BUSY, -100_000 + i] as const);
    await insert([
      ...busy,
      ['y_500', 'mch_a', 'https://y.example', -500],
      ['z_450', 'mch_b', 'https://z.example', -450],
      ['w_460', 'mch_hot', 'https://w.example', -460],
      ['v_470', 'mch_a', 'https://v.example', -470],
      ['v_440', 'mch_b', 'https://v.example', -440],
      ['y_400', 'mch_a', 'https://y.example', -400],
      ['z_350', 'mch_b', 'https://z.example', -350],
      ['y_300', 'mch_a', 'https://y.example', -300],
      ['y_later', 'mch_a', 'https://y.example', 1_000],
    ]);
  });
  after(() => gw?.close());

  const skips = { origins: [BUSY], merchants: ['mch_hot'], pairs: [['mch_a', 'https://v.example'] as const] };
  // Which rows a claim takes (it returns them in no particular order).
  const claim = async (limit: number) => (await claimDue(gw.core.db, now, LEASE_MS, limit, skips)).map((n) => n.id).sort();

  test('the oldest due rows of the other destinations, whatever the busy backlog ahead of them', async () => {
    assert.deepEqual(await claim(4), ['v_440', 'y_400', 'y_500', 'z_450']);
    assert.deepEqual(await claim(4), ['y_300', 'z_350']);
    assert.deepEqual(await claim(4), [], 'nothing else is due outside the skips');
    const claimed = await gw.core.db.selectFrom('notifications').select(['id', 'lease_until']).where('lease_until', '=', BigInt(now + LEASE_MS)).execute();
    assert.deepEqual(claimed.map((n) => n.id).sort(), ['v_440', 'y_300', 'y_400', 'y_500', 'z_350', 'z_450']);
  });

  test('a merchant whose endpoint is failing is left out there; another merchant behind it on the same destination is claimed', async () => {
    await insert([['busy_other', 'mch_c', BUSY, -250]]);
    const rows = await claimDue(gw.core.db, now, LEASE_MS, 10, { pairs: [['mch_a', BUSY], ['mch_a', 'https://v.example']], merchants: ['mch_hot'] });
    assert.deepEqual(rows.map((n) => n.id), ['busy_other']);
  });

  test('without skips the busy backlog is claimed as any other, oldest first', async () => {
    const rows = await claimDue(gw.core.db, now, LEASE_MS, 3);
    assert.deepEqual(rows.map((n) => n.id).sort(), ['busy_0000', 'busy_0001', 'busy_0002']);
  });

  test('a head the busy backlog fills but for a few: the rows behind it come in the same claim', async () => {
    // Only HEAD_SCAN - 10 busy rows are due now (the rest later), then 15 of another destination.
    await gw.core.db.updateTable('notifications').set({ next_attempt_at: now + 5_000 }).where('origin', '=', BUSY).where('id', '>=', `busy_${String(HEAD_SCAN - 10).padStart(4, '0')}`).execute();
    const others = Array.from({ length: 15 }, (_, i) => [`q_${String(i).padStart(2, '0')}`, 'mch_b', 'https://q.example', -200 + i] as const);
    await insert(others);
    const claimed = (await claimDue(gw.core.db, now, LEASE_MS, 50, { origins: [BUSY] })).map((n) => n.id).sort();
    // With the busy destination alone left out, the two rows the merchant skips held back before come too.
    assert.deepEqual(claimed, [...others.map(([id]) => id), 'v_470', 'w_460']);
  });

  test('claims made at once never take the same row', async () => {
    await gw.core.db.updateTable('notifications').set({ next_attempt_at: now - 1, lease_until: null }).where('origin', '!=', BUSY).where('state', '=', 'pending').where('id', '!=', 'y_later').execute();
    const due = await gw.core.db.selectFrom('notifications').select('id').where('origin', '!=', BUSY).where('state', '=', 'pending').where('next_attempt_at', '<=', BigInt(now)).execute();
    const expected = due.map((n) => n.id).filter((id) => id !== 'w_460' && id !== 'v_470').sort();
    assert.equal(expected.length, 21);
    const all = (await Promise.all(Array.from({ length: 4 }, () => claim(5)))).flat();
    assert.equal(new Set(all).size, all.length, `a row claimed twice: ${all.join(',')}`);
    // Whatever a claim lost to another at once is still there for the next one.
    const rest = await claim(50);
    assert.deepEqual([...all, ...rest].sort(), expected);
  });
});

describe('claims beyond the head, made at once', () => {
  let gw: TestGateway;
  let now: number;
  const PAIRS = 40;
  const PER_PAIR = 30;

  before(async () => {
    gw = await startGateway();
    now = gw.clock.now();
    const order = await paidPayin(gw, await gw.merchant(['MXN']), 'https://merchant.example/notify');
    const template = await gw.core.db.selectFrom('notifications').selectAll().where('order_no', '=', order).executeTakeFirstOrThrow();
    await gw.core.db.updateTable('notifications').set({ state: 'delivered' }).where('id', '=', template.id).execute();
    const row = (id: string, merchant: string, origin: string, due: number) => ({ ...template, id, merchant_id: merchant, url: `${origin}/notify`, origin, next_attempt_at: now + due, state: 'pending', lease_until: null });
    const values = [
      ...Array.from({ length: HEAD_SCAN + 50 }, (_, i) => row(`busy_${String(i).padStart(4, '0')}`, 'mch_a', BUSY, -100_000 + i)),
      ...Array.from({ length: PAIRS * PER_PAIR }, (_, i) => row(`p_${String(i).padStart(4, '0')}`, `mch_${i % PAIRS}`, `https://p${i % 7}.example`, -50_000 + i)),
      row('y_1', 'mch_y', 'https://y.example', -60_000),
    ];
    for (let i = 0; i < values.length; i += 100) await gw.core.db.insertInto('notifications').values(values.slice(i, i + 100)).execute();
  });
  after(() => gw?.close());

  const skips = { origins: [BUSY] };

  test('a claim told to read the head only leaves the rows beyond it for a later claim', async () => {
    assert.deepEqual(await claimDue(gw.core.db, now, LEASE_MS, 10, { ...skips, headOnly: true }), []);
    const held = await gw.core.db.selectFrom('notifications').select('id').where('lease_until', 'is not', null).execute();
    assert.deepEqual(held, []);
  });

  test('rows another claim holds are passed over, not waited for', { skip: TEST_DB !== 'postgres' && 'PostgreSQL: SQLite has one writer at a time' }, async () => {
    const others = await gw.core.db.selectFrom('notifications').select('id').where('id', 'like', 'p_%').execute();
    const claimed = await gw.core.db.transaction().execute(async (holder) => {
      // Another worker's claim, not yet committed, holds every row but one.
      await sql`select id from notifications where id like 'p_%' for update`.execute(holder);
      const timeout = new Promise<'waited'>((resolve) => setTimeout(() => resolve('waited'), 3_000).unref());
      return Promise.race([claimDue(gw.core.db, now, LEASE_MS, 10, skips), timeout]);
    });
    assert.notEqual(claimed, 'waited', 'the claim waited for the rows another one holds');
    assert.deepEqual((claimed as { id: string }[]).map((n) => n.id), ['y_1']);
    assert.equal(others.length, PAIRS * PER_PAIR);
  });

  test('however many of the oldest rows claims under way hold, a claim with little room reads further', { skip: TEST_DB !== 'postgres' && 'PostgreSQL: SQLite has one writer at a time' }, async () => {
    const claimed = await gw.core.db.transaction().execute(async (holder) => {
      // Other workers' claims, not yet committed, hold the 300 oldest rows beyond the head.
      await sql`select id from notifications where id in (select id from notifications where id like 'p_%' order by next_attempt_at limit 300) for update`.execute(holder);
      return claimDue(gw.core.db, now, LEASE_MS, 2, skips);
    });
    assert.deepEqual(claimed.map((n) => n.id).sort(), ['p_0300', 'p_0301']);
    await gw.core.db.updateTable('notifications').set({ next_attempt_at: now - 1, lease_until: null }).where('id', 'in', ['p_0300', 'p_0301']).execute();
  });

  test('four claims at once each take a full batch while enough rows are due, none twice', async () => {
    const seen = new Set<string>();
    for (let round = 0; round < 8; round++) {
      const batches = await Promise.all(Array.from({ length: 4 }, () => claimDue(gw.core.db, now, LEASE_MS, 10, skips)));
      assert.deepEqual(batches.map((b) => b.length), [10, 10, 10, 10], `round ${round}`);
      for (const n of batches.flat()) {
        assert.ok(!seen.has(n.id), `${n.id} claimed twice`);
        assert.notEqual(n.origin, BUSY);
        seen.add(n.id);
      }
    }
  });
});

describe('a claim that fails beyond the head', () => {
  let gw: TestGateway;
  after(() => gw?.close());

  test("gives the head's rows back instead of holding them unsent for a lease", async () => {
    gw = await startGateway();
    const now = gw.clock.now();
    const order = await paidPayin(gw, await gw.merchant(['MXN']), 'https://merchant.example/notify');
    const template = await gw.core.db.selectFrom('notifications').selectAll().where('order_no', '=', order).executeTakeFirstOrThrow();
    await gw.core.db.updateTable('notifications').set({ state: 'delivered' }).where('id', '=', template.id).execute();
    const row = (id: string, origin: string, due: number) => ({ ...template, id, url: `${origin}/notify`, origin, next_attempt_at: now + due, state: 'pending', lease_until: null });
    const values = [row('head_1', 'https://h.example', -200_000), ...Array.from({ length: HEAD_SCAN + 10 }, (_, i) => row(`busy_${String(i).padStart(4, '0')}`, BUSY, -100_000 + i)), row('boom_1', 'https://boom.example', -50_000)];
    for (let i = 0; i < values.length; i += 100) await gw.core.db.insertInto('notifications').values(values.slice(i, i + 100)).execute();
    // The claim of the row beyond the head fails (as a statement can: a deadlock, a lost connection).
    if (TEST_DB === 'postgres') {
      await sql`create function boom() returns trigger language plpgsql as $$ begin raise exception 'boom'; end $$`.execute(gw.core.db);
      await sql`create trigger boom before update on notifications for each row when (new.origin = 'https://boom.example') execute function boom()`.execute(gw.core.db);
    } else {
      await sql`create trigger boom before update on notifications for each row when new.origin = 'https://boom.example' begin select raise(abort, 'boom'); end`.execute(gw.core.db);
    }
    await assert.rejects(claimDue(gw.core.db, now, LEASE_MS, 10, { origins: [BUSY] }), /boom/);
    const head = await gw.core.db.selectFrom('notifications').select(['lease_until', 'next_attempt_at']).where('id', '=', 'head_1').executeTakeFirstOrThrow();
    assert.equal(head.lease_until, null, 'not held under a lease');
    assert.ok(Number(head.next_attempt_at) <= now, 'due again at once');
    await sql.raw(TEST_DB === 'postgres' ? 'drop trigger boom on notifications' : 'drop trigger boom').execute(gw.core.db);
    assert.deepEqual((await claimDue(gw.core.db, now, LEASE_MS, 10, { origins: [BUSY] })).map((n) => n.id).sort(), ['boom_1', 'head_1']);
  });
});
