import { type Duration, parseDuration } from './duration.js';
import { CacheError } from './errors.js';
import type { Clock } from './types.js';

/** Options every cache accepts, whatever its backend. */
export interface CommonCacheOptions {
  /** TTL for writes that give none (or 0). Omitted: such entries never expire. */
  defaultTTL?: Duration;
  /** Keys are stored as `prefix:key`; pattern operations and `clear()` never reach outside it. */
  prefix?: string;
  /** The time source (ms since the epoch); inject a fake one in tests. */
  clock?: Clock;
  /**
   * Reads (`get`, `mget`, `exists`, `getJSON`) that fail in the backend resolve as misses
   * (counted in `stats().errors` and emitted as `error`) instead of rejecting. Writes always
   * reject. `getOrSet` always falls back to its factory. Default `true`.
   */
  failOpen?: boolean;
  /**
   * The default of `getOrSet`'s per-call `jitter`: a fraction in [0, 1) by which each write's
   * TTL is shortened at random, so keys filled together do not all expire together. Default 0.
   */
  jitter?: number;
}

/** {@link CommonCacheOptions} after validation, with defaults applied. */
export interface ResolvedCommonOptions {
  defaultTtlMs: number | undefined;
  prefix: string;
  clock: Clock;
  failOpen: boolean;
  jitter: number;
}

/** The defaults, one line of doc each. */
export const COMMON_DEFAULTS = {
  /** No default TTL: entries written without one live until evicted or deleted. */
  defaultTTL: undefined,
  /** No prefix. */
  prefix: '',
  /** Wall-clock time. */
  clock: { now: Date.now } satisfies Clock,
  /** Reads fail open. */
  failOpen: true,
  /** No jitter: getOrSet writes with the TTL asked. */
  jitter: 0,
} as const;

/** Validates the common options, naming the option in every error. */
export function resolveCommonOptions(options: CommonCacheOptions = {}): ResolvedCommonOptions {
  if (typeof options !== 'object' || options === null) {
    throw new CacheError('INVALID_CONFIG', 'cache options must be an object');
  }
  let defaultTtlMs: number | undefined;
  if (options.defaultTTL !== undefined) {
    const ms = parseDuration(options.defaultTTL, 'defaultTTL');
    defaultTtlMs = ms === 0 ? undefined : Math.ceil(ms);
  }
  const prefix = options.prefix ?? COMMON_DEFAULTS.prefix;
  if (typeof prefix !== 'string') {
    throw new CacheError('INVALID_CONFIG', 'prefix must be a string');
  }
  const clock = options.clock ?? COMMON_DEFAULTS.clock;
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function') {
    throw new CacheError('INVALID_CONFIG', 'clock must be an object with a now() method');
  }
  const failOpen = options.failOpen ?? COMMON_DEFAULTS.failOpen;
  if (typeof failOpen !== 'boolean') {
    throw new CacheError('INVALID_CONFIG', 'failOpen must be a boolean');
  }
  const jitter = options.jitter ?? COMMON_DEFAULTS.jitter;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter < 1)) {
    throw new CacheError(
      'INVALID_CONFIG',
      `jitter must be a number in [0, 1), got ${String(jitter)}`,
    );
  }
  return { defaultTtlMs, prefix, clock, failOpen, jitter };
}

/**
 * The options after `initialize(config)`: only `defaultTTL` and `failOpen` may change once the
 * cache exists, because the store was already built with the prefix and clock.
 */
export function reinitializeOptions(
  current: ResolvedCommonOptions,
  config: Record<string, unknown>,
): ResolvedCommonOptions {
  for (const name of Object.keys(config)) {
    if (name !== 'defaultTTL' && name !== 'failOpen') {
      throw new CacheError(
        'INVALID_CONFIG',
        `initialize() takes defaultTTL and failOpen; "${name}" is set when the cache is created`,
      );
    }
  }
  const { defaultTTL, failOpen } = config as CommonCacheOptions;
  return resolveCommonOptions({
    ...current,
    defaultTTL: defaultTTL ?? current.defaultTtlMs,
    failOpen: failOpen ?? current.failOpen,
  });
}

/** Stored key for a prefix: `prefix:key`, without doubling a `:` the prefix already ends with. */
export function prefixSeparator(prefix: string): string {
  if (prefix === '') return '';
  return prefix.endsWith(':') ? prefix : `${prefix}:`;
}
