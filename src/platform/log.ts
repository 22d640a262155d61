import { pino, type Logger } from 'pino';
import { REDACT_PATHS } from './http/server.ts';

/** A logger for processes without an HTTP server (the worker role, the CLI). */
export function createLogger(level: string): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } });
}
