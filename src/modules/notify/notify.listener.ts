import type { FastifyBaseLogger } from 'fastify';
import pg from 'pg';
import { NOTIFY_CHANNEL } from './notify.service.ts';

/**
 * Wakes this process's worker when any process commits a notification
 * (PostgreSQL LISTEN). If the connection drops it reconnects; meanwhile the
 * worker's poll still finds the work.
 */
export function listenForNotifications(url: string, onWake: () => void, log: FastifyBaseLogger): { stop(): Promise<void> } {
  let client: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: url });
    c.on('notification', () => onWake());
    c.on('error', (err) => {
      log.warn({ err }, 'notification listener lost its connection');
      scheduleReconnect();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${NOTIFY_CHANNEL}`);
      if (stopped) await c.end();
      else client = c;
    } catch (err) {
      log.warn({ err }, 'notification listener could not connect');
      scheduleReconnect();
    }
  };

  const scheduleReconnect = () => {
    if (stopped || retry) return;
    client?.end().catch(() => undefined);
    client = undefined;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, 2000);
  };

  void connect();
  return {
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      await client?.end().catch(() => undefined);
    },
  };
}
