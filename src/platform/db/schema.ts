/**
 * Row types of every table, as Kysely sees them. Integers are `bigint` on both
 * databases (SQLite with safe integers, PostgreSQL int8 parsed to BigInt), so
 * every integer column is declared int8/bigint in the migrations.
 */
import type { ColumnType, Insertable, Selectable } from 'kysely';

/** Epoch milliseconds. Written as number or bigint, read as bigint. */
export type Millis = ColumnType<bigint, bigint | number, bigint | number>;

export interface MerchantsTable {
  id: string;
  name: string;
  status: string;
  default_currency: string;
  created_at: Millis;
  updated_at: Millis;
}

export interface MerchantCurrenciesTable {
  merchant_id: string;
  currency: string;
}

export interface AppsTable {
  app_id: string;
  merchant_id: string;
  scopes: string;
  ip_allow: string | null;
  ack_mode: string;
  status: string;
  created_at: Millis;
  updated_at: Millis;
}

export interface AppSecretsTable {
  id: string;
  app_id: string;
  secret_enc: string;
  created_at: Millis;
  expires_at: Millis | null;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  key_enc: string;
  created_at: Millis;
  retired_at: Millis | null;
}

export interface AuditLogTable {
  id: string;
  actor: string;
  action: string;
  subject: string;
  reason: string | null;
  detail: string | null;
  created_at: Millis;
}

export interface Database {
  merchants: MerchantsTable;
  merchant_currencies: MerchantCurrenciesTable;
  apps: AppsTable;
  app_secrets: AppSecretsTable;
  signing_keys: SigningKeysTable;
  audit_log: AuditLogTable;
}

export type MerchantRow = Selectable<MerchantsTable>;
export type AppRow = Selectable<AppsTable>;
export type AppSecretRow = Selectable<AppSecretsTable>;
export type SigningKeyRow = Selectable<SigningKeysTable>;
export type NewAuditEntry = Insertable<AuditLogTable>;
