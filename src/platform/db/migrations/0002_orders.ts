import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('orders')
    .addColumn('order_no', 'text', (c) => c.primaryKey())
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
    .addColumn('app_id', 'text', (c) => c.notNull())
    .addColumn('generation', 'text', (c) => c.notNull())
    .addColumn('mer_order_no', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('paid_amount', 'bigint')
    .addColumn('fee', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('method', 'text')
    .addColumn('channel', 'text')
    .addColumn('channel_ref', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('acknowledged', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('attach', 'text')
    .addColumn('notify_url', 'text', (c) => c.notNull())
    .addColumn('return_url', 'text')
    .addColumn('extra', 'text')
    .addColumn('params', 'text')
    .addColumn('message', 'text')
    .addColumn('expires_at', 'bigint')
    // When a recovery job last asked the channel about this order.
    .addColumn('checked_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('version', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  // Idempotency rests on this constraint, not on a read before the write.
  await db.schema
    .createIndex('orders_merchant_ref_uq')
    .on('orders')
    .columns(['merchant_id', 'direction', 'mer_order_no'])
    .unique()
    .execute();
  await db.schema.createIndex('orders_status_expiry_idx').on('orders').columns(['status', 'expires_at']).execute();

  await db.schema
    .createTable('order_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('order_no', 'text', (c) => c.notNull().references('orders.order_no'))
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('from_status', 'text')
    .addColumn('to_status', 'text', (c) => c.notNull())
    .addColumn('cause', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('detail', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  // The order's version at each change: history has one total order per order.
  await db.schema.createIndex('order_events_order_seq_uq').on('order_events').columns(['order_no', 'seq']).unique().execute();

  await db.schema
    .createTable('method_settings')
    .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('enabled', 'bigint', (c) => c.notNull().defaultTo(1))
    .addColumn('fee_bps', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('fee_fixed', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('min_amount', 'bigint')
    .addColumn('max_amount', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('method_settings_pk', ['merchant_id', 'direction', 'method'])
    .execute();

  // Upstream reports already applied: a resent report is recognised by its id.
  await db.schema
    .createTable('channel_events')
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('order_no', 'text', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('channel_events_pk', ['channel', 'event_id'])
    .execute();

  // The sandbox channel's "bank": what it was told happened to each order.
  await db.schema
    .createTable('sandbox_bank')
    .addColumn('order_no', 'text', (c) => c.primaryKey())
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('paid_amount', 'bigint')
    .addColumn('event_id', 'text')
    .addColumn('due_at', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sandbox_bank_due_idx').on('sandbox_bank').columns(['direction', 'status', 'due_at']).execute();

  await db.schema
    .createTable('notifications')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('order_no', 'text', (c) => c.notNull().references('orders.order_no'))
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('app_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    // scheme://host:port of url: the worker claims around destinations that are busy.
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_until', 'bigint')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('delivered_at', 'bigint')
    .execute();
  await db.schema.createIndex('notifications_due_idx').on('notifications').columns(['state', 'next_attempt_at']).execute();
  await db.schema.createIndex('notifications_order_idx').on('notifications').column('order_no').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['notifications', 'sandbox_bank', 'channel_events', 'method_settings', 'order_events', 'orders']) {
    await db.schema.dropTable(table).execute();
  }
}
