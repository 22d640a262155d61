import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../database.ts';
import type { Database } from '../schema.ts';

/**
 * `notifications.origin` (scheme://host:port of the URL, which the worker's
 * fairness needs) joined migration 0002 after databases had been made with an
 * earlier 0002; on those, every state change failed to write its notification.
 * They get the column now, filled from each notification's URL. Everywhere else
 * (the column is there) this does nothing.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (await hasOrigin(db)) return;
  // SQLite adds a NOT NULL column only with a default; no row keeps it.
  await db.schema.alterTable('notifications').addColumn('origin', 'text', (c) => c.notNull().defaultTo('')).execute();
  const rows = await sql<{ id: string; url: string }>`select id, url from notifications`.execute(db);
  for (const { id, url } of rows.rows) {
    await sql`update notifications set origin = ${originOf(url)} where id = ${id}`.execute(db);
  }
}

/**
 * Whether the `notifications` the gateway uses has the column: on PostgreSQL the
 * one in the schema its tables were made in (another schema may have a table of
 * that name), on SQLite the one of the main database.
 */
async function hasOrigin(db: Kysely<unknown>): Promise<boolean> {
  const found =
    dialectOf(db as Kysely<Database>) === 'postgres'
      ? await sql`select 1 from information_schema.columns where table_schema = current_schema() and table_name = 'notifications' and column_name = 'origin'`.execute(db)
      : await sql`select 1 from pragma_table_info('notifications') where name = 'origin'`.execute(db);
  return found.rows.length > 0;
}

/** Written out here, not imported: a migration must do tomorrow what it does today. */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

// The column belongs to 0002's schema: going down past this leaves it.
export async function down(): Promise<void> {}
