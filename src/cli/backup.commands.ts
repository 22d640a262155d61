import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { masterKeyFile, requireMasterKeyOpens, type Core } from '../core.ts';
import { createFileOnce } from '../platform/files.ts';
import { badRequest } from '../platform/errors.ts';
import { openSqliteReadOnly, snapshotSqlite, syncDirectory } from '../platform/db/snapshot.ts';
import { withCore } from './core.ts';
import { print } from './output.ts';

interface BackupResult {
  backup: string;
  database: string;
  bytes: number;
  orders: number;
  masterKey: string;
}

/**
 * A new directory (owner only) for a backup, in one that exists: refused if it
 * exists itself, so a backup never mixes with or overwrites another.
 */
function makeBackupDirectory(dir: string): void {
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw badRequest(`--to: ${dir} already exists; a backup goes into a new directory`);
    throw err;
  }
}

/** Copies the database, checks the copy opens with the master key, and copies the key when the data directory holds it. */
async function backUp(core: Core, dir: string): Promise<BackupResult> {
  const source = core.config.databaseUrl.slice('sqlite:'.length);
  makeBackupDirectory(dir);
  try {
    const database = path.join(dir, 'pagoda.db');
    const bytes = snapshotSqlite(source, database);
    const copy = openSqliteReadOnly(database);
    let orders: number;
    try {
      await requireMasterKeyOpens(copy, core.box);
      const row = await copy.selectFrom('orders').select((eb) => eb.fn.countAll<bigint>().as('n')).executeTakeFirstOrThrow();
      orders = Number(row.n);
    } finally {
      await copy.destroy();
    }
    let masterKey = 'not copied: it comes from PAGODA_MASTER_KEY; keep that key with this backup';
    if (!core.config.masterKey) {
      createFileOnce(path.join(dir, 'master.key'), fs.readFileSync(masterKeyFile(core.config), 'utf8'), 0o600);
      syncDirectory(dir);
      masterKey = 'copied';
    }
    return { backup: dir, database, bytes, orders, masterKey };
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

export function registerBackupCommand(program: Command): void {
  program
    .command('backup')
    .description('copy the SQLite database, and the master key of the data directory, into a new directory, while the gateway runs')
    .requiredOption('--to <dir>', 'a new directory to make (its parent must exist)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { to: string; json?: boolean }) => {
      const config = loadConfig();
      if (!config.databaseUrl.startsWith('sqlite:') || config.databaseUrl === 'sqlite::memory:') {
        throw badRequest('backup copies a SQLite database; back up PostgreSQL with pg_dump (README, Backup and restore) and keep PAGODA_MASTER_KEY with it');
      }
      const dir = path.resolve(opts.to);
      print({ ...(await withCore((core) => backUp(core, dir))) }, Boolean(opts.json));
    });
}
