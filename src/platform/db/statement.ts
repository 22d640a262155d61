import { CompiledQuery } from 'kysely';
import { dialectOf, heldConnection, preparePg, type Db } from './database.ts';

/** Runs with its parameters in the order of the placeholders; the rows it returns (none without RETURNING). */
export type Statement<R> = (db: Db, parameters: readonly unknown[]) => Promise<R[]>;

/**
 * A statement written once in SQL, for the hot paths where building and
 * compiling the query with Kysely would cost more than running it. `text` uses
 * `?` placeholders (numbered `$1…` for PostgreSQL) and must hold no other `?`.
 * In a SQLite transaction of inTransaction it runs synchronously on the
 * connection the transaction holds; elsewhere through Kysely's executor, on
 * PostgreSQL as a prepared statement (see preparePg).
 */
export function sqlStatement<R = unknown>(text: string): Statement<R> {
  let n = 0;
  const numbered = text.replace(/\?/g, () => `$${++n}`);
  preparePg(numbered);
  return (db, parameters) => {
    const held = heldConnection(db);
    if (held) {
      try {
        const statement = held.prepare(text);
        if (statement.reader) return Promise.resolve(statement.all(parameters) as R[]);
        statement.run(parameters);
        return Promise.resolve([]);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const query = CompiledQuery.raw(dialectOf(db) === 'postgres' ? numbered : text, [...parameters]);
    return db.executeQuery<R>(query).then((result) => [...result.rows]);
  };
}

/** `?, ?, …` for `count` values. */
function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}

/** What PostgreSQL reads a column's values as, when they come as one array per column. */
export type PgType = 'text' | 'int8';

/**
 * A statement over a set of rows (`build` places it: after an INSERT's
 * columns, or in an IN). On PostgreSQL the set is `select * from unnest(…)`
 * of one array per column, so the text is the same for any number of rows
 * and the server parses a few parameters instead of thousands; elsewhere it
 * is a VALUES list, written once per number of rows.
 */
export function rowsStatement<R = never>(types: readonly PgType[], build: (rows: string) => string): (db: Db, rows: readonly (readonly unknown[])[]) => Promise<R[]> {
  const unnested = sqlStatement<R>(build(unnestOf(types)));
  const byCount = new Map<number, Statement<R>>();
  return (db, rows) => {
    if (rows.length === 0) return Promise.resolve([]);
    if (dialectOf(db) === 'postgres') return unnested(db, columnsOf(types, rows));
    let listed = byCount.get(rows.length);
    if (!listed) byCount.set(rows.length, (listed = sqlStatement<R>(build(`values ${rows.map(() => `(${placeholders(types.length)})`).join(', ')}`))));
    return listed(db, flatten(rows));
  };
}

/** The rows' values one after another (Array#flat costs microseconds per call in Node 20; this, nanoseconds). */
function flatten(rows: readonly (readonly unknown[])[]): unknown[] {
  const out: unknown[] = [];
  for (const row of rows) for (const value of row) out.push(value);
  return out;
}

/** PostgreSQL: a set of rows given as one array parameter per column, in `types`' order. */
export function unnestOf(types: readonly PgType[]): string {
  return `select * from unnest(${types.map((type) => `?::${type}[]`).join(', ')})`;
}

/** The parameters of unnestOf: rows turned into one array per column. */
export function columnsOf(types: readonly PgType[], rows: readonly (readonly unknown[])[]): unknown[][] {
  return types.map((_, i) => rows.map((row) => row[i]));
}
