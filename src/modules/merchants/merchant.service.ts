import type { Db } from '../../platform/db/database.ts';
import { badRequest, notFound } from '../../platform/errors.ts';
import type { AuthApp, Scope } from '../../platform/http/auth.ts';
import { newId, randomHex32 } from '../../platform/ids.ts';
import type { SecretBox } from '../../platform/secret-box.ts';
import { recordAudit } from '../audit/audit.service.ts';
import {
  checkCredential,
  isSecretValid,
  parseMerchantName,
  SCOPES,
  type AckMode,
  type NewMerchant,
} from './merchant.ts';
import * as repo from './merchant.repository.ts';

export interface MerchantDeps {
  box: SecretBox;
  now: number;
  /** Who acts, for the audit log. */
  actor: string;
}

export interface Credentials {
  merchantId: string;
  appId: string;
  appSecret: string;
}

/** What an app secret is sealed with (its row's identity). */
export const appSecretContext = (appId: string, secretId: string) => `app_secret:${appId}:${secretId}`;

async function addSecret(db: Db, deps: MerchantDeps, appId: string, secret: string): Promise<void> {
  const id = newId('sec_', deps.now);
  await repo.insertSecret(db, {
    id,
    app_id: appId,
    secret_enc: deps.box.seal(secret, appSecretContext(appId, id)),
    created_at: BigInt(deps.now),
    expires_at: null,
  });
}

/** Creates a merchant and its first app (scope payin,payout). The caller owns the transaction. */
export async function createMerchant(db: Db, deps: MerchantDeps, input: NewMerchant): Promise<Credentials> {
  const name = parseMerchantName(input.name);
  if (input.currencies.length === 0) throw badRequest('currencies: at least one is required');
  const merchantId = newId('mch_', deps.now);
  const now = BigInt(deps.now);
  await repo.insertMerchant(
    db,
    { id: merchantId, name, status: 'active', default_currency: input.currencies[0]!, created_at: now, updated_at: now },
    input.currencies,
  );
  await recordAudit(db, deps.now, { actor: deps.actor, action: 'merchant.create', subject: merchantId, detail: { name, currencies: input.currencies } });
  const app = await createApp(db, deps, { merchantId, scopes: [...SCOPES] });
  return { merchantId, ...app };
}

export interface NewApp {
  merchantId: string;
  scopes: Scope[];
  /** Existing credentials to import, e.g. from another Starpago-compatible provider. */
  appId?: string;
  appSecret?: string;
}

export async function createApp(db: Db, deps: MerchantDeps, input: NewApp): Promise<{ appId: string; appSecret: string }> {
  if (!(await repo.findMerchant(db, input.merchantId))) throw notFound(`merchant ${input.merchantId} does not exist`);
  if ((input.appId === undefined) !== (input.appSecret === undefined)) {
    throw badRequest('app-id and app-secret are imported together');
  }
  const appId = input.appId ? checkCredential('appId', input.appId) : randomHex32();
  const appSecret = input.appSecret ? checkCredential('appSecret', input.appSecret) : randomHex32();
  if (await repo.findApp(db, appId)) throw badRequest(`appId ${appId} already exists`);
  const now = BigInt(deps.now);
  await repo.insertApp(db, {
    app_id: appId,
    merchant_id: input.merchantId,
    scopes: input.scopes.join(','),
    ip_allow: null,
    ack_mode: 'strict',
    status: 'active',
    created_at: now,
    updated_at: now,
    token_epoch: 0n,
  });
  await addSecret(db, deps, appId, appSecret);
  await recordAudit(db, deps.now, {
    actor: deps.actor,
    action: input.appId ? 'app.import' : 'app.create',
    subject: appId,
    detail: { merchantId: input.merchantId, scopes: input.scopes },
  });
  return { appId, appSecret };
}

/** A new secret; the old ones stay valid for `graceMs` (0 ends them now). */
export async function rotateApp(db: Db, deps: MerchantDeps, appId: string, graceMs: number, reason?: string): Promise<{ appId: string; appSecret: string; oldSecretsValidUntil: number }> {
  if (!(await repo.findApp(db, appId))) throw notFound(`app ${appId} does not exist`);
  const until = deps.now + graceMs;
  await repo.expireOpenSecrets(db, appId, until);
  const appSecret = randomHex32();
  await addSecret(db, deps, appId, appSecret);
  await recordAudit(db, deps.now, { actor: deps.actor, action: 'app.rotate', subject: appId, reason, detail: { graceMs } });
  return { appId, appSecret, oldSecretsValidUntil: until };
}

export interface AppChanges {
  scopes?: Scope[];
  ipAllow?: string[] | null;
  ackMode?: AckMode;
  active?: boolean;
}

export async function updateApp(db: Db, deps: MerchantDeps, appId: string, changes: AppChanges, reason?: string): Promise<void> {
  if (!(await repo.findApp(db, appId))) throw notFound(`app ${appId} does not exist`);
  await repo.updateApp(
    db,
    appId,
    {
      ...(changes.scopes ? { scopes: changes.scopes.join(',') } : {}),
      ...(changes.ipAllow !== undefined ? { ip_allow: changes.ipAllow ? changes.ipAllow.join(',') : null } : {}),
      ...(changes.ackMode ? { ack_mode: changes.ackMode } : {}),
      ...(changes.active !== undefined ? { status: changes.active ? 'active' : 'disabled' } : {}),
    },
    deps.now,
  );
  await recordAudit(db, deps.now, { actor: deps.actor, action: 'app.update', subject: appId, reason, detail: { ...changes } });
}

