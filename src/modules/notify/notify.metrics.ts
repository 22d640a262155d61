import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Clock } from '../../platform/clock.ts';
import type { Db } from '../../platform/db/database.ts';
import { backlog } from './notify.repository.ts';

/** Delivery outcomes and latency (per process), backlog read from the database at scrape time. */
export function registerNotifyMetrics(registry: Registry, deps: { db: Db; clock: Clock }) {
  const outcomes = new Counter({
    name: 'pagoda_notify_attempts_total',
    help: 'Notification attempts by outcome (delivered, failed, exhausted)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'pagoda_notify_attempt_duration_seconds',
    help: 'Duration of notification attempts',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  // One read per scrape (the gauges collect together); a database that cannot be
  // read leaves the scrape answering, with the backlog unknown (NaN) and
  // pagoda_database_up at 0, so monitoring is not blind exactly then.
  let scrape: Promise<Awaited<ReturnType<typeof backlog>> | null> | undefined;
  const read = () => {
    if (!scrape) {
      scrape = backlog(deps.db, deps.clock.now()).catch(() => null);
      setImmediate(() => (scrape = undefined));
    }
    return scrape;
  };
  new Gauge({
    name: 'pagoda_database_up',
    help: 'Whether this scrape could read the database (1) or not (0)',
    registers: [registry],
    async collect() {
      this.set((await read()) === null ? 0 : 1);
    },
  });
  new Gauge({
    name: 'pagoda_notify_backlog',
    help: 'Notifications due now and not yet claimed',
    registers: [registry],
    async collect() {
      this.set((await read())?.due ?? NaN);
    },
  });
  new Gauge({
    name: 'pagoda_notify_oldest_due_age_seconds',
    help: 'How long the oldest due notification has been waiting',
    registers: [registry],
    async collect() {
      const found = await read();
      if (!found) return this.set(NaN);
      this.set(found.oldestDueAt === null ? 0 : Math.max(0, (deps.clock.now() - found.oldestDueAt) / 1000));
    },
  });
  return {
    observe(outcome: 'delivered' | 'failed' | 'exhausted', durationMs: number): void {
      outcomes.inc({ outcome });
      latency.observe(durationMs / 1000);
    },
  };
}
