import { AppError } from './errors.ts';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `30s`, `2m`, `1h`, `250ms`, `1d` into milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) throw new AppError('BAD_REQUEST', `"${text}" is not a duration (use e.g. 250ms, 30s, 2m, 1h, 1d)`);
  return Number(match[1]) * UNIT_MS[match[2] as string]!;
}

export function parseDurationList(text: string): number[] {
  return text.split(',').map((part) => parseDuration(part));
}
