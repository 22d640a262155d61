import type { FastifyInstance, RouteHandlerMethod } from 'fastify';

/** Route handlers still running: a shutdown waits for them, even for those whose client has left. */
export interface InFlight {
  readonly count: number;
  /** Resolves once no handler is running. */
  idle(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    inFlight: InFlight;
  }
}

/**
 * Wraps every route handler registered from now on. The HTTP server's close
 * waits for open connections, not for handlers: a handler whose client hung up
 * keeps running (a channel call, then its commit), and must finish before the
 * database closes under it.
 */
export function trackHandlers(app: FastifyInstance): InFlight {
  let count = 0;
  let waiters: Array<() => void> = [];
  const finish = (): void => {
    count--;
    if (count > 0) return;
    const ready = waiters;
    waiters = [];
    for (const resolve of ready) resolve();
  };
  app.addHook('onRoute', (route) => {
    const handler = route.handler as RouteHandlerMethod;
    route.handler = function tracked(this: FastifyInstance, request, reply) {
      count++;
      let result: unknown;
      try {
        result = handler.call(this, request, reply);
      } catch (err) {
        finish();
        throw err;
      }
      if (result instanceof Promise) return result.finally(finish);
      finish();
      return result;
    } as RouteHandlerMethod;
  });
  const inFlight: InFlight = {
    get count() {
      return count;
    },
    idle: () => (count === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
  };
  app.decorate('inFlight', inFlight);
  return inFlight;
}
