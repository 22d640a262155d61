import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import { requestLoggerFactory } from './request-logger.ts';

function capture(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      cb();
    },
  });
  const logger = pino({ level, redact: { paths: ['secret'], censor: '[redacted]' } }, stream) as unknown as FastifyBaseLogger;
  return { logger, lines };
}

test('a request logger writes what a pino child would: bindings, redaction, enabled levels only', async () => {
  const { logger, lines } = capture('warn');
  const log = requestLoggerFactory(logger, { reqId: 'req_1' }, {});
  log.info({ secret: 's' }, 'below the level');
  log.warn({ secret: 's' }, 'kept');
  log.error('also kept');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    lines.map((l) => [l.msg, l.reqId, l.secret]),
    [
      ['kept', 'req_1', '[redacted]'],
      ['also kept', 'req_1', undefined],
    ],
  );
  assert.equal(log.level, 'warn');
  assert.equal(log.child({ part: 'x' }).level, 'warn');
});

test('a request logger that never writes never builds its child', () => {
  const { logger } = capture('warn');
  let children = 0;
  const counting = Object.create(logger as object, {
    child: { value: (...args: unknown[]) => (children++, (logger.child as (...a: unknown[]) => FastifyBaseLogger)(...args)) },
  }) as FastifyBaseLogger;
  const log = requestLoggerFactory(counting, { reqId: 'req_2' }, {});
  log.info('nothing at warn');
  log.debug('nothing');
  assert.equal(children, 0);
  log.warn('now');
  log.warn('again');
  assert.equal(children, 1);
});
