import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, ENV_VARS, loadConfig } from '../config.ts';
import { exitOnSignals, serve, type Role } from '../main.ts';
import { migrateToLatest } from '../platform/db/migrate.ts';
import { openDatabase } from '../platform/db/database.ts';
import { AppError } from '../platform/errors.ts';
import { registerMerchantCommands, withCore } from './merchant.commands.ts';
import { registerMethodCommands } from './method.commands.ts';
import { registerOrderCommands } from './order.commands.ts';
import { registerNotifyCommands } from './notify.commands.ts';
import { print } from './output.ts';
import { registerBalanceCommands } from './balance.commands.ts';
import { registerLedgerCommands } from './ledger.commands.ts';

const program = new Command('pagoda')
  .description('Pagoda: a self-hostable payment gateway speaking the Starpago merchant API')
  .showHelpAfterError();

function parseRole(value: string): Role {
  if (value !== 'api' && value !== 'worker' && value !== 'all') throw new InvalidArgumentError('api, worker or all');
  return value;
}

const envHelp = () =>
  '\nConfiguration (environment):\n' +
  ENV_VARS.map((v) => `  ${v.name.padEnd(28)} ${v.meaning}\n  ${''.padEnd(28)} default: ${v.fallback || '(empty)'}`).join('\n') +
  '\n';

program
  .command('serve')
  .description('run the gateway (HTTPS API and background work)')
  .option('--role <role>', 'api, worker or all', parseRole, 'all')
  .addHelpText('after', envHelp)
  .action(async (opts: { role: Role }) => {
    const config = loadConfig();
    const starting = serve(config, opts.role);
    exitOnSignals(starting, config.shutdownTimeoutMs);
    await starting;
  });

program
  .command('migrate')
  .description('apply database migrations and exit')
  .option('--json', 'machine-readable output')
  .action(async (opts: { json?: boolean }) => {
    const config = loadConfig();
    const db = openDatabase(config.databaseUrl);
    try {
      const applied = await migrateToLatest(db);
      print({ applied }, Boolean(opts.json));
    } finally {
      await db.destroy();
    }
  });

program
  .command('keys')
  .description('token signing keys')
  .command('rotate')
  .description('start signing tokens with a new key; tokens signed with the old one stay valid until they expire')
  .option('--json', 'machine-readable output')
  .action(async (opts: { json?: boolean }) => {
    const kid = await withCore((core) => core.tokens.rotate());
    print({ kid }, Boolean(opts.json));
  });

registerMerchantCommands(program);
registerMethodCommands(program);
registerOrderCommands(program);
registerNotifyCommands(program);
registerBalanceCommands(program);
registerLedgerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof AppError || err instanceof ConfigError) {
    process.stderr.write(`pagoda: ${err instanceof AppError ? (err.detail ?? err.message) : err.message}\n`);
    process.exit(2);
  }
  throw err;
}
