import type { Config } from './config.ts';
import { createTokenService, type TokenService } from './platform/auth/tokens.ts';
import { systemClock, type Clock } from './platform/clock.ts';
import { openDatabase, type Db } from './platform/db/database.ts';
import { migrateToLatest } from './platform/db/migrate.ts';
import { createTransactor, type Transact } from './platform/db/transactor.ts';
import { loadMasterKey, SecretBox } from './platform/secret-box.ts';

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
  const box = new SecretBox(loadMasterKey(config.masterKey, config.dataDir, isSqlite));
  const db = openDatabase(config.databaseUrl);
  try {
    await migrateToLatest(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const tokens = createTokenService({ db, box, clock, issuer: config.tokenIssuer });
  return { config, db, transact: createTransactor(db), box, clock, tokens };
}

