/**
 * A merchant notify endpoint on loopback for delivery tests and benchmarks:
 * answers every POST with `SUCCESS` (after an optional delay, so deliveries
 * stay in flight) and records, per request, its `webhook-id`, when it arrived
 * and was answered, and which keep-alive connection carried it. It watches
 * for the same `webhook-id` being in flight twice at once, and can tell which
 * local process opened each connection (Linux /proc), so a test can see how
 * several gateway processes split the work without the gateway's help.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Delivery {
  webhookId: string;
  /** Date.now() when the request head arrived. */
  arrivedAt: number;
  /** Date.now() when the answer was written (undefined: the connection ended first). */
  answeredAt: number | undefined;
  connection: number;
  bodyBytes: number;
}

export interface TrackingReceiver {
  url: string;
  port: number;
  /** Every request, in arrival order. */
  deliveries: Delivery[];
  /** webhook-id → how many requests carried it. */
  counts: Map<string, number>;
  /** webhook-ids that arrived while another request with the same id was still in flight. */
  concurrentDuplicates: string[];
  /** Most requests in flight at once. */
  maxInFlight(): number;
  inFlight(): number;
  /** Distinct webhook-ids seen. */
  distinct(): number;
  /** Connection number → pid of the process that opened it (undefined when not found). */
  connectionOwners: Map<number, number | undefined>;
  /** Requests per owning pid (via connectionOwners); 'unknown' when the owner was not found. */
  requestsByOwner(): Map<string, number>;
  /** Resolves once `n` distinct webhook-ids were seen; rejects after timeoutMs. */
  waitForDistinct(n: number, timeoutMs: number): Promise<void>;
  setDelay(ms: number): void;
  close(): Promise<void>;
}

export interface TrackingReceiverOptions {
  /** How long to wait before answering each request (default 0). */
  delayMs?: number;
  /** Requests whose path starts with this wait `slowDelayMs` instead (one endpoint with a slow path). */
  slowPath?: string;
  slowDelayMs?: number;
  /** The status of every answer (default 200 `SUCCESS`; any other is answered with `ERROR`). */
  status?: number;
  /** Pids that may own the connections (looked up in /proc at each new connection). */
  owners?: () => number[];
  host?: string;
}

/** The inode of the loopback TCP socket whose local port is `clientPort` and remote port `serverPort`. */
function socketInode(clientPort: number, serverPort: number): string | undefined {
  const hex = (p: number) => p.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      if (f[1]!.endsWith(`:${hex(clientPort)}`) && f[2]!.endsWith(`:${hex(serverPort)}`)) return f[9];
    }
  }
  return undefined;
}

/** Which of `pids` holds the socket with this inode. */
function ownerOf(inode: string, pids: number[]): number | undefined {
  const target = `socket:[${inode}]`;
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === target) return pid;
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

export async function startTrackingReceiver(opts: TrackingReceiverOptions = {}): Promise<TrackingReceiver> {
  let delayMs = opts.delayMs ?? 0;
  const host = opts.host ?? '127.0.0.1';
  const deliveries: Delivery[] = [];
  const counts = new Map<string, number>();
  const live = new Map<string, number>();
  const concurrentDuplicates: string[] = [];
  const connectionOwners = new Map<number, number | undefined>();
  const connOf = new WeakMap<Socket, number>();
  const timers = new Set<NodeJS.Timeout>();
  let inFlight = 0;
  let maxInFlight = 0;
  let connections = 0;
  let serverPort = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];

  const server = http.createServer((req, res) => {
    const webhookId = String(req.headers['webhook-id'] ?? '');
    const delivery: Delivery = { webhookId, arrivedAt: Date.now(), answeredAt: undefined, connection: connOf.get(req.socket) ?? -1, bodyBytes: 0 };
    deliveries.push(delivery);
    const seenBefore = counts.get(webhookId) ?? 0;
    counts.set(webhookId, seenBefore + 1);
    if ((live.get(webhookId) ?? 0) > 0) concurrentDuplicates.push(webhookId);
    live.set(webhookId, (live.get(webhookId) ?? 0) + 1);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    if (seenBefore === 0) {
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (counts.size >= waiters[i]!.n) waiters.splice(i, 1)[0]!.resolve();
      }
    }
    let ended = false;
    const done = () => {
      if (ended) return;
      ended = true;
      inFlight--;
      const left = (live.get(webhookId) ?? 1) - 1;
      if (left === 0) live.delete(webhookId);
      else live.set(webhookId, left);
    };
    res.once('close', done);
    req.on('data', (chunk: Buffer) => (delivery.bodyBytes += chunk.length));
    req.on('end', () => {
      const answer = () => {
        delivery.answeredAt = Date.now();
        const status = opts.status ?? 200;
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'SUCCESS' : 'ERROR');
      };
      const wait = opts.slowPath !== undefined && (req.url ?? '').startsWith(opts.slowPath) ? (opts.slowDelayMs ?? 0) : delayMs;
      if (wait <= 0) return answer();
      const timer = setTimeout(() => {
        timers.delete(timer);
        answer();
      }, wait);
      timers.add(timer);
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket: Socket) => {
    const n = ++connections;
    connOf.set(socket, n);
    if (opts.owners) {
      const inode = socket.remotePort === undefined ? undefined : socketInode(socket.remotePort, serverPort);
      connectionOwners.set(n, inode === undefined ? undefined : ownerOf(inode, opts.owners()));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  serverPort = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${serverPort}/notify`,
    port: serverPort,
    deliveries,
    counts,
    concurrentDuplicates,
    maxInFlight: () => maxInFlight,
    inFlight: () => inFlight,
    distinct: () => counts.size,
    connectionOwners,
    requestsByOwner() {
      const out = new Map<string, number>();
      for (const d of deliveries) {
        const owner = connectionOwners.get(d.connection);
        const key = owner === undefined ? 'unknown' : String(owner);
        out.set(key, (out.get(key) ?? 0) + 1);
      }
      return out;
    },
    waitForDistinct(n, timeoutMs) {
      if (counts.size >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const waiter = { n, resolve: () => (clearTimeout(timer), resolve()) };
        const timer = setTimeout(() => {
          const i = waiters.indexOf(waiter);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`receiver saw ${counts.size} distinct webhook-ids, not ${n}, within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    setDelay(ms) {
      delayMs = ms;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
