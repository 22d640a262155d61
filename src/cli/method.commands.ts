import type { Command } from 'commander';
import { badRequest } from '../platform/errors.ts';
import { formatMajor, parseMajorText } from '../platform/money.ts';
import { BANKS, type Country } from '../modules/channels/banks.ts';
import { CATALOGUE, findMethod, type MethodDef } from '../modules/channels/catalogue.ts';
import { changeMethodSettings } from '../modules/channels/method-settings.ts';
import { merchantCurrencies } from '../modules/merchants/merchant.service.ts';
import { validateFeeRule } from '../modules/orders/fee.ts';
import { isDirection } from '../modules/orders/order.ts';
import { CHANNEL_NAMES } from '../services.ts';
import { recordAudit } from '../modules/audit/audit.service.ts';
import { cliActor } from './actor.ts';
import { withCore } from './core.ts';
import { print, printRows } from './output.ts';
import { asciiUpper } from '../platform/ascii.ts';
import { parseCurrencyOption } from './options.ts';

interface SetOptions {
  merchant: string;
  method: string;
  direction: string;
  channel?: string;
  feeBps?: string;
  feeFixed?: string;
  min?: string;
  max?: string;
  disable?: boolean;
  enable?: boolean;
  reason?: string;
  json?: boolean;
}

function parseBps(text: string): bigint {
  if (!/^\d{1,5}$/.test(text)) throw badRequest('fee-bps: a whole number of basis points (0 to 10000)');
  return BigInt(text);
}

/** A catalogue entry as `method list` prints it. */
function listed(def: MethodDef): Record<string, unknown> {
  return {
    method: def.code,
    currency: def.currency,
    name: def.label,
    directions: def.directions,
    aliases: def.aliases ?? [],
    payinExtra: def.directions.includes('payin') ? (def.requiredExtra.payin ?? []) : undefined,
    payinOptional: def.directions.includes('payin') ? (def.optionalExtra.payin ?? []) : undefined,
    payoutExtra: def.directions.includes('payout') ? (def.requiredExtra.payout ?? []) : undefined,
    payoutOptional: def.directions.includes('payout') ? (def.optionalExtra.payout ?? []) : undefined,
    payTypes: def.payTypes,
    params: def.directions.includes('payin') ? ['url', 'paymentLink', ...def.paramKinds] : undefined,
  };
}

