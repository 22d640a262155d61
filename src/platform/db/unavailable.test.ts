import assert from 'node:assert/strict';
import { test } from 'node:test';
import { databaseUnavailable } from './unavailable.ts';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

const CASES: [string, unknown, string | undefined][] = [
  ['connection refused', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'), 'database unreachable'],
  ['connection reset', withCode('ECONNRESET'), 'database unreachable'],
  ['every address refused', new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')]), 'database unreachable'],
  ['backend terminated by an administrator', withCode('57P01', 'terminating connection due to administrator command'), 'database unreachable'],
  ['server shutting down after a crash', withCode('57P02'), 'database unreachable'],
  ['server starting up', withCode('57P03', 'the database system is starting up'), 'database unreachable'],
  ['too many connections', withCode('53300'), 'database unreachable'],
  ['connection exception class 08', withCode('08006'), 'database unreachable'],
  ['credentials refused', withCode('28P01'), 'database unreachable'],
  ['database gone', withCode('3D000', 'database "pagoda" does not exist'), 'database unreachable'],
  ['pg: connection ended', new Error('Connection terminated unexpectedly'), 'database unreachable'],
  ['pg: client broken', new Error('Client has encountered a connection error and is not queryable'), 'database unreachable'],
  ['pg pool: acquire timed out', new Error('timeout exceeded when trying to connect'), 'database unreachable'],
  ['pg: the server speaks no TLS', new Error('The server does not support SSL connections'), 'database unreachable'],
  ['TLS: self-signed certificate', withCode('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'), 'database unreachable'],
  ['TLS: private CA', withCode('SELF_SIGNED_CERT_IN_CHAIN'), 'database unreachable'],
  ['TLS: name mismatch', withCode('ERR_TLS_CERT_ALTNAME_INVALID'), 'database unreachable'],
  ['TLS: expired', withCode('CERT_HAS_EXPIRED'), 'database unreachable'],
  ['statement_timeout', withCode('57014', 'canceling statement due to statement timeout'), 'database busy (a statement timed out or met a conflicting one)'],
  ['lock_timeout', withCode('55P03', 'canceling statement due to lock timeout'), 'database busy (a statement timed out or met a conflicting one)'],
  ['serialization failure', withCode('40001'), 'database busy (a statement timed out or met a conflicting one)'],
  ['deadlock', withCode('40P01', 'deadlock detected'), 'database busy (a statement timed out or met a conflicting one)'],
  ['sqlite: locked by another process', withCode('SQLITE_BUSY', 'database is locked'), 'database busy (another process holds its write lock)'],
  ['sqlite: extended busy code', withCode('SQLITE_BUSY_SNAPSHOT'), 'database busy (another process holds its write lock)'],
  ['sqlite: disk full', withCode('SQLITE_FULL'), 'database cannot write (disk full)'],
  ['disk full', withCode('53100', 'could not extend file "base/5/17220": No space left on device'), 'database cannot write (disk full)'],
  ['server out of memory', withCode('53200', 'out of memory'), 'database out of memory'],
  ['configuration limit (not a moment\'s shortage)', withCode('53400'), undefined],
  // Wrong statements and broken data are bugs: 500, never "retry later".
  ['syntax error', withCode('42601', 'syntax error at or near "x"'), undefined],
  ['unique violation', withCode('23505'), undefined],
  ['permission denied (the role lacks a grant)', withCode('42501', 'permission denied for schema public'), undefined],
  ['another operator intervention', withCode('57000'), undefined],
  ['check violation', withCode('23514'), undefined],
  ['sqlite constraint', withCode('SQLITE_CONSTRAINT_UNIQUE'), undefined],
  ['sqlite corrupt', withCode('SQLITE_CORRUPT'), undefined],
  ['sqlite busy-like prefix only', withCode('SQLITE_BUSYNESS'), undefined],
  ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'x')"), undefined],
  ['not an object', 'ECONNREFUSED', undefined],
  ['null', null, undefined],
];

for (const [name, err, expected] of CASES) {
  test(`database unavailable? ${name}`, () => assert.equal(databaseUnavailable(err), expected));
}
