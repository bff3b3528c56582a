import { type Duration, parseBytes, parseDuration } from '../../core/duration.js';
import { CacheError } from '../../core/errors.js';
import type { CommonCacheOptions } from '../../core/options.js';
import { StoreCache } from '../../core/store-cache.js';
import { MemoryStore } from './memory-store.js';

/** Options of the embedded memory cache. */
export interface MemoryCacheOptions extends CommonCacheOptions {
  /** Hard bound on keys + values + per-entry overhead, in bytes or as `"64mb"`. Default 64 MiB. */
  maxMemory?: number | string;
  /** Hard bound on the number of entries. Default: none (the byte bound rules). */
  maxEntries?: number;
  /** How often the background sweep removes expired entries. Default 1 s. */
  sweepInterval?: Duration;
  /** `tinylfu` (default: W-TinyLFU, frequency-aware) or `lru` (pure recency). */
  eviction?: 'tinylfu' | 'lru';
  /**
   * Invalidated tags remembered (default 65 536, about 6 MiB at worst). Past it the memory
   * cache forgets them all at once, which invalidates every tagged entry; see README.
   */
  maxTags?: number;
}

/** The defaults, one line of doc each. */
export const MEMORY_DEFAULTS = {
  /** 64 MiB: big enough to matter, small enough to never surprise a container. */
  maxMemory: 64 * 1024 * 1024,
  /** Sweep expired entries every second; reads also expire lazily. */
  sweepInterval: 1000,
  /** W-TinyLFU keeps the frequent keys a scan of one-off keys would flush out of an LRU. */
  eviction: 'tinylfu',
} as const;

const KNOWN = new Set([
  'defaultTTL',
  'prefix',
  'clock',
  'failOpen',
  'jitter',
  'maxMemory',
  'maxEntries',
  'sweepInterval',
  'eviction',
  'maxTags',
]);

/**
 * The embedded default: an in-process, byte-bounded cache with W-TinyLFU eviction, TTLs and
 * Redis-compatible globs. `start()` starts the expiry sweep; `stop()` clears it.
 */
export class MemoryCache extends StoreCache {
  constructor(options: MemoryCacheOptions = {}) {
    for (const name of Object.keys(options ?? {})) {
      if (!KNOWN.has(name)) {
        throw new CacheError(
          'INVALID_CONFIG',
          `unknown memory cache option "${name}" (known: ${[...KNOWN].join(', ')})`,
        );
      }
    }
    const maxMemory = parseBytes(options.maxMemory ?? MEMORY_DEFAULTS.maxMemory, 'maxMemory');
    const { maxEntries } = options;
    if (maxEntries !== undefined && (!Number.isSafeInteger(maxEntries) || maxEntries < 1)) {
      throw new CacheError(
        'INVALID_CONFIG',
        `maxEntries must be a positive integer, got ${maxEntries}`,
      );
    }
    const eviction = options.eviction ?? MEMORY_DEFAULTS.eviction;
    if (eviction !== 'tinylfu' && eviction !== 'lru') {
      throw new CacheError(
        'INVALID_CONFIG',
        `eviction must be "tinylfu" or "lru", got ${String(eviction)}`,
      );
    }
    const sweepIntervalMs = parseDuration(
      options.sweepInterval ?? MEMORY_DEFAULTS.sweepInterval,
      'sweepInterval',
    );
    if (sweepIntervalMs < 10) {
      throw new CacheError(
        'INVALID_CONFIG',
        `sweepInterval must be at least 10 ms, got ${sweepIntervalMs}`,
      );
    }
    const store = new MemoryStore(
      {
        maxMemory,
        maxEntries,
        eviction,
        sweepIntervalMs,
        clock: options.clock,
        maxTags: options.maxTags,
      },
      { onEvict: (key, reason) => this?.noteEviction(key, reason) },
    );
    super(store, options);
  }
}
