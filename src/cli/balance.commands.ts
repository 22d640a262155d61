import type { Command } from 'commander';
import { badRequest } from '../platform/errors.ts';
import { formatMajor, parseMajorText } from '../platform/money.ts';
import { getBalance } from '../modules/ledger/balance.service.ts';
import { isOperatorAccount, type OperatorAccount } from '../modules/ledger/ledger.ts';
import { adjust, transfer, type MerchantBalances } from '../modules/ledger/ledger.service.ts';
import { cliActor } from './actor.ts';
import { withCore } from './core.ts';
import { parseCurrencyOption } from './options.ts';
import { print } from './output.ts';

function operatorAccount(option: string, value: string): OperatorAccount {
  if (!isOperatorAccount(value)) throw badRequest(`${option}: payin or payout`);
  return value;
}

/** Balances in major units as exact decimal text (JSON numbers could round). */
function shown(b: MerchantBalances, currency: string) {
  return { payin: formatMajor(b.payin, currency), payout: formatMajor(b.payout, currency), frozen: formatMajor(b.frozen, currency) };
}

interface MoveOptions {
  merchant: string;
  currency: string;
  amount: string;
  reason?: string;
  json?: boolean;
}

function registerShow(balance: Command): void {
  balance
    .command('show')
    .description("a merchant's balances: payin (collected), payout (available for payouts), frozen (payouts in flight), owed (refunds they could not cover)")
    .requiredOption('--merchant <id>', 'merchant id')
    .option('--currency <code>', "currency (default: the merchant's default currency)")
    .option('--json', 'machine-readable output')
    .action(async (opts: { merchant: string; currency?: string; json?: boolean }) => {
      const asked = opts.currency === undefined ? undefined : parseCurrencyOption(opts.currency);
      const b = await withCore((core) => getBalance(core.db, opts.merchant, asked));
      print({ merchantId: opts.merchant, currency: b.currency, ...shown(b, b.currency), owed: formatMajor(b.owed, b.currency) }, Boolean(opts.json));
    });
}

function registerTransfer(balance: Command): void {
  balance
    .command('transfer')
    .description("move a merchant's funds between its balances (collected → available for payouts); audited")
    .requiredOption('--merchant <id>', 'merchant id')
    .requiredOption('--currency <code>', 'currency')
    .option('--from <account>', 'payin or payout', 'payin')
    .option('--to <account>', 'payin or payout', 'payout')
    .requiredOption('--amount <amount>', 'amount in major units, e.g. 100.50')
    .option('--reason <text>', 'why, for the audit log')
    .option('--json', 'machine-readable output')
    .action(async (opts: MoveOptions & { from: string; to: string }) => {
      const currency = parseCurrencyOption(opts.currency);
      const input = {
        merchantId: opts.merchant,
        currency,
        from: operatorAccount('from', opts.from),
        to: operatorAccount('to', opts.to),
        amount: parseMajorText(opts.amount, currency),
        reason: opts.reason,
      };
      const out = await withCore((core) =>
        core.db.transaction().execute((tx) => transfer(tx, { now: core.clock.now(), actor: cliActor() }, input)),
      );
      const amount = formatMajor(input.amount, currency);
      print({ entryId: out.entryId, merchantId: opts.merchant, currency, from: input.from, to: input.to, amount, ...shown(out.balances, currency) }, Boolean(opts.json));
    });
}

function registerAdjust(balance: Command): void {
  balance
    .command('adjust')
    .description('credit (+) or debit (−) a merchant balance against the platform adjustments account; audited')
    .requiredOption('--merchant <id>', 'merchant id')
    .requiredOption('--currency <code>', 'currency')
    .requiredOption('--account <account>', 'payout or payin')
    .requiredOption('--amount <amount>', 'signed amount in major units, e.g. 25, +25 or -3.10')
    .requiredOption('--reason <text>', 'why, for the audit log (required)')
    .option('--json', 'machine-readable output')
    .action(async (opts: MoveOptions & { account: string; reason: string }) => {
      const currency = parseCurrencyOption(opts.currency);
      const input = {
        merchantId: opts.merchant,
        currency,
        account: operatorAccount('account', opts.account),
        // ±X: an explicit plus is a credit, as a bare number is; what follows it must be unsigned.
        amount: opts.amount.startsWith('+') ? parseMajorText(opts.amount.slice(1), currency) : parseMajorText(opts.amount, currency, { allowNegative: true }),
        reason: opts.reason,
      };
      const out = await withCore((core) =>
        core.db.transaction().execute((tx) => adjust(tx, { now: core.clock.now(), actor: cliActor() }, input)),
      );
      const amount = formatMajor(input.amount, currency);
      print({ entryId: out.entryId, merchantId: opts.merchant, currency, account: input.account, amount, ...shown(out.balances, currency) }, Boolean(opts.json));
    });
}

export function registerBalanceCommands(program: Command): void {
  const balance = program.command('balance').description('merchant balances (the ledger)');
  registerShow(balance);
  registerTransfer(balance);
  registerAdjust(balance);
}
