// Summaries of a V8 .cpuprofile (as written by the inspector or `node --cpu-prof`):
// self time by function and by origin (package, project file, Node internals), and
// inclusive time by function (its own time plus what it called synchronously).
import path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Row {
  name: string;
  ms: number;
  share: number;
}

export interface Summary {
  totalMs: number;
  byComponent: Row[];
  selfByOrigin: Row[];
  selfByFunction: Row[];
  inclusiveByFunction: Row[];
}

const META = new Set(['(root)', '(program)', '(idle)', '(garbage collector)']);

/** Where code comes from: an npm package, a project file, Node internals, or V8 itself. */
export function originOf(frame: CallFrame, root: string): string {
  const { url, functionName } = frame;
  if (META.has(functionName)) return functionName;
  if (!url) return '(native)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/').slice(0, 2).join('/')}`;
  const file = url.startsWith('file://') ? new URL(url).pathname : url;
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = file.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  return path.relative(root, file);
}

function frameName(frame: CallFrame, root: string): string {
  const fn = frame.functionName || '(anonymous)';
  if (META.has(fn) || !frame.url) return fn;
  return `${fn} ${originOf(frame, root)}:${frame.lineNumber + 1}`;
}

/**
 * What a sample is spent on, judged from its whole stack: the first rule any frame
 * matches (the gateway's known hot spots), else from the leaf alone.
 */
const STACK_RULES: { name: string; test: (f: CallFrame, origin: string) => boolean }[] = [
  { name: 'SQL: Kysely + better-sqlite3 (building, preparing, running queries)', test: (_f, o) => o === 'kysely' || o === 'better-sqlite3' || o.endsWith('probe.mjs') },
  {
    name: 'JWT: jose + WebCrypto HMAC (incl. dispatch to the threadpool)',
    test: (f, o) => o === 'jose' || f.url.includes('internal/crypto/webcrypto') || f.url.includes('internal/crypto/mac') || f.url.includes('internal/crypto/keys'),
  },
  { name: 'secret decryption: SecretBox.open (AES-256-GCM)', test: (f) => f.url.endsWith('/secret-box.ts') },
  { name: 'request ids: newId (randomBytes)', test: (f) => f.url.endsWith('/ids.ts') },
  { name: 'logging: pino', test: (_f, o) => o === 'pino' || o.startsWith('@pinojs/') },
];

function leafComponent(frame: CallFrame, origin: string): string {
  if (META.has(frame.functionName)) return frame.functionName === '(idle)' ? '(idle: main thread waiting, e.g. on the threadpool)' : frame.functionName;
  if (frame.functionName === 'writev' || frame.functionName === 'writeBuffer' || frame.functionName === 'writeUtf8String') return 'TLS encryption + socket writes';
  if (['fastify', 'find-my-way', 'avvio', 'light-my-request', 'fast-json-stringify', 'ajv', 'toad-cache', 'fastify-plugin'].includes(origin) || origin.startsWith('@fastify/'))
    return 'Fastify (routing, hooks, validation, reply)';
  return 'other (Node HTTP parsing, streams, TLS reads, project code, …)';
}

function rows(map: Map<string, number>, totalMs: number, top: number): Row[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, ms]) => ({ name, ms, share: ms / totalMs }));
}

export function summarize(profile: CpuProfile, root: string, top = 25): Summary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  // Sample i lasted until the next one; the last one gets the mean interval.
  const n = profile.samples.length;
  const mean = n ? (profile.endTime - profile.startTime) / n : 0;
  const component = new Map<string, number>();
  const selfOrigin = new Map<string, number>();
  const selfFn = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let totalUs = 0;
  for (let i = 0; i < n; i++) {
    const us = i + 1 < n ? profile.timeDeltas[i + 1]! : mean;
    totalUs += us;
    const leaf = byId.get(profile.samples[i]!)!;
    const add = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + us);
    const leafOrigin = originOf(leaf.callFrame, root);
    add(selfOrigin, leafOrigin);
    let matched: string | undefined;
    for (let id: number | undefined = leaf.id; id !== undefined && !matched; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      const origin = originOf(frame, root);
      matched = STACK_RULES.find((r) => r.test(frame, origin))?.name;
    }
    add(component, matched ?? leafComponent(leaf.callFrame, leafOrigin));
    add(selfFn, frameName(leaf.callFrame, root));
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const name = frameName(byId.get(id)!.callFrame, root);
      if (name === '(root)' || seen.has(name)) continue;
      seen.add(name);
      add(inclusive, name);
    }
  }
  const totalMs = totalUs / 1000;
  const toMs = (map: Map<string, number>) => new Map([...map].map(([k, v]) => [k, v / 1000]));
  return {
    totalMs,
    byComponent: rows(toMs(component), totalMs, 100),
    selfByOrigin: rows(toMs(selfOrigin), totalMs, top),
    selfByFunction: rows(toMs(selfFn), totalMs, top),
    inclusiveByFunction: rows(toMs(inclusive), totalMs, top),
  };
}

export function formatRows(title: string, list: Row[]): string {
  const lines = [title];
  for (const r of list) lines.push(`  ${(r.share * 100).toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(6)} ms  ${r.name}`);
  return lines.join('\n');
}
