/**
 * The retry rule (merchant-api.md §7): after a failed attempt, the next one
 * comes the schedule's next interval after it; one first attempt plus one per
 * interval, so the default schedule of nine intervals makes ten attempts over
 * about 24 h 47 min. After the last failure the notification is exhausted.
 */
export type AfterFailure = { state: 'pending'; nextAttemptAt: number } | { state: 'exhausted' };

export function afterFailure(attemptsMade: number, schedule: readonly number[], attemptedAt: number): AfterFailure {
  if (attemptsMade < 1) throw new RangeError('afterFailure needs at least one attempt made');
  const interval = schedule[attemptsMade - 1];
  if (interval === undefined) return { state: 'exhausted' };
  return { state: 'pending', nextAttemptAt: attemptedAt + interval };
}

export function maxAttempts(schedule: readonly number[]): number {
  return schedule.length + 1;
}
