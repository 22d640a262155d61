import { CompiledQuery } from 'kysely';
import { dialectOf, heldConnection, type Db } from './database.ts';

/** Runs with its parameters in the order of the placeholders; the rows it returns (none without RETURNING). */
export type Statement<R> = (db: Db, parameters: readonly unknown[]) => Promise<R[]>;

/**
 * A statement written once in SQL, for the hot paths where building and
 * compiling the query with Kysely would cost more than running it. `text` uses
 * `?` placeholders (numbered `$1…` for PostgreSQL) and must hold no other `?`.
 * In a SQLite transaction of inTransaction it runs synchronously on the
 * connection the transaction holds; elsewhere through Kysely's executor.
 */
export function sqlStatement<R = unknown>(text: string): Statement<R> {
  let n = 0;
  const numbered = text.replace(/\?/g, () => `$${++n}`);
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
export function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}
