/**
 * Real `pagoda serve` processes sharing one database, for crash and
 * multi-process tests: a workspace (data dir + SQLite or a fresh PostgreSQL
 * database), the environment every process gets, a merchant made with the CLI,
 * PAID pay-ins made through the v3 API and the sandbox, and a direct database
 * handle to check the gateway's records.
 */
import { Agent, request } from 'undici';
import { openDatabase, type Db } from '../../src/platform/db/database.ts';
import { TEST_MASTER_KEY } from './gateway.ts';
import { createWorkspace, freePort, type Child, type Workspace } from './process.ts';

export type Role = 'api' | 'worker' | 'all';

export interface MerchantCreds {
  merchantId: string;
  appId: string;
  appSecret: string;
}

export interface Fleet {
  ws: Workspace;
  port: number;
  base: string;
  /** What every process gets (plus per-process extras). */
  env: Record<string, string>;
  /** Spawns `pagoda serve --role <role>` and waits for its banner. */
  start(role: Role, extra?: Record<string, string>): Promise<Child>;
  /** Spawns `pagoda serve --role <role>` without waiting (its pid is known at once); then `ready(child)`. */
  spawn(role: Role, extra?: Record<string, string>): Child;
  /** Waits for a spawned child's banner. */
  ready(child: Child): Promise<Child>;
  /** `pagoda merchant create --name … --currencies MXN --json`. */
  merchant(name?: string): Promise<MerchantCreds>;
  /** A database handle of this process (closed by cleanup). */
  db(): Db;
  cleanup(): Promise<void>;
}

export async function createFleet(env: Record<string, string> = {}): Promise<Fleet> {
  const ws = await createWorkspace();
  const port = await freePort();
  const fleetEnv: Record<string, string> = {
    ...ws.env,
    PAGODA_DATABASE_URL: ws.db.url,
    PAGODA_MASTER_KEY: TEST_MASTER_KEY,
    PAGODA_PORT: String(port),
    PAGODA_HOST: '127.0.0.1',
    PAGODA_LOG_LEVEL: 'warn',
    PAGODA_DEMO_MERCHANT: '0',
    PAGODA_NOTIFY_ALLOW_HOSTS: '127.0.0.1',
    ...env,
  };
  let db: Db | undefined;
  return {
    ws,
    port,
    base: `https://127.0.0.1:${port}`,
    env: fleetEnv,
    async start(role, extra = {}) {
      const child = ws.spawn(['serve', '--role', role], { ...fleetEnv, ...extra });
      await child.waitFor(/Pagoda (is listening|worker is running)/, 30_000);
      return child;
    },
    spawn(role, extra = {}) {
      return ws.spawn(['serve', '--role', role], { ...fleetEnv, ...extra });
    },
    async ready(child) {
      await child.waitFor(/Pagoda (is listening|worker is running)/, 30_000);
      return child;
    },
    async merchant(name = 'Fleet Merchant') {
      const res = await ws.run(['merchant', 'create', '--name', name, '--currencies', 'MXN', '--json'], fleetEnv, 30_000);
      if (res.code !== 0) throw new Error(`merchant create failed (${res.code}): ${res.stderr}`);
      return JSON.parse(res.stdout) as MerchantCreds;
    },
    db() {
      db ??= openDatabase(ws.db.url, { poolSize: 2 });
      return db;
    },
    async cleanup() {
      await db?.destroy().catch(() => undefined);
      await ws.cleanup();
    },
  };
}

/** Stops a child with SIGTERM (SIGKILL after `killAfterMs`). */
export async function stopChild(child: Child, killAfterMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  child.proc.kill('SIGTERM');
  return child.exitWithin(killAfterMs);
}

let insecure: Agent | undefined;

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; text: string }> {
  const res = await request(url, {
    method: 'POST',
    dispatcher: (insecure ??= new Agent({ connect: { rejectUnauthorized: false }, headersTimeout: 20_000, bodyTimeout: 20_000 })),
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.body.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, json, text };
}

export async function v3Token(base: string, creds: MerchantCreds): Promise<string> {
  const res = await post(`${base}/api/v3/oauth/token`, { grant_type: 'client_credentials', app_id: creds.appId, app_secret: creds.appSecret });
  if (res.status !== 200) throw new Error(`token: ${res.status} ${res.text}`);
  return res.json.data.token as string;
}

/**
 * Creates `count` v3 SPEI pay-ins notifying `notifyUrl` and reports each PAID
 * through the sandbox, `concurrency` at a time. Each PAID change writes one
 * notification. Returns the order numbers.
 */
export async function createPaidPayins(
  base: string,
  creds: MerchantCreds,
  notifyUrl: string,
  count: number,
  opts: { concurrency?: number; prefix?: string } = {},
): Promise<string[]> {
  const concurrency = opts.concurrency ?? 20;
  const prefix = opts.prefix ?? `p${Date.now().toString(36)}`;
  const auth = { authorization: `Bearer ${await v3Token(base, creds)}` };
  const orderNos: string[] = new Array(count);
  let next = 0;
  const one = async (i: number) => {
    const created = await post(
      `${base}/api/v3/payment/create`,
      { merOrderNo: `${prefix}-${i}`, currency: 'MXN', amount: 100 + (i % 900), payMethod: 'spei', notifyUrl },
      auth,
    );
    if (created.status !== 200) throw new Error(`create #${i}: ${created.status} ${created.text}`);
    const orderNo = created.json.data.orderNo as string;
    const done = await post(`${base}/sandbox/v1/payins/${orderNo}/complete`, { outcome: 'PAID' }, auth);
    if (done.status !== 200) throw new Error(`complete ${orderNo}: ${done.status} ${done.text}`);
    orderNos[i] = orderNo;
  };
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await one(next++);
    }),
  );
  return orderNos;
}

/** Counts notifications per state. */
export async function notificationStates(db: Db): Promise<Record<string, number>> {
  const rows = await db.selectFrom('notifications').select(['state', (eb) => eb.fn.countAll<bigint>().as('n')]).groupBy('state').execute();
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}

/** Closes the keep-alive sockets of the API client (a later call opens new ones). */
export async function closeFleetAgent(): Promise<void> {
  const agent = insecure;
  insecure = undefined;
  await agent?.close();
}
