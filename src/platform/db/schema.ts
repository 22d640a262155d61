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
  /** Moves on when the app is disabled: tokens of an earlier epoch are refused (0008). */
  token_epoch: ColumnType<bigint, bigint | number, bigint | number>;
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

export interface OrdersTable {
  order_no: string;
  direction: string;
  merchant_id: string;
  app_id: string;
  generation: string;
  mer_order_no: string;
  request_hash: string;
  currency: string;
  amount: bigint;
  paid_amount: bigint | null;
  fee: ColumnType<bigint, bigint | undefined, bigint>;
  method: string | null;
  channel: string | null;
  channel_ref: string | null;
  status: string;
  acknowledged: ColumnType<bigint, bigint | undefined, bigint>;
  attach: string | null;
  notify_url: string;
  return_url: string | null;
  extra: string | null;
  params: string | null;
  message: string | null;
  expires_at: bigint | null;
  checked_at: ColumnType<bigint | null, bigint | number | null | undefined, bigint | number | null>;
  created_at: Millis;
  updated_at: Millis;
  version: ColumnType<bigint, bigint | undefined, bigint>;
}

export interface OrderEventsTable {
  id: string;
  order_no: string;
  seq: bigint;
  from_status: string | null;
  to_status: string;
  cause: string;
  actor: string;
  detail: string | null;
  created_at: Millis;
}

export interface MethodSettingsTable {
  merchant_id: string;
  direction: string;
  method: string;
  channel: string;
  enabled: bigint;
  fee_bps: bigint;
  fee_fixed: bigint;
  min_amount: bigint | null;
  max_amount: bigint | null;
  updated_at: Millis;
}

export interface NotificationsTable {
  id: string;
  order_no: string;
  merchant_id: string;
  app_id: string;
  status: string;
  url: string;
  origin: string;
  payload: string;
  state: string;
  attempts: ColumnType<bigint, bigint | undefined, bigint>;
  next_attempt_at: Millis;
  lease_until: Millis | null;
  last_error: string | null;
  created_at: Millis;
  updated_at: Millis;
  delivered_at: Millis | null;
}

export interface SandboxBankTable {
  order_no: string;
  direction: string;
  status: string;
  amount: bigint;
  paid_amount: bigint | null;
  event_id: string | null;
  due_at: bigint | null;
  updated_at: Millis;
}

export interface NotificationAttemptsTable {
  id: string;
  notification_id: string;
  attempt_no: bigint;
  started_at: Millis;
  url: string;
  request_headers: string;
  request_body: string;
  response_status: bigint | null;
  response_body: string | null;
  duration_ms: bigint;
  error_class: string | null;
  outcome: string;
  reason: string | null;
}

export interface ChannelEventsTable {
  channel: string;
  event_id: string;
  order_no: string;
  received_at: Millis;
}

export interface Database {
  merchants: MerchantsTable;
  merchant_currencies: MerchantCurrenciesTable;
  apps: AppsTable;
  app_secrets: AppSecretsTable;
  signing_keys: SigningKeysTable;
  audit_log: AuditLogTable;
  orders: OrdersTable;
  order_events: OrderEventsTable;
  method_settings: MethodSettingsTable;
  notifications: NotificationsTable;
  sandbox_bank: SandboxBankTable;
  notification_attempts: NotificationAttemptsTable;
  channel_events: ChannelEventsTable;
}

export type NotificationRow = Selectable<NotificationsTable>;

export type OrderRow = Selectable<OrdersTable>;
export type NewOrderRow = Insertable<OrdersTable>;
export type NewOrderEventRow = Insertable<OrderEventsTable>;
export type MethodSettingsRow = Selectable<MethodSettingsTable>;

export type MerchantRow = Selectable<MerchantsTable>;
export type AppRow = Selectable<AppsTable>;
export type AppSecretRow = Selectable<AppSecretsTable>;
export type SigningKeyRow = Selectable<SigningKeysTable>;
export type NewAuditEntry = Insertable<AuditLogTable>;

// Ledger (0004_ledger). Declared by merging into `Database` so this block only appends.
export interface LedgerAccountsTable {
  id: string;
  merchant_id: string | null;
  currency: string;
  kind: string;
  balance: ColumnType<bigint, bigint | undefined, bigint>;
  /** 1: the database refuses a negative balance (CHECK); 0: may go negative. */
  non_negative: bigint;
  created_at: Millis;
}

export interface JournalEntriesTable {
  id: string;
  kind: string;
  currency: string;
  order_no: string | null;
  reference: string | null;
  actor: string;
  reason: string | null;
  created_at: Millis;
}

export interface PostingsTable {
  id: string;
  entry_id: string;
  account_id: string;
  amount: bigint;
  created_at: Millis;
}

export interface Database {
  ledger_accounts: LedgerAccountsTable;
  journal_entries: JournalEntriesTable;
  postings: PostingsTable;
}

export type LedgerAccountRow = Selectable<LedgerAccountsTable>;
export type JournalEntryRow = Selectable<JournalEntriesTable>;
export type PostingRow = Selectable<PostingsTable>;
