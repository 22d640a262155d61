import type { Command } from 'commander';
import { checkLedger } from '../modules/ledger/ledger.check.ts';
import { merchantStatement } from '../modules/ledger/ledger.statement.ts';
import { withCore } from './merchant.commands.ts';

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
    .action(async (opts: { merchant: string; date: string; currency: string }) => {
      const csv = await withCore((core) => merchantStatement(core.db, opts.merchant, opts.date, opts.currency.trim().toUpperCase()));
      process.stdout.write(csv);
    });
}
