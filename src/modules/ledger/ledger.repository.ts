import { sql } from 'kysely';
import { committedRead, dialectOf, type Db } from '../../platform/db/database.ts';
import { columnsOf, rowsStatement, sqlStatement, unnestOf, type PgType } from '../../platform/db/statement.ts';
import type { Insertable } from 'kysely';
import { OUT_OF_RANGE } from '../../platform/db/migrations/0010_ledger_balance_range.ts';
import type { JournalEntriesTable, LedgerAccountRow, LedgerAccountsTable, PostingsTable } from '../../platform/db/schema.ts';

/** Each table's columns as these statements write them, with the type PostgreSQL reads them as. */
const ENTRY = { id: 'text', kind: 'text', currency: 'text', order_no: 'text', reference: 'text', actor: 'text', reason: 'text', created_at: 'int8' } as const satisfies Partial<Record<keyof JournalEntriesTable, PgType>>;
const ACCOUNT = { id: 'text', merchant_id: 'text', currency: 'text', kind: 'text', balance: 'int8', non_negative: 'int8', created_at: 'int8' } as const satisfies Partial<Record<keyof LedgerAccountsTable, PgType>>;
const POSTING = { id: 'text', entry_id: 'text', account_id: 'text', amount: 'int8', created_at: 'int8' } as const satisfies Partial<Record<keyof PostingsTable, PgType>>;
const namesOf = (table: Record<string, PgType>) => Object.keys(table).join(', ');
const typesOf = (table: Record<string, PgType>): PgType[] => Object.values(table);
const valuesOf = <T extends object>(table: Record<string, PgType>, row: T) => Object.keys(table).map((column) => row[column as keyof T] ?? null);
const ENTRY_COLUMNS = namesOf(ENTRY);
const ACCOUNT_COLUMNS = namesOf(ACCOUNT);
const POSTING_COLUMNS = namesOf(POSTING);
const ENTRY_TYPES = typesOf(ENTRY);
const ACCOUNT_TYPES = typesOf(ACCOUNT);
const POSTING_TYPES = typesOf(POSTING);

// Every money movement runs these: written once (see statement.ts).
const insertEntry = sqlStatement<{ id: string }>(`insert into journal_entries (${ENTRY_COLUMNS}) values (${ENTRY_TYPES.map(() => '?').join(', ')}) on conflict (id) do nothing returning id`);
const insertAccounts = rowsStatement(ACCOUNT_TYPES, (rows) => `insert into ledger_accounts (${ACCOUNT_COLUMNS}) ${rows} on conflict (id) do nothing`);
const insertPostingRows = rowsStatement(POSTING_TYPES, (rows) => `insert into postings (${POSTING_COLUMNS}) ${rows}`);
/**
 * PostgreSQL: the entries, their accounts (created on first use) and their
 * postings in one statement, one round trip. Its parts see one snapshot, so
 * postings are written only for the entries written (a repeated event writes
 * nothing); foreign keys are checked at the end of the statement.
 */
const insertEntriesPg = sqlStatement<{ id: string }>(
  `with entry as (insert into journal_entries (${ENTRY_COLUMNS}) ${unnestOf(ENTRY_TYPES)} on conflict (id) do nothing returning id),
  accounts as (insert into ledger_accounts (${ACCOUNT_COLUMNS}) ${unnestOf(ACCOUNT_TYPES)} where exists (select 1 from entry) on conflict (id) do nothing),
  posted as (insert into postings (${POSTING_COLUMNS})
    select * from (${unnestOf(POSTING_TYPES)}) as p (${POSTING_COLUMNS}) where p.entry_id in (select id from entry))
  select id from entry`,
);
const addBalance = sqlStatement<{ id: string }>('update ledger_accounts set balance = balance + ? where id = ? returning id');
/**
 * PostgreSQL: every balance of a set moved in one statement. The accounts are
 * locked first, in id order (the lock follows the sort), the one order of
 * every transaction, so concurrent entries never deadlock. The lock is the
 * one an UPDATE takes (FOR NO KEY UPDATE): it lets other transactions' new
 * postings check their foreign key (FOR KEY SHARE) meanwhile; FOR UPDATE
 * would wait on those, and they on us.
 */
const moveBalancesPg = sqlStatement<{ id: string }>(
  `with move as (select * from unnest(?::text[], ?::int8[]) as m (id, amount)),
  locked as (select a.id from ledger_accounts a where a.id in (select id from move) order by a.id for no key update)
  update ledger_accounts a set balance = a.balance + move.amount from move
  where a.id = move.id and (select count(*) from locked) > 0
  returning a.id`,
);

/**
 * Writes the entries whose id is new, the accounts they need that do not
 * exist yet (at balance 0) and the postings of the entries written; the ids
 * of the entries written (a repeated event's is not). Ids must be unique
 * within a call. Balances move with moveBalances.
 */
export async function insertEntriesIfAbsent(
  db: Db,
  entries: readonly Insertable<JournalEntriesTable>[],
  accounts: readonly Insertable<LedgerAccountsTable>[],
  postings: readonly Insertable<PostingsTable>[],
): Promise<Set<string>> {
  const entryRows = entries.map((e) => valuesOf(ENTRY, e));
  const accountRows = accounts.map((a) => valuesOf(ACCOUNT, { ...a, balance: a.balance ?? 0n }));
  const postingRow = (p: Insertable<PostingsTable>) => valuesOf(POSTING, p);
  if (dialectOf(db) === 'postgres') {
    const written = await insertEntriesPg(db, [...columnsOf(ENTRY_TYPES, entryRows), ...columnsOf(ACCOUNT_TYPES, accountRows), ...columnsOf(POSTING_TYPES, postings.map(postingRow))]);
    return new Set(written.map((row) => row.id));
  }
  const written = new Set<string>();
  for (const row of entryRows) if ((await insertEntry(db, row)).length === 1) written.add(row[0] as string);
  if (written.size === 0) return written;
  await insertAccounts(db, accountRows);
  await insertPostingRows(db, postings.filter((p) => written.has(p.entry_id)).map(postingRow));
  return written;
}

