// Components of the create-payment path in a V8 .cpuprofile of the gateway's main
// thread (bench/create-payment.ts, BENCH_PROFILE=1). Like cpuprofile.ts's
// byComponent, but with the create path's pieces: each sample goes to the first rule
// that a frame matches, walking from the leaf towards the root.
import { originOf, type CpuProfile, type Row } from './cpuprofile.ts';

interface Frame {
  functionName: string;
  url: string;
}

const META = new Set(['(root)', '(program)', '(idle)', '(garbage collector)']);
const FASTIFY = new Set(['fastify', 'find-my-way', 'avvio', 'light-my-request', 'fast-json-stringify', 'ajv', 'toad-cache', 'fastify-plugin', 'secure-json-parse']);

type Rule = { name: string; test: (f: Frame, origin: string, parent: Frame | undefined) => boolean };

const RULES: Rule[] = [
  {
    name: 'SQLite execution: better-sqlite3 native run/get/all (incl. COMMIT and its fsync)',
    test: (f, _o, parent) =>
      !f.url && ['run', 'get', 'all', 'iterate'].includes(f.functionName) && !!parent && (parent.url.endsWith('probe-sql.mjs') || parent.url.includes('/kysely/')),
  },
  { name: 'SQL: pg driver (protocol, parsing rows)', test: (_f, o) => o === 'pg' || o === 'pg-protocol' || o === 'pg-pool' || o === 'pg-types' || o === 'postgres-array' },
  { name: 'SQL: Kysely (building and compiling queries, transactions) + better-sqlite3 JS', test: (f, o) => o === 'kysely' || o === 'better-sqlite3' || f.url.endsWith('probe-sql.mjs') || f.url.endsWith('probe.mjs') },
  { name: 'SQL: transactor (group commit, savepoints)', test: (f) => f.url.endsWith('/transactor.ts') },
  {
    name: 'JWT verification (jose / HMAC / token cache)',
    test: (f, o) => o === 'jose' || f.url.includes('/platform/auth/') || f.url.includes('internal/crypto/webcrypto') || f.url.includes('internal/crypto/mac'),
  },
  { name: 'sandbox channel: QR/EMV payload, params', test: (f) => f.url.includes('/modules/channels/') },
  { name: 'order request parsing + request hash', test: (f) => f.url.endsWith('/order.request.ts') },
  { name: 'ids: newId (randomBytes)', test: (f) => f.url.endsWith('/ids.ts') },
  { name: 'secret decryption: SecretBox.open (AES-256-GCM)', test: (f) => f.url.endsWith('/secret-box.ts') },
  { name: 'logging: pino', test: (_f, o) => o === 'pino' || o.startsWith('@pinojs/') },
  { name: 'order wire format / envelope', test: (f) => f.url.endsWith('/order.wire.ts') || f.url.endsWith('/envelope.ts') },
];

function leafComponent(frame: Frame, origin: string): string {
  if (META.has(frame.functionName)) return frame.functionName === '(idle)' ? '(idle: main thread waiting: database round trips, threadpool, network)' : frame.functionName;
  if (frame.functionName === 'writev' || frame.functionName === 'writeBuffer' || frame.functionName === 'writeUtf8String') return 'TLS encryption + socket writes';
  if (FASTIFY.has(origin) || origin.startsWith('@fastify/')) return 'Fastify (routing, hooks, validation, reply)';
  if (origin.startsWith('src/')) return 'other project code (services, repositories)';
  return 'other (Node HTTP parsing, streams, TLS reads, JSON, …)';
}

export function createPathComponents(profile: CpuProfile, root: string): Row[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const n = profile.samples.length;
  const mean = n ? (profile.endTime - profile.startTime) / n : 0;
  const totals = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < n; i++) {
    const us = i + 1 < n ? profile.timeDeltas[i + 1]! : mean;
    total += us;
    const leaf = byId.get(profile.samples[i]!)!;
    let matched: string | undefined;
    for (let id: number | undefined = leaf.id; id !== undefined && !matched; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      const up = parent.get(id);
      const parentFrame = up === undefined ? undefined : byId.get(up)!.callFrame;
      matched = RULES.find((r) => r.test(frame, originOf(frame, root), parentFrame))?.name;
    }
    const name = matched ?? leafComponent(leaf.callFrame, originOf(leaf.callFrame, root));
    totals.set(name, (totals.get(name) ?? 0) + us);
  }
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .map(([name, us]) => ({ name, ms: us / 1000, share: total ? us / total : 0 }));
}
