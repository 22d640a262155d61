import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { databaseUnavailable } from '../db/unavailable.ts';
import { AppError, ERROR_STATUS, type ErrorCode } from '../errors.ts';

/** The response envelope of every API answer (merchant-api.md section 1). */
export interface Envelope<T = unknown> {
  code: number;
  msg: string;
  error?: string;
  data?: T;
}

export function ok<T>(data: T): Envelope<T> {
  return { code: 0, msg: 'success', data };
}

export function failure(err: AppError): Envelope<never> {
  const body: Envelope<never> = { code: err.status, msg: err.message };
  if (err.detail !== undefined) body.error = err.detail;
  return body;
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
  FST_ERR_MAX_PARAM_LENGTH: 'BAD_REQUEST',
  FST_ERR_ASYNC_CONSTRAINT: 'BAD_REQUEST',
};

const FASTIFY_DETAILS: Partial<Record<ErrorCode, string>> = {
  PAYLOAD_TOO_LARGE: 'body exceeds 64 KiB',
  UNSUPPORTED_MEDIA_TYPE: 'Content-Type must be application/json; charset=utf-8',
};

function validationDetail(err: FastifyError): string {
  const first = err.validation?.[0];
  if (!first) return err.message;
  const params = first.params as Record<string, unknown>;
  const where = String(err.validationContext ?? 'body');
  if (typeof params.missingProperty === 'string') return `${params.missingProperty}: is required`;
  const field = first.instancePath.replace(/^\//, '').replace(/\//g, '.');
  return `${field || where}: ${first.message ?? 'is invalid'}`;
}

/**
 * Maps anything thrown to an AppError; unknown errors are bugs and become 500. What
 * Fastify marks as the client's (a 4xx) is the client's, whatever socket code it
 * carries; a database that cannot serve is 503, with the driver's own words in
 * `cause` for the log.
 */
export function toAppError(err: unknown): { appError: AppError; isBug: boolean; cause?: string } {
  if (err instanceof AppError) return { appError: err, isBug: false };
  const fe = err as FastifyError;
  if (fe && Array.isArray(fe.validation)) {
    return { appError: new AppError('BAD_REQUEST', validationDetail(fe), 'invalid request'), isBug: false };
  }
  const mapped = fe && typeof fe.code === 'string' ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped) return { appError: new AppError(mapped, FASTIFY_DETAILS[mapped] ?? fe.message), isBug: false };
  // A body the client broke off is one: Fastify makes it a 400 and keeps the socket's code (ECONNRESET).
  if (fe && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code = (Object.keys(ERROR_STATUS) as ErrorCode[]).find((c) => ERROR_STATUS[c] === fe.statusCode) ?? 'BAD_REQUEST';
    return { appError: new AppError(code, fe.code === 'ECONNRESET' ? 'the connection closed before the whole body arrived' : fe.message), isBug: false };
  }
  const down = databaseUnavailable(err);
  if (down) return { appError: new AppError('NOT_READY', down, 'not ready'), isBug: false, cause: String((err as Error).message) };
  return { appError: new AppError('INTERNAL', `see the server log under request id`), isBug: true };
}

export function sendError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const { appError, isBug, cause } = toAppError(err);
  if (isBug) {
    request.log.error({ err }, 'unhandled error');
  } else if (appError.status >= 500) {
    request.log.warn({ code: appError.code, detail: appError.detail, cause }, 'request failed');
  } else {
    request.log.info({ code: appError.code, detail: appError.detail }, 'request refused');
  }
  const body = failure(appError);
  if (isBug) body.error = `internal error; request id ${request.id}`;
  return reply.code(appError.status).type('application/json; charset=utf-8').send(body);
}
