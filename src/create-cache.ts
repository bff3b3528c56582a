import { CacheError } from './core/errors.js';
import type { Cache } from './core/types.js';
import { MemoryCache, type MemoryCacheOptions } from './stores/memory/memory-cache.js';
import { RedisCache } from './stores/redis/redis-cache.js';
import type { RedisCacheOptions } from './stores/redis/redis-options.js';
import { parseRedisUrl } from './stores/redis/redis-url.js';

/** `createCache` configuration: the backend's `type` plus that backend's options. */
export type CacheConfig =
  | ({ type: 'memory' } & MemoryCacheOptions)
  | ({ type: 'redis' } & RedisCacheOptions);

const MEMORY_URL_OPTIONS = [
  'maxMemory',
  'maxEntries',
  'defaultTTL',
  'prefix',
  'eviction',
  'sweepInterval',
  'maxTags',
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
    default:
      throw new CacheError(
        'INVALID_CONFIG',
        `type must be "memory" or "redis", got ${JSON.stringify(type)}`,
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
        options[name] = name === 'maxEntries' || name === 'maxTags' ? Number(value) : value;
      }
      return { type: 'memory', ...options };
    }
    default:
      throw new CacheError(
        'INVALID_CONFIG',
        `unsupported cache URL scheme "${parsed.protocol}" (use memory://, redis:// or rediss://)`,
      );
  }
}
