import { badRequest } from './errors.ts';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** No setting of the gateway (schedules, timeouts, TTLs, grace periods) wants more than a year. */
export const MAX_DURATION_MS = 366 * UNIT_MS.d!;

/** Parses `30s`, `2m`, `1h`, `250ms`, `1d` into milliseconds, at most 366 days. */
export function parseDuration(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) throw badRequest(`"${text}" is not a duration (use e.g. 250ms, 30s, 2m, 1h, 1d)`);
  const ms = Number(match[1]) * UNIT_MS[match[2] as string]!;
  if (!(ms <= MAX_DURATION_MS)) throw badRequest(`"${text}" is longer than 366 days`);
  return ms;
}

export function parseDurationList(text: string): number[] {
  return text.split(',').map((part) => parseDuration(part));
}
