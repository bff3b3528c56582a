/**
 * The cache the inspection commands (`stats`, `keys`, `get`, `del`, `flush`) look into: a
 * Redis named by `--cache`, else `CACHE_URL`, else `REDIS_URL`, under `--prefix` (else the
 * URL's `?prefix=`). A memory cache lives inside the process that made it, so there is
 * nothing another process could inspect: a `memory://` URL is refused.
 */
import { type Cache, configFromUrl, createCache, isCacheError, type RedisCache } from '../index.js';
import { COMMON_OPTIONS, CommandError, UsageError } from './command.js';
import { maskUrl } from './plan-table.js';

/** The options every inspection command takes. */
export const TARGET_OPTIONS = {
  ...COMMON_OPTIONS,
  cache: { type: 'string' },
  prefix: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** Their lines in each command's `--help`. */
export const TARGET_HELP = `  --cache <url>    The Redis to inspect: redis://[user:password@]host[:port][/db] or
                   rediss://… (default: $CACHE_URL, else $REDIS_URL). memory:// is refused:
                   an embedded cache lives inside its own process.
  --prefix <p>     The cache's key prefix (default: the URL's ?prefix=, else none).
  --json           Print JSON (for scripts) instead of the readable form.
  --verbose        Print a failure's stack trace.
  -h, --help       Show this help.`;

/** An open connection to the inspected cache. */
export interface Target {
  cache: Cache;
  /** The URL with its password masked, for messages. */
  url: string;
  prefix: string;
  /** The physical Redis key of `key` (the library's `prefix:key` layout), for TTLs. */
  redisKey(key: string): string;
  /** The ioredis client, for what the Cache interface does not say (TTL, INFO). */
  client(): NonNullable<RedisCache['client']>;
  close(): Promise<void>;
}

/** Connects to the cache the flags (or the environment) name; fails with one clear line. */
export async function openTarget(
  values: { cache?: string; prefix?: string },
  env: Readonly<Record<string, string | undefined>>,
): Promise<Target> {
  const url = values.cache ?? env.CACHE_URL ?? env.REDIS_URL;
  if (url === undefined || url === '') {
    throw new UsageError('no cache to inspect: pass --cache redis://host:6379 or set CACHE_URL');
  }
  if (/^memory:/i.test(url)) {
    throw new UsageError(
      `${url} is an embedded memory cache: it lives inside the process that made it, so there is nothing to inspect from here. Point --cache at the Redis the service uses.`,
    );
  }
  let prefix = values.prefix;
  let cache: Cache;
  try {
    const config = configFromUrl(url);
    if (config.type !== 'redis')
      throw new UsageError(`--cache must be a redis:// or rediss:// URL`);
    prefix ??= new URL(url).searchParams.get('prefix') ?? '';
    cache = createCache({ ...config, prefix });
  } catch (err) {
    if (isCacheError(err)) throw new UsageError(err.message);
    throw err;
  }
  const masked = maskUrl(url);
  try {
    await cache.start();
  } catch (err) {
    await cache.stop();
    throw new CommandError(`cannot use ${masked}: ${(err as Error).message}`, { cause: err });
  }
  const separator = prefix === '' || prefix.endsWith(':') ? '' : ':';
  return {
    cache,
    url: masked,
    prefix,
    redisKey: (key) => prefix + separator + key,
    client() {
      const client = (cache as RedisCache).client;
      if (client === undefined) throw new CommandError(`${masked}: not connected`);
      return client;
    },
    close: () => cache.stop(),
  };
}

/** Runs `body` against the target, closing the connection however it ends. */
export async function withTarget<T>(
  values: { cache?: string; prefix?: string },
  env: Readonly<Record<string, string | undefined>>,
  body: (target: Target) => Promise<T>,
): Promise<T> {
  const target = await openTarget(values, env);
  try {
    return await body(target);
  } finally {
    await target.close();
  }
}

/** How the prefix reads in messages. */
export function describePrefix(prefix: string): string {
  return prefix === '' ? '(none: the whole database)' : JSON.stringify(prefix);
}
