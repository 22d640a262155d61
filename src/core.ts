import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, type Config } from './config.ts';
import { appSecretContext } from './modules/merchants/merchant.service.ts';
import { createTokenService, signingKeyContext, type TokenService } from './platform/auth/tokens.ts';
import { systemClock, type Clock } from './platform/clock.ts';
import { openDatabase, type Db } from './platform/db/database.ts';
import { migrateToLatest } from './platform/db/migrate.ts';
import { createTransactor, type Transact } from './platform/db/transactor.ts';
import { createFileOnce, makeDirectories } from './platform/files.ts';
import { parseMasterKey, SecretBox } from './platform/secret-box.ts';

/** The shared core of every command: database, migrations, secrets. */
export interface Core {
  config: Config;
  db: Db;
  /** Transactions for the services (grouped commits on SQLite). */
  transact: Transact;
  box: SecretBox;
  clock: Clock;
  tokens: TokenService;
}

export async function openCore(config: Config, clock: Clock = systemClock): Promise<Core> {
  const isSqlite = config.databaseUrl.startsWith('sqlite:');
  const box = new SecretBox(masterKey(config, isSqlite));
  const db = openDatabase(config.databaseUrl, { poolSize: config.dbPoolSize });
  try {
    await migrateToLatest(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  try {
    await requireMasterKeyOpens(db, box, config.masterKey ? 'PAGODA_MASTER_KEY' : masterKeyFile(config));
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const tokens = createTokenService({ db, box, clock, issuer: config.tokenIssuer });
  return { config, db, transact: createTransactor(db), box, clock, tokens };
}

/**
 * The configured master key, or for the embedded default the one kept in the
 * data directory, generated there on first start (readable by the owner only).
 */
function masterKey(config: Config, isSqlite: boolean): Buffer {
  if (config.masterKey) return parseMasterKey(config.masterKey);
  if (!isSqlite) throw new ConfigError('PAGODA_MASTER_KEY: required with PostgreSQL (32 bytes as 64 hex characters or base64)');
  const file = masterKeyFile(config);
  if (fs.existsSync(file)) return keptKey(file);
  makeDirectories(config.dataDir);
  const key = randomBytes(32);
  // Another process may have created it first: then theirs is used.
  return createFileOnce(file, key.toString('hex') + '\n', 0o600) ? key : keptKey(file);
}

/** Where the embedded default keeps its master key (used when PAGODA_MASTER_KEY is not set). */
export function masterKeyFile(config: Config): string {
  return path.join(config.dataDir, 'master.key');
}

/**
 * The master key a command that must not change anything uses: the configured
 * one, or the data directory's file, never a new one. `name` says where it came from.
 */
export function existingMasterKey(config: Config): { box: SecretBox; name: string; file?: string } {
  if (config.masterKey) return { box: new SecretBox(parseMasterKey(config.masterKey)), name: 'PAGODA_MASTER_KEY' };
  const file = masterKeyFile(config);
  if (!fs.existsSync(file)) throw new ConfigError(`no master key: ${file} does not exist and PAGODA_MASTER_KEY is not set`);
  return { box: new SecretBox(keptKey(file)), name: file, file };
}

function keptKey(file: string): Buffer {
  try {
    return parseMasterKey(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code) throw err;
    throw new ConfigError(`${file}: not a master key (32 bytes as 64 hex characters or base64); restore the file this data directory was created with`);
  }
}

/**
 * The master key must open what the database holds sealed (its newest signing
 * key and app secret): with another key a process would serve 500s, or seal new
 * secrets no other process can open, before anyone noticed.
 */
export async function requireMasterKeyOpens(db: Db, box: SecretBox, keyName: string): Promise<void> {
  const key = await db.selectFrom('signing_keys').select(['kid', 'key_enc']).orderBy('created_at', 'desc').limit(1).executeTakeFirst();
  const secret = await db.selectFrom('app_secrets').select(['id', 'app_id', 'secret_enc']).orderBy('created_at', 'desc').limit(1).executeTakeFirst();
  try {
    if (key) box.open(key.key_enc, signingKeyContext(key.kid));
    if (secret) box.open(secret.secret_enc, appSecretContext(secret.app_id, secret.id));
  } catch {
    throw new ConfigError(`${keyName} does not open the secrets this database holds: use the key it was created with`);
  }
}

