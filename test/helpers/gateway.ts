import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Agent, request } from 'undici';
import { buildApp } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { openCore, type Core } from '../../src/core.ts';
import { ManualClock } from '../../src/platform/clock.ts';
import type { App } from '../../src/platform/http/server.ts';
import { loadTls } from '../../src/platform/http/tls.ts';
import { createMerchant, type Credentials } from '../../src/modules/merchants/merchant.service.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { CASHIER_LINK_PURPOSE, cashierPath } from '../../src/modules/orders/cashier-link.ts';

export const TEST_MASTER_KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';

export interface TestGateway {
  url: string;
  app: ReturnType<typeof buildApp>;
  core: Core;
  clock: ManualClock;
  config: Config;
  dataDir: string;
  /** Every log line the server wrote. */
  logs: string[];
  /** An HTTPS client that trusts the gateway's certificate. */
  agent: Agent;
  setDraining(on: boolean): void;
  merchant(currencies?: string[]): Promise<Credentials>;
  call(method: 'GET' | 'HEAD' | 'POST', pathAndQuery: string, opts?: { body?: string | Buffer; headers?: Record<string, string | string[]> }): Promise<{ status: number; headers: Record<string, unknown>; json: Record<string, any>; text: string }>;
  token(creds: { appId: string; appSecret: string }): Promise<string>;
  /** The path of a pay-in's cashier page, with its key (as in `params.url`). */
  cashierPath(orderNo: string): string;
  close(): Promise<void>;
}

/**
 * A real gateway for a test: a fresh database (SQLite or PostgreSQL per
 * PAGODA_TEST_DB), real TLS on a loopback port, a manual clock.
 */
export async function startGateway(env: Record<string, string> = {}, opts: { listen?: boolean; db?: TestDatabase; routes?: (app: App) => void } = {}): Promise<TestGateway> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagoda-gw-'));
  const database = opts.db ?? (await createTestDatabase());
  const config = loadConfig({
    PAGODA_DATA_DIR: dataDir,
    PAGODA_DATABASE_URL: database.url,
    PAGODA_MASTER_KEY: TEST_MASTER_KEY,
    PAGODA_HOST: '127.0.0.1',
    PAGODA_PORT: '0',
    PAGODA_LOG_LEVEL: 'info',
    ...env,
  });
  const clock = new ManualClock(Date.now());
  const core = await openCore(config, clock);
  const tls = config.behindProxy
    ? undefined
    : await loadTls({ certFile: undefined, keyFile: undefined, dataDir, publicUrl: config.publicUrl });
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  let draining = false;
  const app = buildApp({ ...core, tls, isDraining: () => draining, logStream });
  opts.routes?.(app);
  let url = '';
  if (opts.listen !== false) {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  } else {
    await app.ready();
  }
  const agent = new Agent({ connect: tls ? { ca: tls.cert, servername: 'localhost' } : {} });

  const gw: TestGateway = {
    url,
    app,
    core,
    clock,
    config,
    dataDir,
    logs,
    agent,
    setDraining: (on) => {
      draining = on;
    },
    merchant: (currencies = ['IDR', 'MXN']) =>
      core.db.transaction().execute((tx) =>
        createMerchant(tx, { box: core.box, now: clock.now(), actor: 'test' }, { name: 'Test Merchant', currencies }),
      ),
    async call(method, pathAndQuery, o = {}) {
      const headers: Record<string, string | string[]> = { ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}), ...o.headers };
      const res = await request(url + pathAndQuery, { method, headers, body: o.body, dispatcher: agent });
      const text = await res.body.text();
      let json: Record<string, any> = {};
      try {
        json = JSON.parse(text);
      } catch {
        /* not JSON: callers look at text */
      }
      return { status: res.statusCode, headers: res.headers, json, text };
    },
    async token(creds) {
      const res = await gw.call('POST', '/api/v3/oauth/token', {
        body: JSON.stringify({ grant_type: 'client_credentials', app_id: creds.appId, app_secret: creds.appSecret }),
      });
      if (res.status !== 200) throw new Error(`token request failed: ${res.text}`);
      return res.json.data.token as string;
    },
    cashierPath: (orderNo) => cashierPath(core.box.derive(CASHIER_LINK_PURPOSE), orderNo),
    async close() {
      await app.close();
      await app.services.close();
      await agent.close();
      await core.db.destroy();
      if (!opts.db) await database.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return gw;
}
