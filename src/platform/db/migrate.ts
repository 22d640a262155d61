import { Migrator, sql, type Migration, type MigrationProvider } from 'kysely';
import { AppError, conflict } from '../errors.ts';
import type { Db } from './database.ts';
import * as m0001 from './migrations/0001_foundation.ts';
import * as m0002 from './migrations/0002_orders.ts';
import * as m0003 from './migrations/0003_notification_attempts.ts';
import * as m0004 from './migrations/0004_ledger.ts';
import * as m0005 from './migrations/0005_orders_by_direction.ts';
import * as m0006 from './migrations/0006_order_events_by_order.ts';
import * as m0007 from './migrations/0007_orders_one_job_index.ts';
import * as m0008 from './migrations/0008_app_token_epoch.ts';
import * as m0009 from './migrations/0009_notification_origin.ts';
import * as m0010 from './migrations/0010_ledger_balance_range.ts';
import * as m0011 from './migrations/0011_notifications_by_origin.ts';

/** Migrations in order. Append; never edit one that has shipped. */
const MIGRATIONS: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_orders': m0002,
  '0003_notification_attempts': m0003,
  '0004_ledger': m0004,
  '0005_orders_by_direction': m0005,
  '0006_order_events_by_order': m0006,
  '0007_orders_one_job_index': m0007,
  '0008_app_token_epoch': m0008,
  '0009_notification_origin': m0009,
  '0010_ledger_balance_range': m0010,
  '0011_notifications_by_origin': m0011,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

const LATEST = Object.keys(MIGRATIONS).at(-1)!;

/**
 * Readiness of the schema: the database holds this version's last migration, or
 * a later one (a newer version migrated it; the schema only grows). A database
 * re-created empty under a running process is not ready.
 */
export async function requireSchema(db: Db): Promise<void> {
  const found = await sql<{ name: string | null }>`select max(name) as name from pagoda_migrations`.execute(db).then(
    (r) => r.rows[0]?.name ?? null,
    () => null,
  );
  if (found === null || found < LATEST) throw new AppError('NOT_READY', `the database schema is not this version's (${found ?? 'none'}, needs ${LATEST})`, 'not ready');
}

/**
 * Applies pending migrations. Safe when several processes start at once: on
 * PostgreSQL the migrator holds an advisory lock; on SQLite the migrations run
 * in one transaction that begins IMMEDIATE (see database.ts), so a second
 * process waits for the first and then finds nothing to do.
 */
export async function migrateToLatest(db: Db): Promise<string[]> {
  // Nothing pending (every start, every CLI command): a read, without the migrator's lock,
  // so that a read-only command runs while another process holds SQLite's write lock.
  if (await upToDate(db)) return [];
  const { error, results } = await migrator(db).migrateToLatest();
  // Kysely's words for a database migrated by a newer version (a rolling deploy, a rollback).
  const newer = error instanceof Error ? /previously executed migration (\S+) is missing/.exec(error.message) : null;
  if (newer) throw conflict(`the database has migration ${newer[1]}, which this version does not know: it was migrated by a newer version of pagoda; run that version`);
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Whether the database holds exactly this version's migrations (none missing, none unknown). */
async function upToDate(db: Db): Promise<boolean> {
  const applied = await sql<{ name: string }>`select name from pagoda_migrations order by name`.execute(db).then(
    (r) => r.rows.map((row) => row.name),
    () => undefined,
  );
  const known = Object.keys(MIGRATIONS);
  return applied !== undefined && applied.length === known.length && applied.every((name, i) => name === known[i]);
}

/** The migrator of this schema on `db`; migrateToLatest runs it to the last migration. */
export function migrator(db: Db): Migrator {
  return new Migrator({
    db,
    provider,
    migrationTableName: 'pagoda_migrations',
    migrationLockTableName: 'pagoda_migrations_lock',
  });
}
