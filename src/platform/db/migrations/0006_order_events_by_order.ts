import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../database.ts';
import type { Database } from '../schema.ts';

const COLUMNS = sql.raw('id, order_no, seq, from_status, to_status, cause, actor, detail, created_at');

/**
 * An order's history is keyed by (order_no, seq), the key it is read and
 * checked by, instead of by its own id: each entry is then one B-tree insert
 * (SQLite: a WITHOUT ROWID table) instead of three (table, id, (order_no,
 * seq)), and on PostgreSQL one index less. Every state change writes history,
 * so this is on every write path. `id` stays, unindexed: nothing reads by it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (isPostgres(db)) {
    await sql`alter table order_events drop constraint order_events_pkey`.execute(db);
    await sql`alter table order_events add constraint order_events_pkey primary key using index order_events_order_seq_uq`.execute(db);
    return;
  }
  await rebuildHistory(db, 'order');
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (isPostgres(db)) {
    await sql`alter table order_events drop constraint order_events_pkey`.execute(db);
    await sql`alter table order_events add constraint order_events_pkey primary key (id)`.execute(db);
  } else {
    await rebuildHistory(db, 'id');
  }
  await sql`create unique index order_events_order_seq_uq on order_events (order_no, seq)`.execute(db);
}

/** SQLite: order_events rebuilt with its rows, keyed by (order_no, seq) without rowid, or by id as before. */
async function rebuildHistory(db: Kysely<unknown>, key: 'order' | 'id'): Promise<void> {
  const byOrder = key === 'order';
  await sql`create table order_events_rebuilt (
    id text ${sql.raw(byOrder ? 'not null' : 'primary key')},
    order_no text not null references orders (order_no),
    seq bigint not null,
    from_status text,
    to_status text not null,
    cause text not null,
    actor text not null,
    detail text,
    created_at bigint not null${sql.raw(byOrder ? ',\n    primary key (order_no, seq)' : '')}
  )${sql.raw(byOrder ? ' without rowid' : '')}`.execute(db);
  await sql`insert into order_events_rebuilt (${COLUMNS}) select ${COLUMNS} from order_events`.execute(db);
  await sql`drop table order_events`.execute(db);
  await sql`alter table order_events_rebuilt rename to order_events`.execute(db);
}

function isPostgres(db: Kysely<unknown>): boolean {
  return dialectOf(db as Kysely<Database>) === 'postgres';
}
