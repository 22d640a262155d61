import type { Kysely } from 'kysely';

/**
 * Pending notifications by destination and merchant, oldest due first: when the
 * head of the queue is one busy destination's (or one merchant's failing
 * endpoint's) backlog, a claim looks pair by pair (one seek each) instead of
 * reading through that backlog.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('notifications_origin_due_idx').on('notifications').columns(['state', 'origin', 'merchant_id', 'next_attempt_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('notifications_origin_due_idx').execute();
}
