import { dialectOf, inTransaction, type Db } from './database.ts';
import { sqlStatement } from './statement.ts';

/** Runs `fn` in a transaction and resolves once that transaction has committed. */
export type Transact = <T>(fn: (tx: Db) => Promise<T>) => Promise<T>;

interface Pending {
  fn: (tx: Db) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; err: unknown };

/** Units one SQLite transaction gathers at most, and event-loop turns it waits for them. */
export const GATHER_MAX_UNITS = 256;
export const GATHER_MAX_TURNS = 8;

/**
 * Whether a group commit waits one more event-loop turn before it starts: only
 * while the last turn brought new units (requests are still arriving), and
 * within the bounds above. A lone unit therefore waits a single turn, as
 * before; under load one commit (one fsync) serves more units.
 */
export function keepGathering(queued: number, queuedTurnBefore: number, turns: number): boolean {
  return queued > queuedTurnBefore && queued < GATHER_MAX_UNITS && turns < GATHER_MAX_TURNS;
}

/**
 * Transactions for the services. On PostgreSQL each is its own. On SQLite a
 * durable commit costs an fsync, so work that arrives while one commit is in
 * progress is grouped into the next transaction (group commit): each unit runs
 * in its own savepoint, so a failing unit rolls back alone, and every unit's
 * promise settles only after the shared COMMIT. Units must not do I/O other
 * than the database, which the services never do inside a transaction anyway.
 */
export function createTransactor(db: Db): Transact {
  if (dialectOf(db) === 'postgres') return (fn) => db.transaction().execute(fn);

  const savepoint = sqlStatement('savepoint unit');
  const release = sqlStatement('release savepoint unit');
  const rollback = sqlStatement('rollback to savepoint unit');
  let queue: Pending[] = [];
  let flushing = false;

  async function runUnit(tx: Db, unit: Pending): Promise<Outcome> {
    await savepoint(tx, []);
    try {
      const value = await unit.fn(tx);
      await release(tx, []);
      return { ok: true, value };
    } catch (err) {
      try {
        await rollback(tx, []);
        await release(tx, []);
      } catch {
        // SQLite ended the whole transaction itself (SQLITE_FULL, SQLITE_IOERR): no
        // savepoint is left, every unit of the batch fails, and the unit's own error says why.
        throw err;
      }
      return { ok: false, err };
    }
  }

  async function flush(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      let outcomes: Outcome[];
      try {
        outcomes = await inTransaction(db, async (tx) => {
          const done: Outcome[] = [];
          for (const unit of batch) done.push(await runUnit(tx, unit));
          return done;
        });
      } catch (err) {
        for (const unit of batch) unit.reject(err);
        continue;
      }
      batch.forEach((unit, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) unit.resolve(outcome.value);
        else unit.reject(outcome.err);
      });
    }
    flushing = false;
  }

  return <T>(fn: (tx: Db) => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      if (flushing) return;
      // better-sqlite3 runs a whole transaction in one turn of the event loop;
      // starting on a later turn lets the requests already read join this commit.
      flushing = true;
      let turns = 0;
      let before = queue.length;
      const gather = () => {
        if (keepGathering(queue.length, before, turns++)) {
          before = queue.length;
          setImmediate(gather);
        } else void flush();
      };
      setImmediate(gather);
    });
}
