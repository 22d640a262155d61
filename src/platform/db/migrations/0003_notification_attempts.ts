import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('notification_attempts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('notification_id', 'text', (c) => c.notNull().references('notifications.id'))
    .addColumn('attempt_no', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('request_headers', 'text', (c) => c.notNull())
    .addColumn('request_body', 'text', (c) => c.notNull())
    .addColumn('response_status', 'bigint')
    .addColumn('response_body', 'text')
    .addColumn('duration_ms', 'bigint', (c) => c.notNull())
    .addColumn('error_class', 'text')
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .execute();
  await db.schema.createIndex('notification_attempts_ntf_idx').on('notification_attempts').columns(['notification_id', 'attempt_no']).execute();
  await db.schema.createIndex('notifications_merchant_idx').on('notifications').columns(['merchant_id', 'state']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('notifications_merchant_idx').execute();
  await db.schema.dropTable('notification_attempts').execute();
}
