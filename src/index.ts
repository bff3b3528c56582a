/**
 * codeai-cache: one cache interface over an embedded memory store and Redis, with
 * stampede-free getOrSet, tags and HTTP response caching. Named exports only; the root entry
 * loads no framework and no Redis client it does not need.
 */

export * from './codeai/index.js';
export { BREAKER_DEFAULTS, type BreakerOptions } from './core/breaker.js';
export { type Duration, type DurationUnit, parseBytes, parseDuration } from './core/duration.js';
export { CacheError, CacheErrorCode, isCacheError } from './core/errors.js';
export { type ChannelMessage, channelName } from './core/events.js';
export { compileGlob, escapeGlob, type GlobMatcher } from './core/glob.js';
export type { Jsonified } from './core/json.js';
export type { CommonCacheOptions } from './core/options.js';
export type { Decoder, SharedBytes, SharedReadable } from './core/shared-read.js';
export type { EvictionReason, MaybePromise, Store, StoreHooks } from './core/store.js';
export { StoreCache } from './core/store-cache.js';
export type {
  BreakerState,
  Cache,
  CacheEventName,
  CacheEvents,
  CacheStats,
  CacheValue,
  CallOptions,
  Clock,
  FactoryContext,
  GetOrSetOptions,
  HealthReport,
  InvalidateOptions,
  InvalidationResult,
  LockOptions,
  SetOptions,
  TagSnapshot,
  TimeoutOptions,
} from './core/types.js';
export { type CacheConfig, configFromUrl, createCache } from './create-cache.js';
export * from './http/index.js';
export * from './proxy/index.js';
export { MemoryCache, type MemoryCacheOptions } from './stores/memory/memory-cache.js';
export { RedisCache } from './stores/redis/redis-cache.js';
export type { RedisCacheOptions, RedisNode } from './stores/redis/redis-options.js';
export { TieredCache } from './stores/tiered/tiered-cache.js';
export type { TieredCacheOptions, TieredL1Options } from './stores/tiered/tiered-options.js';