/** PostgreSQL's bigint overflow (numeric_value_out_of_range), or SQLite's trigger of migration 0010. */
function isOutOfRange(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; message?: unknown };
  return e.code === '22003' || (typeof e.message === 'string' && e.message.includes(OUT_OF_RANGE));
}

/** PostgreSQL's check_violation, or SQLite's CHECK failure. */
function isCheckViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; message?: unknown };
  if (e.code === '23514' || e.code === 'SQLITE_CONSTRAINT_CHECK') return true;
  return typeof e.message === 'string' && e.message.includes('CHECK constraint failed');
}

/**
 * Adds each amount to its account's balance in the statement that checks it:
 * the CHECK constraint refuses a negative result on a non-negative account, so
 * two transactions can never both spend the same money. One move per account,
 * in account id order (the one lock order). 'refused' (a balance below zero)
 * and 'out of range' (past 2^63 − 1 minor units) leave the transaction for the
 * caller to roll back (PostgreSQL has already aborted it).
 */
export async function moveBalances(db: Db, moves: readonly { id: string; amount: bigint }[]): Promise<'ok' | 'refused' | 'out of range'> {
  try {
    if (dialectOf(db) === 'postgres') {
      const moved = await moveBalancesPg(db, [moves.map((m) => m.id), moves.map((m) => m.amount)]);
      if (moved.length !== moves.length) throw new Error(`ledger accounts missing among ${moves.map((m) => m.id).join(', ')}`);
      return 'ok';
    }
    for (const { id, amount } of moves) if ((await addBalance(db, [amount, id])).length !== 1) throw new Error(`ledger account ${id} does not exist`);
    return 'ok';
  } catch (err) {
    if (isCheckViolation(err)) return 'refused';
    if (isOutOfRange(err)) return 'out of range';
    throw err;
  }
}

/**
 * An account's balance in the caller's transaction; undefined when the account
 * was never used. `forUpdate` also locks its row until the transaction ends
 * (PostgreSQL: FOR NO KEY UPDATE, as moveBalances locks; a SQLite transaction
 * is exclusive already).
 */
export async function accountBalance(db: Db, accountId: string, opts: { forUpdate: boolean }): Promise<bigint | undefined> {
  const query = db.selectFrom('ledger_accounts').select('balance').where('id', '=', accountId);
  const row = await (opts.forUpdate && dialectOf(db) === 'postgres' ? query.forNoKeyUpdate() : query).executeTakeFirst();
  return row === undefined ? undefined : BigInt(row.balance);
}

/** A merchant's account balances in one currency, by kind: committed state, for the balance endpoints. */
export function readBalances(db: Db, merchantId: string, currency: string): Promise<Array<Pick<LedgerAccountRow, 'kind' | 'balance'>>> {
  return committedRead(db, 'ledger.balances', (d) => d.selectFrom('ledger_accounts').select(['kind', 'balance']).where('merchant_id', '=', '').where('currency', '=', ''))([
    merchantId,
    currency,
  ]);
}

export async function findAccounts(db: Db, ids: readonly string[]): Promise<LedgerAccountRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('ledger_accounts').selectAll().where('id', 'in', ids).execute();
}

export async function findEntry(db: Db, id: string) {
  return db.selectFrom('journal_entries').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listEntryPostings(db: Db, entryId: string) {
  return db.selectFrom('postings').selectAll().where('entry_id', '=', entryId).orderBy('id').execute();
}

export interface StatementRow {
  id: string;
  kind: string;
  created_at: bigint;
  order_no: string | null;
  mer_order_no: string | null;
  reference: string | null;
  reason: string | null;
  payin: bigint;
  payout: bigint;
  frozen: bigint;
  /** What the entry changed of what the merchant owes (− a debt recorded, + one repaid). */
  receivable: bigint;
}

const sumFor = (kind: string) => sql<bigint>`cast(coalesce(sum(case when a.kind = ${kind} then p.amount else 0 end), 0) as bigint)`;

/** Every entry that moved one of the merchant's accounts in [from, to), with its change per account. */
export async function statementRows(db: Db, merchantId: string, currency: string, from: number, to: number): Promise<StatementRow[]> {
  const result = await sql<StatementRow>`
    select e.id, e.kind, e.created_at, e.order_no, o.mer_order_no, e.reference, e.reason,
      ${sumFor('payin')} as payin, ${sumFor('payout')} as payout, ${sumFor('frozen')} as frozen, ${sumFor('receivable')} as receivable
    from ledger_accounts a
    join postings p on p.account_id = a.id
    join journal_entries e on e.id = p.entry_id
    left join orders o on o.order_no = e.order_no
    where a.merchant_id = ${merchantId} and a.currency = ${currency}
      and p.created_at >= ${from} and p.created_at < ${to}
    group by e.id, e.kind, e.created_at, e.order_no, o.mer_order_no, e.reference, e.reason
    order by e.created_at, e.id`.execute(db);
  return result.rows;
}
