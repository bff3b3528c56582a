import type { Duration } from './duration.js';
import type { Jsonified } from './json.js';
import type { Decoder } from './shared-read.js';

/** Options accepted as the last argument of every call that may do I/O. */
export interface CallOptions {
  /** Aborts waiting for the call; the call rejects with `CacheError` code `ABORTED`. */
  readonly signal?: AbortSignal;
}

/** Options for `set`, `setJSON` and `mset`. */
export interface SetOptions extends CallOptions {
  /** Tags written with the entry; `invalidateTags` drops it. */
  tags?: readonly string[];
  /**
   * Versions of `tags` taken by `tagSnapshot` before the value was computed. Any
   * `invalidateTags` of those tags after the snapshot makes this write invalid at once, so a
   * slow producer can never write back a value older than an invalidation.
   */
  snapshot?: TagSnapshot;
}

/** Opaque versions of some tags at one moment; see {@link Cache.tagSnapshot}. */
export interface TagSnapshot {
  readonly tags: readonly string[];
  readonly versions: readonly number[];
}

/** A value the byte API stores: bytes or a string (stored as UTF-8). */
export type CacheValue = Uint8Array | string;

/** A source of the current time in milliseconds since the epoch; inject one in tests. */
export interface Clock {
  now(): number;
}

/** Counters kept by every cache since it was created. */
export interface CacheStats {
  hits: number;
  misses: number;
  sets: number;
  deletes: number;
  evictions: number;
  errors: number;
  /** Entries held (memory backends). */
  entries?: number;
  /** Bytes held, counting keys, values and per-entry overhead (memory backends). */
  bytes?: number;
}

/** What `health()` reports. */
export interface HealthReport {
  status: 'healthy' | 'degraded' | 'unhealthy';
  error?: string;
  details?: Record<string, unknown>;
}

/** Freshness limits for `getOrSet`'s factory. A plain duration sets both. */
export interface TimeoutOptions {
  /** After this long, serve a stale value if there is one and let the factory finish in the background. */
  soft?: Duration;
  /** After this long, reject with `TIMEOUT` (the factory's result is still cached when it lands). */
  hard?: Duration;
}

/** What a `getOrSet` factory is given. */
export interface FactoryContext<T> {
  readonly key: string;
  /** The stale value, when one is kept (grace or fail-safe), as JSON gave it back. */
  readonly stale: Jsonified<T> | undefined;
  /** Aborted when the hard timeout fires or the cache stops. */
  readonly signal: AbortSignal;
}

/** Options for {@link Cache.getOrSet}. */
export interface GetOrSetOptions extends CallOptions {
  /** Freshness lifetime; omitted or 0 → the cache's `defaultTTL`. */
  ttl?: Duration;
  /** Tags written with the entry; `invalidateTags` drops it. */
  tags?: readonly string[];
  /** After expiry, serve the stale value for this long while one background refresh runs. */
  grace?: Duration;
  /**
   * When the factory throws and a stale value is kept, serve the stale value instead of the
   * error. `true` keeps stale values for 1 hour past expiry; a duration sets that window.
   */
  failSafe?: boolean | Duration;
  /** How long callers wait for the factory: a duration sets soft and hard; see {@link TimeoutOptions}. */
  timeout?: Duration | TimeoutOptions;
  /**
   * A fraction in [0, 1): each write's freshness lifetime is `ttl` shortened by a random
   * amount up to this share of it (0.1: between 90 % and 100 % of `ttl`), so entries written
   * together do not all expire, and refresh, in the same instant. Default: the cache's own
   * `jitter` option (0 unless set).
   */
  jitter?: number;
  /** The cross-process lock of a shared backend (Redis); see {@link LockOptions}. */
  lock?: LockOptions;
}

/** How getOrSet's cross-process lock behaves (shared backends only; in-process stores ignore it). */
export interface LockOptions {
  /**
   * The lock's time to live: renewed while the factory runs, so it bounds how long a
   * holder that died (killed, host lost) blocks the other processes. Default 5 s.
   */
  ttl?: Duration;
  /**
   * How long a process waits for another process's factory run before it runs the factory
   * itself (without the lock). Default 10 s.
   */
  wait?: Duration;
}

/** Options for {@link Cache.invalidateTags}. */
export interface InvalidateOptions extends CallOptions {
  /**
   * When the backend cannot be reached, keep the invalidation in this cache's outbox and
   * retry it (with backoff, and on reconnect) instead of rejecting; until it lands, this
   * cache treats entries carrying the tags as absent. See {@link InvalidationResult}.
   */
  retry?: boolean;
}

/** How an {@link Cache.invalidateTags} call ended. */
export interface InvalidationResult {
  /**
   * `false`: the invalidation reached the backend. `true` (only with `retry`): it did not
   * yet, and waits in the outbox; the `outbox` event says when it lands.
   */
  queued: boolean;
}

