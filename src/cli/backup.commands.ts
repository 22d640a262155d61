import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.ts';
import { existingMasterKey, requireMasterKeyOpens } from '../core.ts';
import { createFileOnce } from '../platform/files.ts';
import { badRequest } from '../platform/errors.ts';
import { openSqliteReadOnly, snapshotSqlite, syncDirectory } from '../platform/db/snapshot.ts';
import type { Db } from '../platform/db/database.ts';
import { requireExistingDatabase } from './core.ts';
import { print } from './output.ts';

interface BackupResult {
  backup: string;
  database: string;
  bytes: number;
  orders: number;
  masterKey: string;
  tls: string;
}

const exists = (dir: string) => badRequest(`--to: ${dir} already exists; a backup goes into a new directory`);

/** `fn` on a read-only connection to the SQLite file, closed afterwards. */
async function readOnly<T>(file: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = openSqliteReadOnly(file);
  try {
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

async function countOrders(db: Db): Promise<number> {
  const row = await db.selectFrom('orders').select((eb) => eb.fn.countAll<bigint>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The data directory's own certificate and key (made on first start), when the gateway uses them. */
function keptTls(config: Config): string[] {
  if (config.tlsCert) return [];
  const files = ['cert.pem', 'key.pem'].map((name) => path.join(config.dataDir, 'tls', name));
  return files.every((file) => fs.existsSync(file)) ? files : [];
}

/**
 * Copies the database, and the data directory's master key and certificate,
 * into `dir`. Nothing is changed at the source: no migration, no new key. The
 * copy is made in a sibling directory and renamed to `dir` only once complete
 * and checked, so `dir` exists only for a whole backup; an interrupted one
 * leaves `<dir>.partial-…` beside it.
 */
async function backUp(config: Config, dir: string): Promise<BackupResult> {
  requireExistingDatabase(config);
  const source = config.databaseUrl.slice('sqlite:'.length);
  const key = existingMasterKey(config);
  await readOnly(source, (db) => requireMasterKeyOpens(db, key.box, key.name));
  if (fs.existsSync(dir)) throw exists(dir);
  const parent = path.dirname(dir);
  if (!fs.existsSync(parent)) throw Object.assign(new Error(`${parent} does not exist (the directory --to is made in)`), { code: 'ENOENT' });
  const work = `${dir}.partial-${randomBytes(4).toString('hex')}`;
  fs.mkdirSync(work, { mode: 0o700 });
  try {
    const bytes = snapshotSqlite(source, path.join(work, 'pagoda.db'));
    const orders = await readOnly(path.join(work, 'pagoda.db'), async (db) => {
      await requireMasterKeyOpens(db, key.box, key.name);
      return countOrders(db);
    });
    if (key.file) createFileOnce(path.join(work, 'master.key'), fs.readFileSync(key.file, 'utf8'), 0o600);
    const tls = keptTls(config);
    if (tls.length > 0) {
      fs.mkdirSync(path.join(work, 'tls'), { mode: 0o700 });
      for (const file of tls) createFileOnce(path.join(work, 'tls', path.basename(file)), fs.readFileSync(file, 'utf8'), 0o600);
      syncDirectory(path.join(work, 'tls'));
    }
    syncDirectory(work);
    try {
      fs.renameSync(work, dir);
    } catch (err) {
      // Another backup finished there first.
      if (['ENOTEMPTY', 'EEXIST', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) throw exists(dir);
      throw err;
    }
    syncDirectory(parent);
    return {
      backup: dir,
      database: path.join(dir, 'pagoda.db'),
      bytes,
      orders,
      masterKey: key.file ? 'copied' : 'not copied: it comes from PAGODA_MASTER_KEY; keep that key with this backup',
      tls: tls.length > 0 ? 'copied' : config.tlsCert ? 'not copied: PAGODA_TLS_CERT and PAGODA_TLS_KEY name their own files' : 'none in the data directory',
    };
  } catch (err) {
    fs.rmSync(work, { recursive: true, force: true });
    throw err;
  }
}

export function registerBackupCommand(program: Command): void {
  program
    .command('backup')
    .description('copy the SQLite database, and the data directory\'s master key and certificate, into a new directory, while the gateway runs; changes nothing at the source')
    .requiredOption('--to <dir>', 'a new directory to make (its parent must exist)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { to: string; json?: boolean }) => {
      const config = loadConfig();
      if (!config.databaseUrl.startsWith('sqlite:') || config.databaseUrl === 'sqlite::memory:') {
        throw badRequest('backup copies a SQLite database; back up PostgreSQL with pg_dump (README, Backup and restore) and keep PAGODA_MASTER_KEY with it');
      }
      print({ ...(await backUp(config, path.resolve(opts.to))) }, Boolean(opts.json));
    });
}
