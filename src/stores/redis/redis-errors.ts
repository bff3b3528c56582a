/**
 * ioredis failures as {@link CacheError}s with stable codes, the original kept as `cause`.
 *
 * A reply from the server (`ReplyError`) is about the command: INCRBY's "not an integer"
 * and "would overflow" become `NOT_INTEGER` / `OVERFLOW` (the caller's doing), replies that
 * say the server cannot serve right now (LOADING, READONLY after a failover, CLUSTERDOWN,
 * MASTERDOWN, TRYAGAIN) become `CONNECTION`, anything else (WRONGTYPE, OOM, …) `BACKEND`.
 * ioredis's own "Command timed out" is `TIMEOUT`. Every other error the client produces
 * (refused, reset, closed, offline queue flushed, max retries, no cluster node) is about the
 * connection: `CONNECTION`.
 *
 * A reply refusing a connection step (`AUTH`, `HELLO`, `SELECT`, `CLIENT`) — a wrong
 * password, a database out of range — is `CONNECTION` too, worded as such: it reaches the
 * commands that were queued behind that connection, and it is about the configuration, not
 * about them. Messages name only what a user can set: ioredis's "max retries per request"
 * (an option we fix at 0, so a dropped connection never replays a command) is reworded.
 */
import { CacheError, isCacheError } from '../../core/errors.js';

const UNAVAILABLE = /^(LOADING|READONLY|CLUSTERDOWN|MASTERDOWN|TRYAGAIN|BUSY|NOREPLICAS)\b/;
/** Replies that refuse a client's credentials, whatever command drew them. */
const REFUSED_CREDENTIALS = /^(WRONGPASS|NOAUTH)\b|^ERR invalid password/;
/** The commands ioredis sends to set a connection up, before it is ready. */
const SETUP_COMMANDS = new Set(['auth', 'hello', 'select', 'client']);

/** Maps any error thrown by ioredis (or already a CacheError) to a CacheError. */
export function toCacheError(err: unknown, operation: string): CacheError {
  if (isCacheError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (message === 'Command timed out') {
    return new CacheError('TIMEOUT', `redis ${operation} timed out`, { cause: err });
  }
  if ((err as Error | undefined)?.name === 'MaxRetriesPerRequestError') {
    return new CacheError(
      'CONNECTION',
      `redis ${operation} failed: the connection closed before the command was answered (commands are never resent on a new connection)`,
      { cause: err },
    );
  }
  if ((err as Error | undefined)?.name === 'ReplyError') {
    // A transaction refused whole says why only in the replies to its queued commands
    // (an `OOM`, a `READONLY`): the first of them decides the code and the message.
    const queued = (err as { previousErrors?: unknown[] }).previousErrors?.[0];
    if (message.startsWith('EXECABORT') && queued instanceof Error) {
      const why = toCacheError(queued, operation);
      return new CacheError(why.code, why.message, { cause: err });
    }
    const step = setupStep(err as ReplyLike, message);
    if (step !== undefined) {
      return new CacheError(
        'CONNECTION',
        `redis ${operation} failed: the server refused ${step} while connecting: ${message}`,
        { cause: err },
      );
    }
    if (message.startsWith('ERR value is not an integer')) {
      return new CacheError('NOT_INTEGER', 'the stored value is not a 64-bit integer', {
        cause: err,
      });
    }
    if (message.startsWith('ERR increment or decrement would overflow')) {
      return new CacheError('OVERFLOW', 'the result would leave the signed 64-bit range', {
        cause: err,
      });
    }
    const code = UNAVAILABLE.test(message) ? 'CONNECTION' : 'BACKEND';
    return new CacheError(code, `redis ${operation} failed: ${message}`, { cause: err });
  }
  return new CacheError('CONNECTION', `redis ${operation} failed: ${message}`, { cause: err });
}

interface ReplyLike {
  command?: { name?: unknown };
}

/** The connection step a reply refused (`SELECT`, `AUTH`, …), or undefined for other replies. */
function setupStep(err: ReplyLike, message: string): string | undefined {
  const name = err.command?.name;
  // Only the command's name: its arguments may hold the password.
  if (typeof name === 'string' && SETUP_COMMANDS.has(name.toLowerCase())) {
    return name.toUpperCase();
  }
  return REFUSED_CREDENTIALS.test(message) ? 'the credentials' : undefined;
}

/** The error for a command refused up front because the client is between reconnects. */
export function notConnected(state: string, cause?: unknown): CacheError {
  const why = cause instanceof Error ? `: ${cause.message}` : '';
  return new CacheError('CONNECTION', `redis is not connected (client state: ${state})${why}`, {
    cause,
  });
}