export function registerMethodCommands(program: Command): void {
  const method = program.command('method').description("the method catalogue, and a merchant's methods: channel routing, fees and limits");
  method
    .command('list')
    .description('the catalogue: every method, its currency, directions, aliases, required extra and pay-in params (also docs/methods.md)')
    .option('--currency <code>', 'only the methods of this currency')
    .option('--json', 'machine-readable output')
    .action((opts: { currency?: string; json?: boolean }) => {
      const currency = opts.currency === undefined ? undefined : parseCurrencyOption(opts.currency);
      printRows(CATALOGUE.filter((def) => currency === undefined || def.currency === currency).map(listed), Boolean(opts.json));
    });
  method
    .command('banks')
    .description("the codes a payout's extra.bankCode accepts in a country (also docs/methods.md)")
    .requiredOption('--country <code>', Object.keys(BANKS).join(', '))
    .option('--json', 'machine-readable output')
    .action((opts: { country: string; json?: boolean }) => {
      const country = asciiUpper(opts.country.trim());
      if (!Object.hasOwn(BANKS, country)) throw badRequest(`country: ${opts.country} is not one of ${Object.keys(BANKS).join(', ')}`);
      const banks = BANKS[country as Country];
      if (banks.length === 0) throw badRequest(`country: ${country} has no bank codes (${country === 'IN' ? 'bankCode is the branch IFSC' : 'payouts go to a PIX key'})`);
      printRows(banks.map((b) => ({ bankCode: b.code, name: b.name, kind: b.kind, aliases: b.aliases ?? [] })), Boolean(opts.json));
    });
  method
    .command('set')
    .description('route a method to a channel and set its fee and limits for one merchant')
    .requiredOption('--merchant <id>', 'merchant id')
    .requiredOption('--method <code>', 'catalogue code, e.g. MX_SPEI')
    .option('--direction <direction>', 'payin or payout', 'payin')
    .option('--channel <name>', 'channel serving the method (default: sandbox)')
    .option('--fee-bps <n>', 'percentage fee in basis points (250 = 2.5 %)')
    .option('--fee-fixed <amount>', "fixed fee in the method's currency, e.g. 1.50")
    .option('--min <amount>', 'smallest amount accepted')
    .option('--max <amount>', 'largest amount accepted')
    .option('--disable', 'refuse orders with this method')
    .option('--enable', 'accept orders with this method again')
    .option('--reason <text>', 'why, for the audit log')
    .option('--json', 'machine-readable output')
    .action(async (opts: SetOptions) => {
      if (opts.disable && opts.enable) throw badRequest('give at most one of --disable and --enable');
      const def = findMethod(asciiUpper(opts.method.trim()));
      if (!def) throw badRequest(`method: ${opts.method} is not in the catalogue`);
      if (!isDirection(opts.direction) || !def.directions.includes(opts.direction)) {
        throw badRequest(`direction: ${def.code} serves ${def.directions.join(' and ')}`);
      }
      const direction = opts.direction;
      const show = (v: bigint | null) => (v === null ? null : formatMajor(v, def.currency));
      const money = (field: string, text: string) => parseMajorText(text, def.currency, { field, allowZero: true, maxDecimals: 2 });
      const result = await withCore(async (core) => {
        const { currencies } = await merchantCurrencies(core.db, opts.merchant);
        if (!currencies.includes(def.currency)) throw badRequest(`method: ${def.code} is in ${def.currency}, which the merchant is not enabled for`);
        if (opts.channel && !CHANNEL_NAMES.includes(opts.channel)) throw badRequest(`channel: ${opts.channel} is not configured`);
        const now = core.clock.now();
        return core.db.transaction().execute(async (tx) => {
          const next = await changeMethodSettings(tx, now, { merchantId: opts.merchant, direction, method: def.code }, (current) => {
            const changed = {
              channel: opts.channel ?? current.channel,
              enabled: opts.disable ? false : opts.enable ? true : current.enabled,
              fee: {
                bps: opts.feeBps !== undefined ? parseBps(opts.feeBps) : current.fee.bps,
                fixedMinor: opts.feeFixed !== undefined ? money('fee-fixed', opts.feeFixed) : current.fee.fixedMinor,
              },
              minAmount: opts.min !== undefined ? money('min', opts.min) : current.minAmount,
              maxAmount: opts.max !== undefined ? money('max', opts.max) : current.maxAmount,
            };
            validateFeeRule(changed.fee, 'fee');
            if (changed.minAmount !== null && changed.maxAmount !== null && changed.minAmount > changed.maxAmount) throw badRequest('min: must not exceed max');
            return changed;
          });
          await recordAudit(tx, now, {
            actor: cliActor(),
            action: 'method.set',
            subject: opts.merchant,
            reason: opts.reason,
            detail: { method: def.code, direction, channel: next.channel, enabled: next.enabled, feeBps: Number(next.fee.bps), feeFixed: show(next.fee.fixedMinor), min: show(next.minAmount), max: show(next.maxAmount) },
          });
          return next;
        });
      });
      print(
        {
          merchantId: opts.merchant,
          method: def.code,
          direction,
          channel: result.channel,
          enabled: result.enabled,
          feeBps: Number(result.fee.bps),
          feeFixed: show(result.fee.fixedMinor),
          min: show(result.minAmount),
          max: show(result.maxAmount),
        },
        Boolean(opts.json),
      );
    });
}
