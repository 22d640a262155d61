import type { Kysely } from 'kysely';

/**
 * The two jobs that look for orders by state (pay-in expiry: a direction and
 * status, by `expires_at`; payout recovery: a direction and status, no
 * expiry, by `updated_at`) share one index instead of one each: every order
 * written and every change of status updates one index less.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('orders_jobs_idx').on('orders').columns(['direction', 'status', 'expires_at', 'updated_at']).execute();
  await db.schema.dropIndex('orders_status_expiry_idx').execute();
  await db.schema.dropIndex('orders_direction_status_idx').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('orders_status_expiry_idx').on('orders').columns(['status', 'expires_at']).execute();
  await db.schema.createIndex('orders_direction_status_idx').on('orders').columns(['direction', 'status', 'updated_at']).execute();
  await db.schema.dropIndex('orders_jobs_idx').execute();
}
