import { AppError } from '../errors.ts';
import { ok } from './envelope.ts';
import type { App } from './server.ts';

const READY_TIMEOUT_MS = 2000;

/** Liveness answers while the process runs; readiness needs the database and no drain. */
export function registerHealthRoutes(app: App, deps: { ping: () => Promise<void>; isDraining: () => boolean }): void {
  app.get('/healthz', async () => ok({ status: 'ok' }));
  app.get('/readyz', async () => {
    if (deps.isDraining()) throw new AppError('NOT_READY', 'draining', 'not ready');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AppError('NOT_READY', 'database did not answer in time', 'not ready')), READY_TIMEOUT_MS);
    });
    try {
      await Promise.race([deps.ping(), timeout]);
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new AppError('NOT_READY', 'database unreachable', 'not ready');
    } finally {
      clearTimeout(timer);
    }
    return ok({ status: 'ready' });
  });
}
