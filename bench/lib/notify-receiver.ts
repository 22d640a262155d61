// Child of bench/notify-throughput.ts: the merchant's notify endpoint (answers SUCCESS at
// once, test/helpers/tracking-receiver.ts), in its own process so it can be pinned apart
// from the sender. Talks to its parent over IPC:
//   → {id, cmd: 'mark'}   starts a new measurement window
//   → {id, cmd: 'stats'}  what arrived since the mark
//   ← {id, ...}           the answer; first message {ready: true, url, port}
import { startTrackingReceiver } from '../../test/helpers/tracking-receiver.ts';

const receiver = await startTrackingReceiver({ delayMs: 0 });
let mark = 0;

export interface ReceiverStats {
  requests: number;
  distinct: number;
  firstAt: number | null;
  lastAt: number | null;
  medianBodyBytes: number;
  concurrentDuplicates: number;
  maxInFlight: number;
  connections: number;
}

function stats(): ReceiverStats {
  const window = receiver.deliveries.slice(mark);
  const sizes = window.map((d) => d.bodyBytes).sort((a, b) => a - b);
  return {
    requests: window.length,
    distinct: new Set(window.map((d) => d.webhookId)).size,
    firstAt: window[0]?.arrivedAt ?? null,
    lastAt: window.at(-1)?.arrivedAt ?? null,
    medianBodyBytes: sizes.length ? sizes[Math.floor(sizes.length / 2)]! : 0,
    concurrentDuplicates: receiver.concurrentDuplicates.length,
    maxInFlight: receiver.maxInFlight(),
    connections: new Set(window.map((d) => d.connection)).size,
  };
}

process.on('message', (raw) => {
  const msg = raw as { id: number; cmd: string };
  if (msg.cmd === 'mark') {
    mark = receiver.deliveries.length;
    process.send!({ id: msg.id, ok: true });
  } else if (msg.cmd === 'stats') {
    process.send!({ id: msg.id, ...stats() });
  }
});
process.on('disconnect', () => {
  void receiver.close().finally(() => process.exit(0));
});
process.send!({ ready: true, url: receiver.url, port: receiver.port });
