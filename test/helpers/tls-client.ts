import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';

/** What a TLS handshake attempt ended with. */
export type Handshake =
  | { ok: true; protocol: string | null; authorized: boolean }
  | { ok: false; code: string | undefined; message: string };

/**
 * Opens a TLS connection with the given client options and reports whether the
 * handshake completed ('secureConnect'), or the error it failed with. Bounded.
 */
export function handshake(port: number, opts: tls.ConnectionOptions, timeoutMs = 5000): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...opts });
    const timer = setTimeout(() => finish({ ok: false, code: 'TEST_TIMEOUT', message: 'no handshake result in time' }), timeoutMs);
    let done = false;
    function finish(result: Handshake): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    }
    socket.once('secureConnect', () => finish({ ok: true, protocol: socket.getProtocol(), authorized: socket.authorized }));
    socket.once('error', (err: NodeJS.ErrnoException) => finish({ ok: false, code: err.code, message: err.message }));
    socket.once('close', () => finish({ ok: false, code: 'CLOSED', message: 'closed before the handshake completed' }));
  });
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: Record<string, any>;
  protocol: string | null;
}

/** One HTTPS request on a fresh connection with exactly these TLS options. */
export function httpsGet(port: number, pathname: string, opts: https.RequestOptions = {}, timeoutMs = 5000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: pathname, method: 'GET', agent: false, timeout: timeoutMs, ...opts }, (res) => {
      const protocol = (res.socket as tls.TLSSocket).getProtocol?.() ?? null;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, any> = {};
        try {
          json = JSON.parse(text);
        } catch {
          /* callers look at text */
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json, protocol });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** A plain-HTTP request; resolves with the status, or with the error that ended it. */
export function plainHttpGet(port: number, pathname: string, timeoutMs = 5000): Promise<{ status?: number; body?: string; error?: NodeJS.ErrnoException }> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathname, method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (error) => resolve({ status: res.statusCode, error }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'TEST_TIMEOUT' })));
    req.on('error', (error) => resolve({ error }));
    req.end();
  });
}

/** Reads one HTTP/1.1 response (Content-Length framed) from a raw socket. */
export function readResponse(socket: tls.TLSSocket, timeoutMs: number): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new Error(`no complete response within ${timeoutMs} ms: ${buf.toString()}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const headers = buf.subarray(0, end).toString('latin1');
      const length = Number(/^content-length:\s*(\d+)/im.exec(headers)?.[1] ?? NaN);
      if (buf.length - end - 4 < length) return;
      cleanup();
      resolve({ status: Number(headers.split(' ')[1]), headers, body: buf.subarray(end + 4, end + 4 + length).toString('utf8') });
    };
    const onClose = () => fail(new Error(`connection closed before a complete response: ${JSON.stringify(buf.toString())}`));
    const fail = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
    };
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

/** The status of a GET over HTTPS (certificate not verified here; transport.test.ts does that). */
export function httpsStatus(port: number, pathname: string, agent: https.Agent | false = false): Promise<number> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port, path: pathname, agent, rejectUnauthorized: false, timeout: 5000 }, (res) => res.resume().on('end', () => resolve(res.statusCode ?? 0)))
      .on('timeout', function (this: http.ClientRequest) {
        this.destroy(new Error('timed out'));
      })
      .on('error', reject);
  });
}
