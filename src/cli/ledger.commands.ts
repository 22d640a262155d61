import type { Command } from 'commander';
import { checkLedger } from '../modules/ledger/ledger.check.ts';
import { formatMajor } from '../platform/money.ts';
import { renderStatement, statementEntries, totalsOf, type StatementTotals } from '../modules/ledger/ledger.statement.ts';
import { withCore } from './core.ts';
import { parseCurrencyOption } from './options.ts';

export function registerLedgerCommands(program: Command): void {
  const ledger = program.command('ledger').description('the double-entry ledger');
  ledger
    .command('check')
    .description('verify every ledger invariant; exits 0 when consistent, 1 (listing the problems) otherwise')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const problems = await withCore((core) => checkLedger(core.db));
      if (opts.json) process.stdout.write(JSON.stringify({ consistent: problems.length === 0, problems }) + '\n');
      else if (problems.length === 0) process.stdout.write('ledger is consistent\n');
      else process.stdout.write(problems.map((p) => `${p}\n`).join('') + `${problems.length} problem${problems.length === 1 ? '' : 's'}\n`);
      // exitCode, not exit(): let the database close first.
      if (problems.length > 0) process.exitCode = 1;
    });

  ledger
    .command('statement')
    .description("a merchant's entries of one UTC day as CSV, with a totals row")
    .requiredOption('--merchant <id>', 'merchant id')
    .requiredOption('--date <day>', 'UTC day, YYYY-MM-DD')
    .requiredOption('--currency <code>', 'currency')
    .option('--json', 'the same rows and totals as JSON (amounts as exact decimal text)')
    .action(async (opts: { merchant: string; date: string; currency: string; json?: boolean }) => {
      const currency = parseCurrencyOption(opts.currency);
      const rows = await withCore((core) => statementEntries(core.db, opts.merchant, opts.date, currency));
      if (!opts.json) {
        process.stdout.write(renderStatement(rows, currency));
        return;
      }
      const money = (t: StatementTotals) => ({
        payin: formatMajor(t.payin, currency),
        payout: formatMajor(t.payout, currency),
        frozen: formatMajor(t.frozen, currency),
        receivable: formatMajor(t.receivable, currency),
      });
      const entries = rows.map((r) => ({
        time: new Date(Number(r.created_at)).toISOString(),
        entry: r.id,
        kind: r.kind,
        orderNo: r.order_no,
        merOrderNo: r.mer_order_no,
        reference: r.reference,
        reason: r.reason,
        ...money(r),
      }));
      process.stdout.write(JSON.stringify({ merchantId: opts.merchant, date: opts.date, currency, entries, totals: money(totalsOf(rows)) }) + '\n');
    });
}
