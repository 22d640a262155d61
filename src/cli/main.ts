import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ConfigError, ENV_VARS, loadConfig } from '../config.ts';
import type { Role } from '../main.ts';
import { migrateToLatest } from '../platform/db/migrate.ts';
import { openDatabase } from '../platform/db/database.ts';
import { databaseUnavailable } from '../platform/db/unavailable.ts';
import { AppError } from '../platform/errors.ts';
import { registerMerchantCommands, withCore } from './merchant.commands.ts';
import { registerMethodCommands } from './method.commands.ts';
import { registerOrderCommands } from './order.commands.ts';
import { registerNotifyCommands } from './notify.commands.ts';
import { print } from './output.ts';
import { registerBalanceCommands } from './balance.commands.ts';
import { registerLedgerCommands } from './ledger.commands.ts';
import { recordAudit } from '../modules/audit/audit.service.ts';
import { cliActor } from './actor.ts';

/**
 * A SQLite file that cannot be opened as a database: the CLI's own case of "the
 * database could not be used"; the others (unreachable, refused, locked) are
 * databaseUnavailable's, as for the API.
 */
const SQLITE_UNUSABLE = new Set(['SQLITE_CANTOPEN', 'SQLITE_READONLY', 'SQLITE_NOTADB']);

/** What the system refused (a port taken, a path that cannot be made or read): its own message names what. */
const SYSTEM_REFUSALS = new Set(['EADDRINUSE', 'EADDRNOTAVAIL', 'EACCES', 'EPERM', 'ENOENT', 'ENOTDIR', 'EISDIR', 'EROFS', 'ENOSPC']);

/**
 * Exit codes, so that a script can tell "the ledger is wrong" from "the check
 * could not run": 0 done; 1 what a check found (`ledger check`) or what the
 * system refused (a port taken); 2 a refused command (usage, a bad value);
 * 3 the database could not be used; 70 anything else (a bug: its stack follows),
 * never 1, which a monitor of `ledger check` reads as a broken ledger.
 */
const EXIT_REFUSED = 2;
const EXIT_DATABASE = 3;
const EXIT_INTERNAL = 70;

/** A PostgreSQL server's refusal (it carries a SQLSTATE and a severity): the role lacks a grant, a setting cut it short, … */
function isServerRefusal(err: unknown): err is Error & { code: string } {
  const { code, severity } = err as { code?: unknown; severity?: unknown };
  return typeof severity === 'string' && typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

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

// A reader that stops reading (`pagoda method list | head`) is not an error of the command.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(0);
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Commander has printed its message (or the help, which exits 0).
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : EXIT_REFUSED);
  if (err instanceof AppError || err instanceof ConfigError) {
    process.stderr.write(`pagoda: ${err instanceof AppError ? (err.detail ?? err.message) : err.message}\n`);
    process.exit(EXIT_REFUSED);
  }
  const code = (err as { code?: unknown }).code;
  if ((typeof code === 'string' && SQLITE_UNUSABLE.has(code)) || databaseUnavailable(err) || isServerRefusal(err)) {
    process.stderr.write(`pagoda: cannot use the database${typeof code === 'string' ? ` (${code})` : ''}: ${(err as Error).message || 'connection failed'}\n`);
    process.exit(EXIT_DATABASE);
  }
  if (typeof code === 'string' && SYSTEM_REFUSALS.has(code)) {
    process.stderr.write(`pagoda: ${(err as Error).message} (${code})\n`);
    process.exit(1);
  }
  process.stderr.write(`pagoda: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(EXIT_INTERNAL);
}
