import type { Kysely } from 'kysely';

/**
 * Jobs that look for orders of one direction in one state (the payout
 * recovery job) read this index instead of every order.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('orders_direction_status_idx').on('orders').columns(['direction', 'status', 'updated_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('orders_direction_status_idx').execute();
}
