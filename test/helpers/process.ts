import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, type Db } from '../../src/platform/db/database.ts';
import { createTestDatabase, TEST_DB, type TestDatabase } from './db.ts';
import { TEST_MASTER_KEY } from './gateway.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'pagoda.mjs');

/**
 * A data directory plus the environment a `pagoda` child needs: SQLite in the
 * data directory, or (PAGODA_TEST_DB=postgres) a fresh PostgreSQL database and
 * the test master key. `cleanup()` kills the children it spawned, then drops
 * the database and the directory.
 */
export interface Workspace {
  dataDir: string;
  db: TestDatabase;
  env: Record<string, string>;
  /** `pagoda …` with the workspace's environment plus `env`. */
  spawn(args: string[], env?: Record<string, string>): Child;
  run(args: string[], env?: Record<string, string>, timeoutMs?: number): Promise<RunResult>;
  /** `fn` on a connection of the test's own to the workspace's database, closed afterwards. */
  withDb<R>(fn: (db: Db) => Promise<R>): Promise<R>;
  cleanup(): Promise<void>;
}

export async function createWorkspace(): Promise<Workspace> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagoda-proc-'));
  const db = TEST_DB === 'postgres' ? await createTestDatabase('postgres') : sqliteIn(dataDir);
  const env: Record<string, string> = { PAGODA_DATA_DIR: dataDir, PAGODA_HOST: '127.0.0.1', PAGODA_LOG_LEVEL: 'warn' };
  if (db.dialect === 'postgres') Object.assign(env, { PAGODA_DATABASE_URL: db.url, PAGODA_MASTER_KEY: TEST_MASTER_KEY });
  const children: Child[] = [];
  const ws: Workspace = {
    dataDir,
    db,
    env,
    spawn(args, extra = {}) {
      const child = spawnPagoda(args, { ...env, ...extra });
      children.push(child);
      return child;
    },
    async run(args, extra = {}, timeoutMs = 30_000) {
      return runChild(ws.spawn(args, extra), timeoutMs);
    },
    async withDb(fn) {
      const conn = openDatabase(db.url);
      try {
        return await fn(conn);
      } finally {
        await conn.destroy();
      }
    },
    async cleanup() {
      await Promise.all(children.map((child) => child.kill()));
      await db.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return ws;
}

function sqliteIn(dataDir: string): TestDatabase {
  // The default location, so the child needs no PAGODA_DATABASE_URL; dropped with the data dir.
  return { url: `sqlite:${path.join(dataDir, 'pagoda.db')}`, dialect: 'sqlite', drop: async () => undefined };
}

/** The parent's environment without any PAGODA_* variable, plus `env`. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PAGODA_')));
  return { ...clean, ...env };
}

/** A running `pagoda` child with its output collected. */
export interface Child {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal) when the child ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with stdout once it matches `pattern`; rejects on exit or timeout. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Waits for the exit; SIGKILLs the child if it is still running after `killAfterMs`. */
  exitWithin(killAfterMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILLs the child if it still runs (for cleanup). */
  kill(): Promise<void>;
}

export function spawnPagoda(args: string[], env: Record<string, string>): Child {
  const proc = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
  let ended = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('close', (code, signal) => {
      ended = true;
      resolve({ code, signal });
    });
  });
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(out)) {
            done();
            resolve(out);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${pattern} on stdout within ${timeoutMs} ms\nstdout: ${out}\nstderr: ${err}`));
        }, timeoutMs);
        const onExit = () => {
          done();
          if (pattern.test(out)) resolve(out);
          else reject(new Error(`pagoda exited before printing ${pattern}\nstdout: ${out}\nstderr: ${err}`));
        };
        const done = () => {
          clearTimeout(timer);
          proc.stdout!.off('data', check);
          proc.off('close', onExit);
        };
        proc.stdout!.on('data', check);
        proc.once('close', onExit);
        check();
      });
    },
    async exitWithin(killAfterMs) {
      const timer = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    async kill() {
      if (ended) return;
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `pagoda …` to completion (killed after `timeoutMs`). */
export function runPagoda(args: string[], env: Record<string, string>, timeoutMs = 30_000): Promise<RunResult> {
  return runChild(spawnPagoda(args, env), timeoutMs);
}

async function runChild(child: Child, timeoutMs: number): Promise<RunResult> {
  const { code, signal } = await child.exitWithin(timeoutMs);
  return { code, signal, stdout: child.stdout(), stderr: child.stderr() };
}

/** Runs a shell command line with bash (bounded). */
export function runBash(line: string, timeoutMs = 15_000): Promise<RunResult> {
  return new Promise((resolve) => {
    const proc = spawn('bash', ['-c', line], { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    proc.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** A loopback port that was free a moment ago (bind 0, close, reuse). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether something accepts TCP connections on the loopback port. */
export function isListening(port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls `check` every 50 ms until it holds or `timeoutMs` passes. */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
