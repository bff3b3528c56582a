import { type Duration, parseBytes, parseDuration } from '../../core/duration.js';
import { CacheError } from '../../core/errors.js';
import { MEMORY_DEFAULTS } from '../memory/memory-cache.js';
import type { RedisCacheOptions } from '../redis/redis-options.js';

/** The in-process tier's own bounds and behaviour. */
export interface TieredL1Options {
  /** Bound on the L1's keys + values + per-entry overhead, in bytes or as `"16mb"`. Default 64 MiB. */
  maxMemory?: number | string;
  /** Bound on the L1's entries (and on the object L1's, with `serialize: false`). */
  maxEntries?: number;
  /**
   * The longest an L1 copy lives, whatever Redis's TTL (never longer than Redis's). It bounds
   * how stale an L1 copy can be when an invalidation message is lost. Default `"1m"`.
   */
  ttl?: Duration;
  /** `tinylfu` (default) or `lru`, as for `MemoryCache`. */
  eviction?: 'tinylfu' | 'lru';
  /**
   * `false`: `getOrSet` keeps the objects it returns in process and hands the same object to
   * every caller, so an L1 hit costs no JSON parse. Callers must not mutate them. Default `true`.
   */
  serialize?: boolean;
  /**
   * With `serialize: false`, deep-freeze kept objects so a mutation throws (in strict mode).
   * Default: on unless `NODE_ENV` is `production`.
   */
  freeze?: boolean;
}

/** Options of {@link TieredCache}: where Redis is (as for `RedisCache`) plus the L1's. */
export interface TieredCacheOptions extends RedisCacheOptions {
  l1?: TieredL1Options;
}

/** The defaults, one line of doc each. */
export const TIERED_DEFAULTS = {
  /** As `MemoryCache`: big enough to matter, small enough to never surprise a container. */
  maxMemory: MEMORY_DEFAULTS.maxMemory,
  /** A lost invalidation can keep an L1 copy stale for at most a minute. */
  ttl: 60_000,
  /** Object L1 entries when `maxEntries` is not given. */
  maxObjects: 10_000,
  /** Bytes by default: the Cache contract's copy-on-read. */
  serialize: true,
} as const;

/** {@link TieredL1Options} after validation. */
export interface ResolvedL1Options {
  readonly maxMemory: number;
  readonly maxEntries: number | undefined;
  readonly ttlMs: number;
  readonly eviction: 'tinylfu' | 'lru';
  readonly serialize: boolean;
  readonly freeze: boolean;
  readonly maxObjects: number;
}

const L1_KNOWN = ['maxMemory', 'maxEntries', 'ttl', 'eviction', 'serialize', 'freeze'];

const invalid = (message: string): CacheError => new CacheError('INVALID_CONFIG', message);

/** Splits and validates the tiered options; the rest goes to the Redis side as given. */
export function resolveTieredOptions(options: TieredCacheOptions): {
  l1: ResolvedL1Options;
  redis: RedisCacheOptions;
} {
  if (typeof options !== 'object' || options === null) {
    throw invalid('tiered cache options must be an object');
  }
  const { l1 = {}, ...redis } = options;
  if (typeof l1 !== 'object' || l1 === null) throw invalid('l1 must be an object');
  for (const name of Object.keys(l1)) {
    if (!L1_KNOWN.includes(name)) {
      throw invalid(`unknown l1 option "${name}" (known: ${L1_KNOWN.join(', ')})`);
    }
  }
  const maxMemory = parseBytes(l1.maxMemory ?? TIERED_DEFAULTS.maxMemory, 'l1.maxMemory');
  const { maxEntries } = l1;
  if (maxEntries !== undefined && (!Number.isSafeInteger(maxEntries) || maxEntries < 1)) {
    throw invalid(`l1.maxEntries must be a positive integer, got ${String(maxEntries)}`);
  }
  const ttlMs = parseDuration(l1.ttl ?? TIERED_DEFAULTS.ttl, 'l1.ttl');
  if (ttlMs < 1) throw invalid(`l1.ttl must be at least 1 ms, got ${ttlMs}`);
  const eviction = l1.eviction ?? MEMORY_DEFAULTS.eviction;
  if (eviction !== 'tinylfu' && eviction !== 'lru') {
    throw invalid(`l1.eviction must be "tinylfu" or "lru", got ${String(eviction)}`);
  }
  const serialize = l1.serialize ?? TIERED_DEFAULTS.serialize;
  if (typeof serialize !== 'boolean') throw invalid('l1.serialize must be a boolean');
  const freeze = l1.freeze ?? process.env.NODE_ENV !== 'production';
  if (typeof freeze !== 'boolean') throw invalid('l1.freeze must be a boolean');
  return {
    l1: {
      maxMemory,
      maxEntries,
      ttlMs: Math.ceil(ttlMs),
      eviction,
      serialize,
      freeze,
      maxObjects: maxEntries ?? TIERED_DEFAULTS.maxObjects,
    },
    redis,
  };
}
