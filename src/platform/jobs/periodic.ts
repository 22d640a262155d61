import type { FastifyBaseLogger } from 'fastify';

export interface Periodic {
  /** Stops scheduling and waits for a run in progress to finish. */
  stop(): Promise<void>;
  /** Runs now instead of waiting for the next tick (e.g. after a commit that made work due). */
  wake(): void;
}

/** While a job keeps failing with the same error, it is logged again at most this often. */
export const REPEAT_LOG_MS = 60_000;

/**
 * What to log of a run's outcome: the first failure, a new error, the same one
 * again once `REPEAT_LOG_MS` have passed (with how many runs failed since), and
 * the first success after failures. A database that is down for minutes must not
 * write a stack a second per job.
 */
export function failureLog(now: () => number = Date.now) {
  let failing = 0;
  let unlogged = 0;
  let lastMessage: string | undefined;
  let loggedAt = 0;
  return {
    failed(err: unknown): { failedRuns: number } | null {
      failing++;
      const message = err instanceof Error ? err.message : String(err);
      if (failing > 1 && message === lastMessage && now() - loggedAt < REPEAT_LOG_MS) {
        unlogged++;
        return null;
      }
      const report = { failedRuns: unlogged + 1 };
      lastMessage = message;
      loggedAt = now();
      unlogged = 0;
      return report;
    },
    /** The number of failed runs a success ends, 0 when it ends none. */
    succeeded(): number {
      const ended = failing;
      failing = 0;
      unlogged = 0;
      lastMessage = undefined;
      return ended;
    },
  };
}

/**
 * Runs a task again and again, `intervalMs` after each run ends (never two
 * runs at once). A failing run is logged (see failureLog) and the loop goes on.
 */
export function startPeriodic(name: string, intervalMs: number, task: () => Promise<unknown>, log: FastifyBaseLogger): Periodic {
  const failures = failureLog();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;

  const run = (): void => {
    timer = undefined;
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = task()
      .then(
        () => {
          const ended = failures.succeeded();
          if (ended > 0) log.info({ job: name, failedRuns: ended }, 'periodic job runs again');
        },
        (err: unknown) => {
          const report = failures.failed(err);
          if (report) log.error({ err, job: name, ...report }, 'periodic job failed');
        },
      )
      .finally(() => {
        running = undefined;
        if (stopped) return;
        const delay = again ? 0 : intervalMs;
        again = false;
        timer = setTimeout(run, delay);
      });
  };
  timer = setTimeout(run, 0);

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
    wake() {
      if (stopped) return;
      if (timer) clearTimeout(timer);
      run();
    },
  };
}
