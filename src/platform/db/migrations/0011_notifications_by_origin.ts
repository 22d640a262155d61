import type { Kysely } from 'kysely';

/**
 * Pending notifications by destination, oldest due first: when the head of the
 * queue is one busy destination's backlog, a claim looks destination by
 * destination (one seek each) instead of reading through that backlog.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('notifications_origin_due_idx').on('notifications').columns(['state', 'origin', 'next_attempt_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('notifications_origin_due_idx').execute();
}
