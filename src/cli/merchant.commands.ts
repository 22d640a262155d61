import type { Command } from 'commander';
import type { Core } from '../core.ts';
import { parseDuration } from '../platform/duration.ts';
import { badRequest, type AppError } from '../platform/errors.ts';
import {
  parseAckMode,
  parseCurrencies,
  parseIpAllowList,
  parseMerchantName,
  parseScopes,
} from '../modules/merchants/merchant.ts';
import { createApp, createMerchant, describeMerchant, rotateApp, setMerchantActive, updateApp } from '../modules/merchants/merchant.service.ts';
import { cliActor } from './actor.ts';
import { withCore } from './core.ts';
import { print, printRows } from './output.ts';

const deps = (core: Core) => ({ box: core.box, now: core.clock.now(), actor: cliActor() });

export function registerMerchantCommands(program: Command): void {
  const merchant = program.command('merchant').description('merchants');
  merchant
    .command('create')
    .description('create a merchant and its first app (scope payin,payout)')
    .requiredOption('--name <name>', 'merchant name')
    .requiredOption('--currencies <codes>', 'enabled currencies, e.g. MXN,BRL (the first is the default)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { name: string; currencies: string; json?: boolean }) => {
      const currencies = parseCurrencies(opts.currencies);
      // Checked before the database is opened: a refused create must not leave a new database behind.
      const name = parseMerchantName(opts.name);
      const result = await withCore(
        (core) => core.db.transaction().execute((tx) => createMerchant(tx, deps(core), { name, currencies })),
        { create: true },
      );
      print({ ...result }, Boolean(opts.json));
    });

  merchant
    .command('show')
    .description('a merchant: its status, currencies (the default first) and apps (no secrets)')
    .requiredOption('--merchant <id>', 'merchant id')
    .option('--json', 'machine-readable output')
    .action(async (opts: { merchant: string; json?: boolean }) => {
      const shown = await withCore((core) => describeMerchant(core.db, core.clock.now(), opts.merchant));
      if (opts.json) {
        print(shown, true);
        return;
      }
      print({ ...shown, apps: shown.apps.map((a) => a.appId) }, false);
      process.stdout.write('\n');
      printRows(shown.apps, false);
    });

  merchant
    .command('update')
    .description('disable a merchant (its credentials are then answered 403) or enable it again')
    .requiredOption('--merchant <id>', 'merchant id')
    .option('--disable', 'stop the merchant: every API call with its credentials is refused with 403')
    .option('--enable', 'enable a disabled merchant')
    .requiredOption('--reason <text>', 'why, for the audit log (required)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { merchant: string; disable?: boolean; enable?: boolean; reason: string; json?: boolean }) => {
      if (Boolean(opts.disable) === Boolean(opts.enable)) throw badRequest('give exactly one of --disable and --enable');
      if (!opts.reason.trim()) throw badRequest('reason: give why, for the audit log');
      const active = Boolean(opts.enable);
      await withCore((core) => core.db.transaction().execute((tx) => setMerchantActive(tx, deps(core), opts.merchant, active, opts.reason)));
      print({ merchantId: opts.merchant, status: active ? 'active' : 'disabled' }, Boolean(opts.json));
    });

  const app = program.command('app').description('merchant apps (credentials)');
  app
    .command('create')
    .description('create an app, or import existing credentials with --app-id/--app-secret')
    .requiredOption('--merchant <id>', 'merchant id')
    .option('--scope <scopes>', 'payin, payout or payin,payout', 'payin,payout')
    .option('--app-id <hex>', 'existing appId to import (32 lowercase hex)')
    .option('--app-secret <hex>', 'existing appSecret to import (32 lowercase hex)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { merchant: string; scope: string; appId?: string; appSecret?: string; json?: boolean }) => {
      const scopes = parseScopes(opts.scope);
      const result = await withCore((core) =>
        core.db.transaction().execute((tx) =>
          createApp(tx, deps(core), { merchantId: opts.merchant, scopes, appId: opts.appId, appSecret: opts.appSecret }),
        ),
      );
      print({ ...result }, Boolean(opts.json));
    });

  app
    .command('rotate')
    .description('issue a new secret; the old one stays valid for the grace period')
    .requiredOption('--app-id <id>', 'app id')
    .option('--grace <duration>', 'how long the old secret stays valid (e.g. 24h, 0s)', '24h')
    .option('--reason <text>', 'why, for the audit log')
    .option('--json', 'machine-readable output')
    .action(async (opts: { appId: string; grace: string; reason?: string; json?: boolean }) => {
      let graceMs: number;
      try {
        graceMs = parseDuration(opts.grace);
      } catch (err) {
        throw badRequest(`grace: ${(err as AppError).detail}`);
      }
      const result = await withCore((core) =>
        core.db.transaction().execute((tx) => rotateApp(tx, deps(core), opts.appId, graceMs, opts.reason)),
      );
      print({ appId: result.appId, appSecret: result.appSecret, oldSecretValidUntil: new Date(result.oldSecretsValidUntil).toISOString() }, Boolean(opts.json));
    });

  app
    .command('update')
    .description('change an app: acknowledgement rule, IP allow-list, scope, or disable it')
    .requiredOption('--app-id <id>', 'app id')
    .option('--ack <mode>', 'strict (SUCCESS/OK body) or any-2xx')
    .option('--ip-allow <cidrs>', 'comma-separated addresses/CIDRs; "" allows any address')
    .option('--scope <scopes>', 'payin, payout or payin,payout')
    .option('--disable', 'revoke the app: its tokens and signatures stop working')
    .option('--enable', 'enable a disabled app')
    .option('--reason <text>', 'why, for the audit log')
    .option('--json', 'machine-readable output')
    .action(async (opts: { appId: string; ack?: string; ipAllow?: string; scope?: string; disable?: boolean; enable?: boolean; reason?: string; json?: boolean }) => {
      if (opts.disable && opts.enable) throw badRequest('give at most one of --disable and --enable');
      const changes = {
        ...(opts.ack !== undefined ? { ackMode: parseAckMode(opts.ack) } : {}),
        ...(opts.ipAllow !== undefined ? { ipAllow: parseIpAllowList(opts.ipAllow) } : {}),
        ...(opts.scope !== undefined ? { scopes: parseScopes(opts.scope) } : {}),
        ...(opts.disable ? { active: false } : opts.enable ? { active: true } : {}),
      };
      if (Object.keys(changes).length === 0) throw badRequest('nothing to change: give --ack, --ip-allow, --scope, --disable or --enable');
      await withCore((core) => core.db.transaction().execute((tx) => updateApp(tx, deps(core), opts.appId, changes, opts.reason)));
      print({ appId: opts.appId, updated: Object.keys(changes) }, Boolean(opts.json));
    });
}
