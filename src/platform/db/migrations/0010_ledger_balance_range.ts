import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../database.ts';
import type { Database } from '../schema.ts';

/**
 * A balance past 2^63 − 1 minor units must fail, never change its kind. PostgreSQL's
 * bigint refuses it (22003); SQLite makes an integer sum that overflows a REAL and
 * stores it, so the balance would go on inexact without a word. There a trigger
 * refuses any balance that is not an integer; the statement, and the caller's
 * transaction, fail as PostgreSQL's do.
 */
export const OUT_OF_RANGE = 'ledger balance out of range';

export async function up(db: Kysely<unknown>): Promise<void> {
  if (dialectOf(db as Kysely<Database>) === 'postgres') return;
  for (const event of ['insert', 'update of balance']) {
    const name = `ledger_accounts_balance_integer_${event.split(' ')[0]}`;
    await sql
      .raw(`create trigger ${name} before ${event} on ledger_accounts when typeof(new.balance) <> 'integer' begin select raise(abort, '${OUT_OF_RANGE}'); end`)
      .execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (dialectOf(db as Kysely<Database>) === 'postgres') return;
  await sql`drop trigger if exists ledger_accounts_balance_integer_insert`.execute(db);
  await sql`drop trigger if exists ledger_accounts_balance_integer_update`.execute(db);
}
