import http from 'node:http';

export interface Received {
  at: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Answer = { status: number; body: string } | 'hang';

/**
 * A merchant's notify endpoint on loopback: answers each request with the
 * next scripted answer (the last one repeats) and records what it got.
 */
export async function startReceiver(script: Answer[], host = '127.0.0.1'): Promise<{ url: string; received: Received[]; setScript(s: Answer[]): void; close(): Promise<void> }> {
  let answers = script;
  const received: Received[] = [];
  const hanging: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const answer = answers[Math.min(received.length, answers.length - 1)]!;
      received.push({ at: Date.now(), headers: req.headers, body });
      if (answer === 'hang') {
        hanging.push(res);
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/notify`,
    received,
    setScript: (s) => {
      answers = s;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Polls until `check` holds (bounded), for work done by the background worker. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
