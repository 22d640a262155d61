import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { AppError } from '../errors.ts';
import { requestIdFor } from '../ids.ts';
import { dueResponse } from './connections.ts';
import { failure } from './envelope.ts';

function refusalOf(code: string | undefined): AppError {
  if (code === 'HPE_HEADER_OVERFLOW') return new AppError('HEADERS_TOO_LARGE', 'request headers exceed the size limit');
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return new AppError('REQUEST_TIMEOUT', 'the request did not arrive in time');
  return new AppError('BAD_REQUEST', 'malformed HTTP request');
}

/**
 * Answers a request that Node's HTTP parser refused before any route saw it
 * (malformed request line or header, repeated Content-Length, headers too
 * large, too slow): the envelope with a request id, then the connection closes,
 * since the stream can no longer be trusted to be in step.
 */
export function answerClientError(log: FastifyBaseLogger, err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const refusal = refusalOf(err.code);
  // A body the parser refuses (a bad chunk) belongs to a request whose head was read: keep its id. The
  // answer due first on the connection may be another's (a pipelined request before it): writing the
  // refusal now would answer for that one, so the connection only closes (a client retries it).
  const first = dueResponse(socket);
  // The request the parser was reading.
  const refused = (socket as Duplex & { parser?: { incoming?: IncomingMessage | null } | null }).parser?.incoming ?? undefined;
  const own = first !== null && first.req === refused ? first : undefined;
  const known = own?.getHeader('x-request-id');
  const requestId = typeof known === 'string' ? known : requestIdFor(refused?.headers['x-request-id']);
  log.info({ reqId: requestId, code: refusal.code, parserCode: err.code }, 'request refused by the HTTP parser');
  const otherDueFirst = first !== null && own === undefined;
  if (socket.writable && !otherDueFirst && own?.headersSent !== true) {
    const body = JSON.stringify(failure(refusal));
    socket.write(
      `HTTP/1.1 ${refusal.status} ${refusal.message}\r\n` +
        'content-type: application/json; charset=utf-8\r\n' +
        `content-length: ${Buffer.byteLength(body)}\r\n` +
        `x-request-id: ${requestId}\r\n` +
        'connection: close\r\n\r\n' +
        body,
    );
  }
  socket.destroy();
}
