import type { Kysely } from 'kysely';

/**
 * An app's token epoch: every merchant token carries the epoch it was issued
 * in, and disabling the app moves the epoch on, so the tokens issued before
 * stay refused even if the app is enabled again within their 30 minutes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('apps').addColumn('token_epoch', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('apps').dropColumn('token_epoch').execute();
}
