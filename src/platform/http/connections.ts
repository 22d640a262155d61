import type { Server, Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** Open connections, for the drain. */
export interface Connections {
  /** Ends every open connection that carries no request; how many it ended. */
  dropUnused(): number;
}

declare module 'fastify' {
  interface FastifyInstance {
    connections: Connections;
  }
}

/**
 * The server's close waits for every open connection. One that never brings a
 * whole request head (a TLS handshake never finished, a load balancer's
 * pre-connect, a client trickling its headers) would hold the exit until the
 * shutdown timeout, and the process would end as if it had failed. A
 * connection whose request head has arrived counts as carrying a request until
 * its response closes, body still arriving or not; the drain keeps those.
 *
 * Connections are known by their remote address and port: a TLS connection's
 * socket is another object than the TCP socket under it, with the same ends.
 */
export function trackConnections(app: FastifyInstance): Connections {
  const open = new Map<string, Socket>();
  const requests = new Map<string, number>();
  const server: Server = app.server;
  server.on('connection', (socket: Socket) => {
    const key = endOf(socket);
    open.set(key, socket);
    socket.once('close', () => open.delete(key));
  });
  server.on('request', (req: { socket: Socket }, res: { once(event: 'close', fn: () => void): unknown }) => {
    const key = endOf(req.socket);
    requests.set(key, (requests.get(key) ?? 0) + 1);
    res.once('close', () => {
      const left = requests.get(key)! - 1;
      if (left > 0) requests.set(key, left);
      else requests.delete(key);
    });
  });
  const connections: Connections = {
    dropUnused() {
      let dropped = 0;
      for (const [key, socket] of open) {
        if (requests.has(key)) continue;
        socket.destroy();
        dropped++;
      }
      return dropped;
    },
  };
  app.decorate('connections', connections);
  return connections;
}

function endOf(socket: Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}`;
}
