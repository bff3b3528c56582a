import type { Duration } from './core/duration.js';
import { CacheError } from './core/errors.js';
import type { Cache } from './core/types.js';
import { MemoryCache, type MemoryCacheOptions } from './stores/memory/memory-cache.js';
import { RedisCache } from './stores/redis/redis-cache.js';
import type { RedisCacheOptions } from './stores/redis/redis-options.js';
import { parseRedisUrl } from './stores/redis/redis-url.js';
import { TieredCache } from './stores/tiered/tiered-cache.js';
import type { TieredCacheOptions } from './stores/tiered/tiered-options.js';

/** `createCache` configuration: the backend's `type` plus that backend's options. */
export type CacheConfig =
  | ({ type: 'memory' } & MemoryCacheOptions)
  | ({ type: 'redis' } & RedisCacheOptions)
  | ({ type: 'tiered' } & TieredCacheOptions);

const MEMORY_URL_OPTIONS = [
  'maxMemory',
  'maxEntries',
  'defaultTTL',
  'prefix',
  'eviction',
  'sweepInterval',
  'maxTags',
  'jitter',
];

/**
 * Creates a cache from a config object or a URL (`memory://?maxMemory=64mb`). Validates
 * synchronously and throws a `CacheError` naming the bad option; never connects (that is
 * `start()`'s job, and operations before it connect lazily).
 */
export function createCache(config: CacheConfig | string = { type: 'memory' }): Cache {
  const resolved = typeof config === 'string' ? configFromUrl(config) : config;
  if (typeof resolved !== 'object' || resolved === null) {
    throw new CacheError('INVALID_CONFIG', 'createCache takes a config object or a URL string');
  }
  const { type, ...options } = resolved as { type?: unknown } & Record<string, unknown>;
  switch (type) {
    case 'memory':
      return new MemoryCache(options as MemoryCacheOptions);
    case 'redis':
      // Validates every option now; connects only on start() or the first operation.
      return new RedisCache(options as RedisCacheOptions);
    case 'tiered':
      return new TieredCache(options as TieredCacheOptions);
    default:
      throw new CacheError(
        'INVALID_CONFIG',
        `type must be "memory", "redis" or "tiered", got ${JSON.stringify(type)}`,
      );
  }
}

/** Parses a cache URL into a config; query parameters become options. */
export function configFromUrl(url: string): CacheConfig {
  // A Redis URL goes to the Redis parser even when it is malformed, for its messages: they
  // say what is wrong with the URL's form and never echo the password.
  if (/^rediss?:/i.test(url)) {
    parseRedisUrl(url);
    return { type: 'redis', url };
  }
  if (/^tiered\+rediss?:/i.test(url)) return tieredConfigFromUrl(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new CacheError(
      'INVALID_CONFIG',
      `"${url}" is not a valid cache URL (memory://?option=value…, redis://[user:password@]host[:port][/db] or rediss://…)`,
      { cause: err },
    );
  }
  switch (parsed.protocol) {
    case 'memory:': {
      const options: Record<string, string | number> = {};
      for (const [name, value] of parsed.searchParams) {
        if (!MEMORY_URL_OPTIONS.includes(name)) {
          throw new CacheError(
            'INVALID_CONFIG',
            `unknown option "${name}" in ${url} (known: ${MEMORY_URL_OPTIONS.join(', ')})`,
          );
        }
        const numeric = name === 'maxEntries' || name === 'maxTags' || name === 'jitter';
        options[name] = numeric ? Number(value) : value;
      }
      return { type: 'memory', ...options };
    }
    default:
      throw new CacheError(
        'INVALID_CONFIG',
        `unsupported cache URL scheme "${parsed.protocol}" (use memory://, redis://, rediss://, tiered+redis:// or tiered+rediss://)`,
      );
  }
}

/** The query options of a `tiered+redis://` URL that belong to the tiered cache, not to Redis. */
const TIERED_URL_OPTIONS = ['l1.maxMemory', 'l1.maxEntries', 'l1.ttl', 'l1.serialize'];

/**
 * `tiered+redis://host:port/db?l1.maxMemory=16mb&l1.ttl=30s&prefix=app` (or `tiered+rediss://`):
 * the Redis URL as for `redis://`, plus the L1's options.
 */
function tieredConfigFromUrl(url: string): CacheConfig {
  const redisUrl = url.replace(/^tiered\+/i, '');
  const { options: q } = parseRedisUrlWithout(redisUrl);
  const l1: NonNullable<TieredCacheOptions['l1']> = {};
  for (const [name, value] of q) {
    if (name === 'l1.maxMemory') l1.maxMemory = value;
    else if (name === 'l1.ttl') l1.ttl = value as Duration;
    else if (name === 'l1.maxEntries') l1.maxEntries = Number(value);
    else if (name === 'l1.serialize') l1.serialize = value !== 'false';
  }
  const rest = stripParams(redisUrl, TIERED_URL_OPTIONS);
  parseRedisUrl(rest);
  return { type: 'tiered', url: rest, l1 };
}

/** The tiered options found in a URL's query (the rest is checked by the Redis parser). */
function parseRedisUrlWithout(url: string): { options: [string, string][] } {
  const query = url.indexOf('?');
  if (query === -1) return { options: [] };
  const params = new URLSearchParams(url.slice(query + 1));
  return { options: [...params].filter(([name]) => TIERED_URL_OPTIONS.includes(name)) };
}

/** `url` without the query parameters named in `names`. */
function stripParams(url: string, names: readonly string[]): string {
  const query = url.indexOf('?');
  if (query === -1) return url;
  const params = new URLSearchParams(url.slice(query + 1));
  for (const name of names) params.delete(name);
  const text = params.toString();
  return text === '' ? url.slice(0, query) : `${url.slice(0, query)}?${text}`;
}
