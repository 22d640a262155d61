import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FastifyBaseLogger } from 'fastify';
import { failureLog, REPEAT_LOG_MS, startPeriodic } from './periodic.ts';

describe('failureLog', () => {
  // Each step: [ms since start, outcome ('ok' or an error message), what is logged].
  const table: Array<[string, Array<[number, string, string | null]>]> = [
    ['a success alone logs nothing', [[0, 'ok', null]]],
    ['the first failure logs, the same error again does not', [[0, 'disk full', 'failed 1'], [1_000, 'disk full', null], [2_000, 'disk full', null]]],
    ['a different error logs at once', [[0, 'disk full', 'failed 1'], [1_000, 'locked', 'failed 1'], [2_000, 'locked', null]]],
    [
      'the same error logs again after a minute, with the runs that failed since',
      [[0, 'disk full', 'failed 1'], [1_000, 'disk full', null], [2_000, 'disk full', null], [REPEAT_LOG_MS, 'disk full', 'failed 3'], [REPEAT_LOG_MS + 1, 'disk full', null]],
    ],
    ['a success after failures logs once, with the whole streak', [[0, 'disk full', 'failed 1'], [1_000, 'disk full', null], [2_000, 'ok', 'again 2'], [3_000, 'ok', null]]],
    ['after a recovery the same error is new again', [[0, 'disk full', 'failed 1'], [1_000, 'ok', 'again 1'], [2_000, 'disk full', 'failed 1']]],
  ];
  for (const [name, steps] of table) {
    it(name, () => {
      let t = 0;
      const log = failureLog(() => t);
      for (const [at, outcome, expected] of steps) {
        t = at;
        let got: string | null;
        if (outcome === 'ok') {
          const ended = log.succeeded();
          got = ended > 0 ? `again ${ended}` : null;
        } else {
          const report = log.failed(new Error(outcome));
          got = report ? `failed ${report.failedRuns}` : null;
        }
        assert.equal(got, expected, `at ${at} ms, ${outcome}`);
      }
    });
  }
});

describe('startPeriodic', () => {
  it('a job failing every run logs once, not once per run, and says when it runs again', async () => {
    const lines: Array<[string, string]> = [];
    const record = (level: string) => (_obj: unknown, msg: string) => lines.push([level, msg]);
    const log = { error: record('error'), info: record('info'), warn: record('warn') } as unknown as FastifyBaseLogger;
    let runs = 0;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const job = startPeriodic('test', 1, async () => {
      runs++;
      if (runs === 30) done();
      if (runs < 25) throw new Error('database unreachable');
    }, log);
    await finished;
    await job.stop();
    assert.deepEqual(lines, [['error', 'periodic job failed'], ['info', 'periodic job runs again']]);
  });
});
