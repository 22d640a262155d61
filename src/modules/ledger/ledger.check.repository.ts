/**
 * The reconciliation queries: each is one set-based statement over the whole
 * ledger (GROUP BY, joins), returning only the rows that break an invariant,
 * at most LIMIT of them.
 */
import { sql, type RawBuilder } from 'kysely';
import { dialectOf, type Db } from '../../platform/db/database.ts';

const LIMIT = 1000;

export async function unbalancedEntries(db: Db) {
  const { rows } = await sql<{ id: string; total: bigint }>`
    select e.id, cast(sum(p.amount) as bigint) as total
    from journal_entries e join postings p on p.entry_id = e.id
    group by e.id
    having sum(p.amount) <> 0
    order by e.id limit ${LIMIT}`.execute(db);
  return rows;
}

export async function currencyMismatches(db: Db) {
  const { rows } = await sql<{ posting_id: string; entry_currency: string; account_id: string; account_currency: string }>`
    select p.id as posting_id, e.currency as entry_currency, a.id as account_id, a.currency as account_currency
    from postings p join journal_entries e on e.id = p.entry_id join ledger_accounts a on a.id = p.account_id
    where a.currency <> e.currency
    order by p.id limit ${LIMIT}`.execute(db);
  return rows;
}

/**
 * SQLite balances that are not integers: before migration 0010 a sum past 2^63 − 1 was stored as a
 * REAL. (PostgreSQL's bigint refuses it.)
 */
export async function inexactBalances(db: Db) {
  if (dialectOf(db) === 'postgres') return [];
  const { rows } = await sql<{ id: string; balance: number }>`
    select id, balance from ledger_accounts where typeof(balance) <> 'integer' order by id limit ${LIMIT}`.execute(db);
  return rows;
}

export async function staleBalances(db: Db) {
  const { rows } = await sql<{ id: string; balance: bigint; total: bigint }>`
    select a.id, a.balance, cast(coalesce(s.total, 0) as bigint) as total
    from ledger_accounts a
    left join (select account_id, sum(amount) as total from postings group by account_id) s on s.account_id = a.id
    where a.balance <> coalesce(s.total, 0)
    order by a.id limit ${LIMIT}`.execute(db);
  return rows;
}

/** Accounts below zero that must not be, and merchant accounts (other than `unguarded` kinds) whose guard was switched off. */
export async function guardViolations(db: Db, unguarded: readonly string[]) {
  const { rows } = await sql<{ id: string; balance: bigint; non_negative: bigint }>`
    select id, balance, non_negative from ledger_accounts
    where (non_negative <> 0 and balance < 0)
      -- '' keeps the IN list valid when no kind is unguarded.
      or (merchant_id is not null and non_negative = 0 and kind not in (${sql.join(['', ...unguarded])}))
    order by id limit ${LIMIT}`.execute(db);
  return rows;
}

/** Entries naming an order that does not exist. */
export async function orphanEntries(db: Db) {
  const { rows } = await sql<{ id: string; order_no: string }>`
    select e.id, e.order_no from journal_entries e left join orders o on o.order_no = e.order_no
    where e.order_no is not null and o.order_no is null
    order by e.id limit ${LIMIT}`.execute(db);
  return rows;
}

/** Order entries whose id is not `<kind>:<orderNo>` (so a replay would not be recognised). */
export async function misnamedOrderEntries(db: Db, orderKinds: readonly string[]) {
  const { rows } = await sql<{ id: string; kind: string; order_no: string | null }>`
    select id, kind, order_no from journal_entries
    where kind in (${sql.join(orderKinds)}) and (order_no is null or id <> kind || ':' || order_no)
    order by id limit ${LIMIT}`.execute(db);
  return rows;
}

export interface ExpectedKind {
  direction: string;
  status: string;
  kind: string;
}

const text = (v: string) => sql`cast(${v} as text)`;
const int8 = (v: bigint) => sql`cast(${v.toString()} as bigint)`;

function valuesOf(rows: readonly RawBuilder<unknown>[][]) {
  return sql.join(rows.map((cells) => sql`(${sql.join(cells)})`));
}

