import type { ServerResponse } from 'node:http';
import type { Server, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
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
 * connection whose request head has arrived carries a request until its
 * response is finished, body still arriving or not; the drain keeps those.
 *
 * Only connections are followed, not requests (nothing is added to a request's
 * path). A TLS connection's socket is another object than the TCP socket under
 * it, with the same ends: it is found by them.
 */
export function trackConnections(app: FastifyInstance): Connections {
  const open = new Map<string, { tcp: Socket; tls?: Socket }>();
  const server: Server = app.server;
  server.on('connection', (tcp: Socket) => {
    const key = endsOf(tcp);
    open.set(key, { tcp });
    tcp.once('close', () => open.delete(key));
  });
  server.on('secureConnection', (tls: Socket) => {
    const entry = open.get(endsOf(tls));
    if (entry) entry.tls = tls;
  });
  const connections: Connections = {
    dropUnused() {
      let dropped = 0;
      for (const { tcp, tls } of open.values()) {
        if (carriesRequest(tls ?? tcp)) continue;
        tls?.destroy();
        tcp.destroy();
        dropped++;
      }
      return dropped;
    },
  };
  app.decorate('connections', connections);
  return connections;
}

function endsOf(socket: Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}`;
}

/**
 * The response due first on a connection: Node's HTTP server gives a connection
 * the response of its oldest request as soon as that request's head is read, and
 * takes it back once the response is finished (its own closeIdleConnections()
 * looks at the same). Null when none is under way.
 */
export function dueResponse(socket: Duplex): ServerResponse | null {
  return (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage ?? null;
}

function carriesRequest(socket: Socket): boolean {
  const response = dueResponse(socket);
  return response !== null && !response.finished;
}
