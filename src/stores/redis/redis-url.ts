/**
 * `redis://[user:password@]host[:port][/db][?option=value…]` and `rediss://…` (TLS).
 * Query parameters are cache options; an unknown one is an `INVALID_CONFIG` error naming it,
 * so a typo never silently falls back to a default.
 */
import { CacheError } from '../../core/errors.js';

/** The cache options a Redis URL may carry in its query string. */
export const REDIS_URL_OPTIONS = [
  'prefix',
  'defaultTTL',
  'commandTimeout',
  'connectTimeout',
  'failOpen',
  'jitter',
] as const;

/** What a Redis URL says. */
export interface RedisUrlParts {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  tls: boolean;
  /** Query parameters, already checked against {@link REDIS_URL_OPTIONS}. */
  options: {
    prefix?: string;
    defaultTTL?: string;
    commandTimeout?: string;
    connectTimeout?: string;
    failOpen?: boolean;
    jitter?: number;
  };
}

const DEFAULT_PORT = 6379;

const FORM = 'redis://[user:password@]host[:port][/db][?option=value…]';

/** Parses a `redis://` or `rediss://` URL; throws `INVALID_CONFIG` naming what is wrong. */
export function parseRedisUrl(url: string): RedisUrlParts {
  // WHATWG URL parsing reads "redis:/127.0.0.1" (and "redis:127.0.0.1:6379") as a URL with
  // no host whose path is the address: the mistake would then be blamed on the database
  // number. The form is checked first, so the message says what is actually wrong.
  const scheme = /^(rediss?):(.*)$/is.exec(url);
  if (scheme !== null && !scheme[2]!.startsWith('//')) {
    throw new CacheError(
      'INVALID_CONFIG',
      `"${redactText(url)}" is not a Redis URL: "${scheme[1]}:" must be followed by "//" and the host (${FORM})`,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new CacheError(
      'INVALID_CONFIG',
      `"${redactText(url)}" is not a valid Redis URL (${FORM})`,
      { cause: err },
    );
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new CacheError(
      'INVALID_CONFIG',
      `unsupported Redis URL scheme "${parsed.protocol}" in ${redact(parsed)} (use redis:// or rediss://)`,
    );
  }
  // IPv6 hosts come back bracketed ("[::1]"); sockets want them bare.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = parsed.port === '' ? DEFAULT_PORT : Number(parsed.port);
  if (port === 0) {
    throw new CacheError('INVALID_CONFIG', `the port in ${redact(parsed)} must be 1 to 65535`);
  }
  if (parsed.hash !== '') {
    throw new CacheError(
      'INVALID_CONFIG',
      `${redact(parsed)} has a "#" part, which a Redis URL does not use (options go in the query: ${FORM})`,
    );
  }
  const dbText = parsed.pathname.replace(/^\//, '');
  if (dbText.includes('/')) {
    throw new CacheError(
      'INVALID_CONFIG',
      `the path of ${redact(parsed)} must be only the database number (${FORM}), got "/${dbText}"`,
    );
  }
  const db = dbText === '' ? 0 : Number(dbText);
  if (!/^\d*$/.test(dbText) || !Number.isSafeInteger(db)) {
    throw new CacheError(
      'INVALID_CONFIG',
      `the database in ${redact(parsed)} must be a number (redis://host:port/DB), got "${dbText}"`,
    );
  }
  const options: RedisUrlParts['options'] = {};
  for (const [name, value] of parsed.searchParams) {
    switch (name) {
      case 'prefix':
      case 'defaultTTL':
      case 'commandTimeout':
      case 'connectTimeout':
        options[name] = value;
        break;
      case 'failOpen':
        if (value !== 'true' && value !== 'false') {
          throw new CacheError(
            'INVALID_CONFIG',
            `failOpen in a Redis URL must be true or false, got "${value}"`,
          );
        }
        options.failOpen = value === 'true';
        break;
      case 'jitter': {
        // The range is checked with the other common options.
        const jitter = Number(value);
        if (value.trim() === '' || !Number.isFinite(jitter)) {
          throw new CacheError(
            'INVALID_CONFIG',
            `jitter in a Redis URL must be a number in [0, 1), got "${value}"`,
          );
        }
        options.jitter = jitter;
        break;
      }
      default:
        throw new CacheError(
          'INVALID_CONFIG',
          `unknown option "${name}" in ${redact(parsed)} (known: ${REDIS_URL_OPTIONS.join(', ')})`,
        );
    }
  }
  const parts: RedisUrlParts = { host, port, db, tls: parsed.protocol === 'rediss:', options };
  if (parsed.username !== '') parts.username = decodeURIComponent(parsed.username);
  if (parsed.password !== '') parts.password = decodeURIComponent(parsed.password);
  return parts;
}

/** A string that did not parse as a URL, with what looks like a password masked. */
function redactText(url: string): string {
  return url.replace(/^([^:]*:\/*[^:@/]*:)[^@/]*@/, '$1***@');
}

/** The URL without its password, for error messages. */
function redact(url: URL): string {
  if (url.password === '') return url.href;
  const copy = new URL(url.href);
  copy.password = '***';
  return copy.href;
}