/**
 * Per order and entry kind, how many entries exist where the order's status
 * implies another count. A REFUNDED pay-in implies its paid and refunded
 * entries only if its history shows it was PAID (EXCEPTION → REFUNDED credited nothing).
 * Expected and found rows are stacked and summed (UNION ALL + GROUP BY): a
 * sort or hash on both databases, where a FULL JOIN of two derived tables
 * would be a nested loop on SQLite.
 */
export async function orderEntryMismatches(db: Db, table: readonly ExpectedKind[]) {
  const { rows } = await sql<{ order_no: string; direction: string; status: string; kind: string; expected: bigint; found: bigint }>`
    with expect(direction, status, kind) as (values ${valuesOf(table.map((r) => [text(r.direction), text(r.status), text(r.kind)]))}),
    stacked as (
      select o.order_no, x.kind, 1 as expected, 0 as found
      from orders o join expect x on x.direction = o.direction and x.status = o.status
      where not (o.direction = 'payin' and o.status = 'REFUNDED')
        or exists (select 1 from order_events v where v.order_no = o.order_no and v.to_status = 'PAID')
      union all
      select e.order_no, e.kind, 0 as expected, 1 as found
      from journal_entries e join orders o on o.order_no = e.order_no)
    select s.order_no, o.direction, o.status, s.kind, cast(sum(s.expected) as bigint) as expected, cast(sum(s.found) as bigint) as found
    from stacked s join orders o on o.order_no = s.order_no
    group by s.order_no, o.direction, o.status, s.kind
    having sum(s.expected) <> sum(s.found)
    order by s.order_no, s.kind limit ${LIMIT}`.execute(db);
  return rows;
}

/** How an entry kind moves one account: cp × paid + cf × fee + ca × amount of its order. */
export interface RuleCoefficient {
  kind: string;
  account: string;
  cp: bigint;
  cf: bigint;
  ca: bigint;
}

/** Accounts an entry kind's rule may split its amount between, checked by their sum under one label (`payin+receivable`). */
export interface AccountGroup {
  kind: string;
  account: string;
  label: string;
}

/**
 * Order entries whose movement of an account differs from what the order's
 * current amounts imply, including postings to another merchant's or another
 * currency's account (reported as `foreign:<account id>`). Accounts of a
 * `groups` row are compared by their sum, under its label. Stacked and summed
 * like `orderEntryMismatches`.
 */
export async function orderAmountMismatches(db: Db, rules: readonly RuleCoefficient[], groups: readonly AccountGroup[]) {
  // A row that matches no entry kind keeps the VALUES list valid when there are no groups.
  const groupRows = [{ kind: '', account: '', label: '' }, ...groups];
  const { rows } = await sql<{ entry_id: string; account: string; expected: bigint; found: bigint }>`
    with rules(kind, account, cp, cf, ca) as (values ${valuesOf(rules.map((r) => [text(r.kind), text(r.account), int8(r.cp), int8(r.cf), int8(r.ca)]))}),
    grouped(kind, account, label) as (values ${valuesOf(groupRows.map((g) => [text(g.kind), text(g.account), text(g.label)]))}),
    entries as (
      select e.id, e.kind, o.merchant_id, o.currency, coalesce(o.paid_amount, o.amount) as paid, o.fee, o.amount
      from journal_entries e join orders o on o.order_no = e.order_no),
    stacked as (
      select n.id, coalesce(g.label, r.account) as account, r.cp * n.paid + r.cf * n.fee + r.ca * n.amount as expected, 0 as found
      from entries n join rules r on r.kind = n.kind
      left join grouped g on g.kind = n.kind and g.account = r.account
      union all
      select n.id, case when a.currency = n.currency and (a.merchant_id is null or a.merchant_id = n.merchant_id)
          then coalesce(g.label, a.kind) else 'foreign:' || a.id end as account, 0 as expected, p.amount as found
      from entries n join postings p on p.entry_id = n.id join ledger_accounts a on a.id = p.account_id
      left join grouped g on g.kind = n.kind and g.account = a.kind)
    select id as entry_id, account, cast(sum(expected) as bigint) as expected, cast(sum(found) as bigint) as found
    from stacked
    group by id, account
    having sum(expected) <> sum(found)
    order by 1, 2 limit ${LIMIT}`.execute(db);
  return rows;
}
