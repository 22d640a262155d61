import { sql, type Kysely } from 'kysely';

/**
 * `notifications.origin` (scheme://host:port of the URL, which the worker's
 * fairness needs) joined migration 0002 after databases had been made with an
 * earlier 0002; on those, every state change failed to write its notification.
 * They get the column now, filled from each notification's URL. Everywhere else
 * (the column is there) this does nothing.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const tables = await db.introspection.getTables();
  const notifications = tables.find((t) => t.name === 'notifications');
  if (!notifications || notifications.columns.some((c) => c.name === 'origin')) return;
  // SQLite adds a NOT NULL column only with a default; no row keeps it.
  await db.schema.alterTable('notifications').addColumn('origin', 'text', (c) => c.notNull().defaultTo('')).execute();
  const rows = await sql<{ id: string; url: string }>`select id, url from notifications`.execute(db);
  for (const { id, url } of rows.rows) {
    await sql`update notifications set origin = ${originOf(url)} where id = ${id}`.execute(db);
  }
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
