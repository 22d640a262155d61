/**
 * The one error type of the gateway. Every failure a caller can see is an
 * AppError with a code from the closed set below; the HTTP layer maps it to the
 * envelope in one place. Anything else that escapes is a bug and becomes a 500.
 */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE: 422,
  RATE_LIMITED: 429,
  HEADERS_TOO_LARGE: 431,
  INTERNAL: 500,
  NOT_READY: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

const DEFAULT_MESSAGES: Record<ErrorCode, string> = {
  BAD_REQUEST: 'bad request',
  UNAUTHORIZED: 'unauthorized',
  FORBIDDEN: 'forbidden',
  NOT_FOUND: 'not found',
  METHOD_NOT_ALLOWED: 'method not allowed',
  REQUEST_TIMEOUT: 'request timeout',
  CONFLICT: 'conflict',
  PAYLOAD_TOO_LARGE: 'payload too large',
  UNSUPPORTED_MEDIA_TYPE: 'unsupported media type',
  UNPROCESSABLE: 'unprocessable',
  RATE_LIMITED: 'rate limited',
  HEADERS_TOO_LARGE: 'request header fields too large',
  INTERNAL: 'internal error',
  NOT_READY: 'not ready',
};

export class AppError extends Error {
  readonly code: ErrorCode;
  /** Detail for the caller (`error` of the envelope): which field, why. */
  readonly detail: string | undefined;
  /**
   * A refused credential that the caller proved it once held (a token with our
   * signature that expired or was revoked): not a guess, so it does not count
   * towards the limit on failed authentications.
   */
  readonly proven: boolean;

  constructor(code: ErrorCode, detail?: string, message?: string, opts: { proven?: boolean } = {}) {
    super(message ?? DEFAULT_MESSAGES[code]);
    this.name = 'AppError';
    this.code = code;
    this.detail = detail;
    this.proven = opts.proven ?? false;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export const badRequest = (detail: string): AppError => new AppError('BAD_REQUEST', detail, 'invalid request');
export const unauthorized = (detail: string): AppError => new AppError('UNAUTHORIZED', detail, 'authentication failed');
/** A token with a valid signature that is no longer accepted (expired, revoked): 401, not counted as a failed guess. */
export const staleCredential = (detail: string): AppError => new AppError('UNAUTHORIZED', detail, 'authentication failed', { proven: true });
export const forbidden = (detail: string): AppError => new AppError('FORBIDDEN', detail, 'forbidden');
export const notFound = (detail: string): AppError => new AppError('NOT_FOUND', detail, 'not found');
export const conflict = (detail: string): AppError => new AppError('CONFLICT', detail, 'conflict');
export const unprocessable = (detail: string): AppError => new AppError('UNPROCESSABLE', detail, 'refused');
