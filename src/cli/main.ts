import { Command, InvalidArgumentError } from 'commander';
import { ENV_VARS, loadConfig } from '../config.ts';
import type { Role } from '../main.ts';
import { migrateToLatest } from '../platform/db/migrate.ts';
import { openDatabase } from '../platform/db/database.ts';
import { exitFor } from './exit.ts';
import { withCore } from './core.ts';
import { registerMerchantCommands } from './merchant.commands.ts';
import { registerMethodCommands } from './method.commands.ts';
import { registerOrderCommands } from './order.commands.ts';
import { registerNotifyCommands } from './notify.commands.ts';
import { print } from './output.ts';
import { registerBalanceCommands } from './balance.commands.ts';
import { registerLedgerCommands } from './ledger.commands.ts';
import { registerBackupCommand } from './backup.commands.ts';
import { recordAudit } from '../modules/audit/audit.service.ts';
import { cliActor } from './actor.ts';

const program = new Command('pagoda')
  .description('Pagoda: a self-hostable payment gateway speaking the Starpago merchant API')
  .showHelpAfterError()
  // Subcommands inherit it: a usage error is a refusal (2), like any other.
  .exitOverride();

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
    // The server's modules (Fastify, routes, pages) load only for serve: the other commands start about 0.6 s sooner.
    const { exitOnSignals, serve } = await import('../main.ts');
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
    const db = openDatabase(config.databaseUrl, { poolSize: config.dbPoolSize });
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
  .option('--reason <text>', 'why, for the audit log')
  .option('--json', 'machine-readable output')
  .action(async (opts: { reason?: string; json?: boolean }) => {
    const kid = await withCore((core) =>
      core.tokens.rotate((tx, added, now) => recordAudit(tx, now, { actor: cliActor(), action: 'keys.rotate', subject: added, reason: opts.reason })),
    );
    print({ kid }, Boolean(opts.json));
  });

registerMerchantCommands(program);
registerMethodCommands(program);
registerOrderCommands(program);
registerNotifyCommands(program);
registerBalanceCommands(program);
registerLedgerCommands(program);
registerBackupCommand(program);

// A reader that stops reading (`pagoda method list | head`) is not an error of the command.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(0);
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const { code, line } = exitFor(err);
  if (line !== null) process.stderr.write(`pagoda: ${line}\n`);
  process.exit(code);
}