/** Where a backend's circuit breaker is: passing calls, refusing them, or probing. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Events every cache emits; listen with `cache.on(name, fn)`. */
export interface CacheEvents {
  hit: { key: string };
  miss: { key: string };
  set: { key: string };
  delete: { key: string };
  evict: { key: string; reason: 'capacity' | 'expired' };
  stale: { key: string; reason: 'grace' | 'fail-safe' | 'soft-timeout' };
  refresh: { key: string; ok: boolean; durationMs: number; error?: unknown };
  invalidate: { tags: readonly string[] };
  /** A failed invalidation was queued for retry, landed, or was dropped once nothing it concerned could remain. */
  outbox: {
    action: 'queued' | 'landed' | 'dropped';
    tags: readonly string[];
    /** Tags still pending after this change. */
    pending: number;
    /** Why it was queued. */
    error?: unknown;
  };
  /** A remote backend's circuit breaker changed state (with the failure that opened it). */
  breaker: { state: BreakerState; error?: unknown };
  error: { operation: string; key?: string; error: unknown };
}

/** An event name of {@link CacheEvents}. */
export type CacheEventName = keyof CacheEvents;

/** One cache interface over every backend (DESIGN §2). Keys are the caller's, without prefix. */
export interface Cache {
  /** The backend's name: `memory`, `redis` or `tiered`. */
  readonly name: string;

  /** Re-applies options before `start()`; rejects once started. */
  initialize(config?: Record<string, unknown>): Promise<void>;
  /** Connects and verifies; rejects with `CONNECTION` when the backend is unreachable. */
  start(options?: CallOptions): Promise<void>;
  /** Releases sockets and timers so the process can exit. Idempotent. */
  stop(): Promise<void>;
  /** The backend's state and round-trip latency. */
  health(): Promise<HealthReport>;

  get(key: string, options?: CallOptions): Promise<Buffer | undefined>;
  /**
   * `get` for hot paths: answers synchronously when the backend can (a memory hit or miss)
   * and with a promise otherwise. Same counting, events and errors as `get`.
   */
  getMaybeSync(
    key: string,
    options?: CallOptions,
  ): Buffer | undefined | Promise<Buffer | undefined>;
  /**
   * Optional capability, for readers that never write to what they read and parse it (the
   * HTTP hit path): `get` with `decode` applied, answered synchronously when the backend
   * can, from its own bytes without a copy where it holds them in process, and with the
   * decode remembered while the stored value is unchanged. Same counting, expiry, tag rules
   * and errors as `get`. Without it, callers use `getMaybeSync`.
   */
  readDecoded?<T>(key: string, decode: Decoder<T>): T | undefined | Promise<T | undefined>;
  set(key: string, value: CacheValue, ttl?: Duration, options?: SetOptions): Promise<void>;
  delete(key: string, options?: CallOptions): Promise<boolean>;
  exists(key: string, options?: CallOptions): Promise<boolean>;

  /** The stored JSON value; `T` is what was stored, the result what JSON gives back. */
  getJSON<T = unknown>(key: string, options?: CallOptions): Promise<Jsonified<T> | undefined>;
  setJSON<T>(key: string, value: T, ttl?: Duration, options?: SetOptions): Promise<void>;

  /** Cache-aside without stampedes; the result went through JSON, hit or miss alike. */
  getOrSet<T>(
    key: string,
    factory: (ctx: FactoryContext<T>) => T | Promise<T>,
    options?: GetOrSetOptions,
  ): Promise<Jsonified<T>>;

  mget(keys: readonly string[], options?: CallOptions): Promise<(Buffer | undefined)[]>;
  mset(
    entries: ReadonlyMap<string, CacheValue> | Readonly<Record<string, CacheValue>>,
    ttl?: Duration,
    options?: SetOptions,
  ): Promise<void>;

  deletePattern(pattern: string, options?: CallOptions): Promise<number>;
  keys(pattern?: string, options?: CallOptions): Promise<string[]>;
  scan(pattern?: string, options?: CallOptions): AsyncIterableIterator<string>;

  incr(key: string, by?: number, options?: CallOptions): Promise<number>;
  decr(key: string, by?: number, options?: CallOptions): Promise<number>;

  /**
   * Drops every entry written with any of these tags, on every instance sharing the backend.
   * With `{ retry: true }` a backend failure queues the invalidation instead of rejecting.
   */
  invalidateTags(tags: readonly string[], options?: InvalidateOptions): Promise<InvalidationResult>;
  /** The current versions of `tags`, to pass as `SetOptions.snapshot` on a later write. */
  tagSnapshot(tags: readonly string[], options?: CallOptions): Promise<TagSnapshot>;
  clear(options?: CallOptions): Promise<void>;
  stats(): CacheStats;

  on<E extends CacheEventName>(event: E, listener: (payload: CacheEvents[E]) => void): this;
  off<E extends CacheEventName>(event: E, listener: (payload: CacheEvents[E]) => void): this;
  once<E extends CacheEventName>(event: E, listener: (payload: CacheEvents[E]) => void): this;
}
