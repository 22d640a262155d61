import type { FastifyBaseLogger } from 'fastify';

export interface Periodic {
  /** Stops scheduling and waits for a run in progress to finish. */
  stop(): Promise<void>;
  /** Runs now instead of waiting for the next tick (e.g. after a commit that made work due). */
  wake(): void;
}

/**
 * Runs a task again and again, `intervalMs` after each run ends (never two
 * runs at once). A failing run is logged and the loop goes on.
 */
export function startPeriodic(name: string, intervalMs: number, task: () => Promise<unknown>, log: FastifyBaseLogger): Periodic {
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
        () => undefined,
        (err: unknown) => log.error({ err, job: name }, 'periodic job failed'),
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