/**
 * Disables a merchant (its apps' valid credentials are then answered 403
 * "merchant is disabled") or enables it again; audited with the reason.
 */
export async function setMerchantActive(db: Db, deps: MerchantDeps, merchantId: string, active: boolean, reason: string): Promise<void> {
  if (!(await repo.findMerchant(db, merchantId))) throw notFound(`merchant ${merchantId} does not exist`);
  await repo.setMerchantStatus(db, merchantId, active ? 'active' : 'disabled', deps.now);
  await recordAudit(db, deps.now, { actor: deps.actor, action: active ? 'merchant.enable' : 'merchant.disable', subject: merchantId, reason, detail: { reason } });
}

/** What authentication needs, with the secrets valid now decrypted (newest first). */
export async function loadAuthApp(db: Db, box: SecretBox, now: number, appId: string): Promise<AuthApp | undefined> {
  const app = await repo.findAppForAuth(db, appId);
  if (!app) return undefined;
  const valid = (await repo.listSecrets(db, appId)).filter((s) => isSecretValid(s.expires_at, now));
  const secrets = valid.map((s) => box.open(s.secret_enc, appSecretContext(appId, s.id)));
  return {
    appId,
    merchantId: app.merchant_id,
    active: app.status === 'active' && secrets.length > 0,
    merchantDisabled: app.merchant_status !== 'active',
    scopes: app.scopes.split(',') as Scope[],
    ipAllow: app.ip_allow ? app.ip_allow.split(',') : null,
    secrets,
    secretIds: valid.map((s) => s.id),
    tokenEpoch: Number(app.token_epoch),
  };
}

/** Where a read outside a transaction may come from the prepared, committed-state path. */
export interface ReadOptions {
  committed?: boolean;
}

/** What a create needs of its merchant. */
export interface MerchantFacts {
  name: string;
  defaultCurrency: string;
  currencies: string[];
}

/** The merchant's currencies, with its name (what a create needs of the merchant, in one read of its row). */
export async function merchantCurrencies(db: Db, merchantId: string, opts: ReadOptions = {}): Promise<MerchantFacts> {
  const merchant = opts.committed ? await repo.findCommittedMerchant(db, merchantId) : await repo.findMerchant(db, merchantId);
  if (!merchant) throw notFound(`merchant ${merchantId} does not exist`);
  const currencies = opts.committed ? await repo.listCommittedCurrencies(db, merchantId) : await repo.listCurrencies(db, merchantId);
  return { name: merchant.name, defaultCurrency: merchant.default_currency, currencies };
}

/** What an operator is shown of a merchant: its state, currencies (the default first) and apps, never a secret. */
export async function describeMerchant(db: Db, now: number, merchantId: string) {
  const merchant = await repo.findMerchant(db, merchantId);
  if (!merchant) throw notFound(`merchant ${merchantId} does not exist`);
  const currencies = await repo.listCurrencies(db, merchantId);
  const apps = [];
  for (const app of await repo.listApps(db, merchantId)) {
    const secrets = (await repo.listSecrets(db, app.app_id)).filter((s) => isSecretValid(s.expires_at, now));
    apps.push({
      appId: app.app_id,
      status: app.status,
      scopes: app.scopes.split(','),
      ackMode: app.ack_mode,
      ipAllow: app.ip_allow ? app.ip_allow.split(',') : [],
      validSecrets: secrets.length,
    });
  }
  return {
    merchantId: merchant.id,
    name: merchant.name,
    status: merchant.status,
    currencies: [merchant.default_currency, ...currencies.filter((c) => c !== merchant.default_currency)],
    apps,
  };
}

export async function hasMerchants(db: Db): Promise<boolean> {
  return (await repo.countMerchants(db)) > 0;
}

/** The merchant's display name (committed state: for channel calls and pages, never inside a transaction). */
export async function merchantName(db: Db, merchantId: string): Promise<string> {
  const merchant = await repo.findCommittedMerchant(db, merchantId);
  if (!merchant) throw notFound(`merchant ${merchantId} does not exist`);
  return merchant.name;
}

/** What signing a notification needs: the valid secrets, newest first (more than one during a rotation's grace), and the app's acknowledgement rule. */
export async function loadSigningApp(db: Db, box: SecretBox, now: number, appId: string): Promise<{ secrets: string[]; ackMode: AckMode } | undefined> {
  const app = await repo.findApp(db, appId);
  if (!app) return undefined;
  const secrets = (await repo.listSecrets(db, appId))
    .filter((s) => isSecretValid(s.expires_at, now))
    .map((s) => box.open(s.secret_enc, appSecretContext(appId, s.id)));
  return secrets.length === 0 ? undefined : { secrets, ackMode: app.ack_mode as AckMode };
}
