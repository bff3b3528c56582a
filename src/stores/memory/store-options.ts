import { CacheError } from '../../core/errors.js';
import type { Clock } from '../../core/types.js';
import type { EvictionPolicyName } from './policy.js';

/** Options for `MemoryStore`. */
export interface MemoryStoreOptions {
  /** Bound on the sum of entry weights (`entryWeight`: key + value + overhead), in bytes. */
  maxMemory: number;
  /** Bound on the number of entries; unbounded when omitted. */
  maxEntries?: number;
  /** Time source for TTLs; defaults to `Date.now`. */
  clock?: Clock;
  /** How often the background sweep looks for expired entries once started. */
  sweepIntervalMs?: number;
  /** Which entries go first when a bound is reached. */
  eviction?: EvictionPolicyName;
  /** Invalidated tags remembered before every tagged entry is invalidated at once; see tag-versions.ts. */
  maxTags?: number;
}

/** {@link MemoryStoreOptions} with defaults applied; `maxEntries` is `Infinity` when unbounded. */
export interface ResolvedMemoryStoreOptions {
  readonly maxMemory: number;
  readonly maxEntries: number;
  readonly clock: Clock;
  readonly sweepIntervalMs: number;
  readonly eviction: EvictionPolicyName;
  readonly maxTags: number;
}

const DEFAULTS = {
  /** Once a second: expired entries are also dropped lazily, so this only reclaims memory. */
  sweepIntervalMs: 1000,
  /** W-TinyLFU beats LRU on skewed traffic and resists scans; see tinylfu.ts. */
  eviction: 'tinylfu',
  /** About 6 MiB of map slots at worst. */
  maxTags: 65_536,
} as const;

/** Node's timer ceiling (≈ 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

const systemClock: Clock = { now: () => Date.now() };

/** Validates `options` (naming the bad option in an `INVALID_CONFIG` error) and applies defaults. */
export function resolveMemoryStoreOptions(options: MemoryStoreOptions): ResolvedMemoryStoreOptions {
  const { maxMemory, maxEntries, clock, sweepIntervalMs, eviction, maxTags } = options ?? {};
  if (typeof maxMemory !== 'number' || !Number.isFinite(maxMemory) || maxMemory < 1) {
    throw invalid(`maxMemory must be a positive number of bytes, got ${String(maxMemory)}`);
  }
  if (maxEntries !== undefined && !(Number.isSafeInteger(maxEntries) && maxEntries >= 1)) {
    throw invalid(`maxEntries must be a positive integer, got ${String(maxEntries)}`);
  }
  if (clock !== undefined && typeof clock?.now !== 'function') {
    throw invalid('clock must be an object with a now() method');
  }
  const interval = sweepIntervalMs ?? DEFAULTS.sweepIntervalMs;
  if (typeof interval !== 'number' || !(interval >= 1 && interval <= MAX_TIMER_MS)) {
    throw invalid(`sweepIntervalMs must be between 1 and ${MAX_TIMER_MS}, got ${String(interval)}`);
  }
  const policy = eviction ?? DEFAULTS.eviction;
  if (policy !== 'tinylfu' && policy !== 'lru') {
    throw invalid(`eviction must be 'tinylfu' or 'lru', got ${String(policy)}`);
  }
  const tags = maxTags ?? DEFAULTS.maxTags;
  if (!(Number.isSafeInteger(tags) && tags >= 1)) {
    throw invalid(`maxTags must be a positive integer, got ${String(maxTags)}`);
  }
  return {
    maxTags: tags,
    maxMemory,
    maxEntries: maxEntries ?? Number.POSITIVE_INFINITY,
    clock: clock ?? systemClock,
    sweepIntervalMs: interval,
    eviction: policy,
  };
}

function invalid(message: string): CacheError {
  return new CacheError('INVALID_CONFIG', message);
}
