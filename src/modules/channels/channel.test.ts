import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withDeadline, type CallDeadline } from './channel.ts';

test('withDeadline: an answer in time wins; no answer is the timeout outcome and aborts the signal; a throw passes through', async () => {
  assert.equal(await withDeadline(1_000, async () => 'answer', () => 'late'), 'answer');

  let seen: CallDeadline | undefined;
  const silent = await withDeadline(
    20,
    (deadline) => {
      seen = deadline;
      return new Promise<string>((resolve) => deadline.signal.addEventListener('abort', () => resolve('woken'), { once: true }));
    },
    (reason) => reason,
  );
  assert.equal(silent, 'channel did not answer within 20 ms');
  assert.equal(seen!.signal.aborted, true);

  // A signal first read after the deadline is already aborted.
  let unread: CallDeadline | undefined;
  await withDeadline(10, (deadline) => ((unread = deadline), new Promise<string>(() => {})), () => 'timed out');
  assert.equal(unread!.signal.aborted, true);

  await assert.rejects(
    withDeadline(1_000, async () => Promise.reject(new Error('channel broke')), () => 'late'),
    /channel broke/,
  );
});
