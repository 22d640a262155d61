import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommanderError } from 'commander';
import { ConfigError } from '../config.ts';
import { AppError } from '../platform/errors.ts';
import { exitFor } from './exit.ts';

const withCode = (code: string, message: string, more: Record<string, unknown> = {}) => Object.assign(new Error(message), { code, ...more });
/** What node-postgres throws for a server's error: a SQLSTATE with a severity. */
const pgError = (code: string, message: string) => withCode(code, message, { severity: 'ERROR' });

const CASES: Array<[string, unknown, number, string | RegExp | null]> = [
  ['help (Commander printed it)', new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'), 0, null],
  ['usage (Commander printed it)', new CommanderError(1, 'commander.unknownOption', 'unknown option'), 2, null],
  ['a refused value', new AppError('BAD_REQUEST', 'amount: must be positive'), 2, 'amount: must be positive'],
  ['a bad variable', new ConfigError('PAGODA_PORT: "x" is not a port'), 2, 'PAGODA_PORT: "x" is not a port'],
  ['unreachable', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'), 3, 'cannot use the database (ECONNREFUSED): connect ECONNREFUSED 127.0.0.1:1'],
  ['no TLS at the server', new Error('The server does not support SSL connections'), 3, 'cannot use the database: The server does not support SSL connections'],
  ['a statement timeout', pgError('57014', 'canceling statement due to statement timeout'), 3, /^cannot use the database \(57014\)/],
  ['a missing grant', pgError('42501', 'permission denied for schema public'), 3, 'cannot use the database (42501): permission denied for schema public'],
  ['a read-only role', pgError('25006', 'cannot execute CREATE TABLE in a read-only transaction'), 3, /^cannot use the database \(25006\)/],
  ['a full disk (PostgreSQL)', pgError('53100', 'could not extend file'), 3, /^cannot use the database \(53100\)/],
  ['not a SQLite database', withCode('SQLITE_NOTADB', 'file is not a database'), 3, 'cannot use the database (SQLITE_NOTADB): file is not a database'],
  ['a port taken', withCode('EADDRINUSE', 'listen EADDRINUSE: address already in use :::8443'), 1, 'listen EADDRINUSE: address already in use :::8443 (EADDRINUSE)'],
  // A wrong statement is a bug, on either database: never "cannot use the database", never 1.
  ['a constraint (PostgreSQL)', pgError('23505', 'duplicate key value violates unique constraint'), 70, /^internal error: Error: duplicate key/],
  ['a syntax error (PostgreSQL)', pgError('42601', 'syntax error at or near "x"'), 70, /^internal error: /],
  ['a SQLite error', withCode('SQLITE_ERROR', 'integer overflow'), 70, /^internal error: Error: integer overflow\n\s+at /],
  ['a plain bug', new TypeError('x is not a function'), 70, /^internal error: TypeError: x is not a function/],
  ['something thrown that is not an Error', 'oops', 70, 'internal error: oops'],
];

for (const [name, err, code, line] of CASES) {
  test(`exit of a failed command: ${name} → ${code}`, () => {
    const exit = exitFor(err);
    assert.equal(exit.code, code);
    if (line === null || typeof line === 'string') assert.equal(exit.line, line);
    else assert.match(exit.line ?? '', line);
  });
}
