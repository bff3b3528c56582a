/** Stable error codes carried by every {@link CacheError}. */
export const CacheErrorCode = {
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  INVALID_TTL: 'INVALID_TTL',
  INVALID_CONFIG: 'INVALID_CONFIG',
  SERIALIZATION: 'SERIALIZATION',
  NOT_INTEGER: 'NOT_INTEGER',
  OVERFLOW: 'OVERFLOW',
  VALUE_TOO_LARGE: 'VALUE_TOO_LARGE',
  CONNECTION: 'CONNECTION',
  TIMEOUT: 'TIMEOUT',
  ABORTED: 'ABORTED',
  STOPPED: 'STOPPED',
  BACKEND: 'BACKEND',
} as const;

/** One of the stable {@link CacheErrorCode} values. */
export type CacheErrorCode = (typeof CacheErrorCode)[keyof typeof CacheErrorCode];

/** The one error class thrown or rejected by codeai-cache; switch on `code`, never on `message`. */
export class CacheError extends Error {
  override readonly name = 'CacheError';
  readonly code: CacheErrorCode;

  constructor(code: CacheErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `err` is a {@link CacheError}, optionally with the given code. */
export function isCacheError(err: unknown, code?: CacheErrorCode): err is CacheError {
  return err instanceof CacheError && (code === undefined || err.code === code);
}

/** The rejection for an aborted call: keeps the signal's reason as `cause`. */
export function abortError(signal: AbortSignal): CacheError {
  return new CacheError(CacheErrorCode.ABORTED, 'the operation was aborted', {
    cause: signal.reason,
  });
}
