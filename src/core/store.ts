import type { HealthReport } from './types.js';

/** A value or a promise of it: memory stores answer synchronously so hits skip a promise. */
export type MaybePromise<T> = T | Promise<T>;

/** Why a store dropped an entry on its own. */
export type EvictionReason = 'capacity' | 'expired';

/** Callbacks a store uses to report what it did on its own. */
export interface StoreHooks {
  onEvict(key: string, reason: EvictionReason): void;
}

/**
 * The driver seam: the small set of byte operations a backend implements. `StoreCache`
 * (core) builds the whole {@link Cache} contract — validation, envelopes, tags, getOrSet,
 * stats, events — on top of it, so every backend behaves the same.
 *
 * Keys given to a store are the caller's keys (unprefixed); a store that shares a keyspace
 * (Redis) adds its prefix itself and strips it from what `scan` yields. Values handed to
 * `set` become the store's (the core never touches them again); buffers a store returns
 * become the caller's, so a store that keeps bytes in process must return copies.
 * TTLs are whole milliseconds ≥ 1, or `undefined` for no expiry.
 */
export interface Store {
  /** `memory`, `redis`, … */
  readonly kind: string;
  start(signal?: AbortSignal): Promise<void>;
  stop(): Promise<void>;
  health(): Promise<HealthReport>;

  get(key: string, signal?: AbortSignal): MaybePromise<Buffer | undefined>;
  /**
   * In-process stores only: the stored bytes without a copy, as the immutable one-byte
   * string that holds them (one char per byte). Same effects as `get` (lazy expiry,
   * recency). For readers that never write to what they read; see shared-read.ts.
   */
  peek?(key: string): string | undefined;
  /**
   * Stores with an in-process copy in front of a remote one (TieredCache): the local copy
   * as {@link peek} would return it, or `undefined` when none is held here (the key may
   * still exist remotely: read it with `get`). Lets getOrSet parse a local hit without a
   * copy.
   */
  peekLocal?(key: string): string | undefined;
  /**
   * Remote stores: at most the first `maxBytes` of the value (`undefined` when absent), so
   * `exists` can read an entry's envelope without moving a large payload.
   */
  getHead?(key: string, maxBytes: number, signal?: AbortSignal): MaybePromise<Buffer | undefined>;
  getMany(keys: readonly string[], signal?: AbortSignal): MaybePromise<(Buffer | undefined)[]>;
  set(
    key: string,
    value: Buffer,
    ttlMs: number | undefined,
    signal?: AbortSignal,
  ): MaybePromise<void>;
  /** Writes every entry, atomically per key, in one round trip where the backend allows. */
  setMany(
    entries: readonly (readonly [string, Buffer])[],
    ttlMs: number | undefined,
    signal?: AbortSignal,
  ): MaybePromise<void>;
  delete(key: string, signal?: AbortSignal): MaybePromise<boolean>;
  deleteMany(keys: readonly string[], signal?: AbortSignal): MaybePromise<number>;
  exists(key: string, signal?: AbortSignal): MaybePromise<boolean>;
  /**
   * Redis `INCRBY` semantics: a missing key counts as 0; a value that is not a base-10
   * signed 64-bit integer rejects with `NOT_INTEGER`; a result outside int64 rejects with
   * `OVERFLOW`; an existing TTL is kept.
   */
  incrBy(key: string, by: bigint, signal?: AbortSignal): MaybePromise<bigint>;
  /** Yields batches of keys matching a Redis glob (on unprefixed keys); never blocks the backend. */
  scan(pattern: string, signal?: AbortSignal): AsyncIterable<readonly string[]>;
  /** Deletes every key matching the glob, in batches; resolves to how many were deleted. */
  deletePattern(pattern: string, signal?: AbortSignal): Promise<number>;
  /** Drops everything this store owns (under its prefix only). */
  clear(signal?: AbortSignal): Promise<void>;

  /**
   * The current version of each tag, an opaque number (the memory store answers 0 for a tag
   * never invalidated; Redis gives a tag without a key a fresh one). Entries record the
   * versions of their tags when written; an entry whose recorded versions differ from the
   * current ones has been invalidated. Versions, unlike timestamps, need no clock agreement
   * between instances.
   */
  tagVersions(tags: readonly string[], signal?: AbortSignal): MaybePromise<number[]>;
  /** Increments the version of each tag (atomically per tag), invalidating entries that carry it. */
  bumpTags(tags: readonly string[], signal?: AbortSignal): MaybePromise<void>;

  /**
   * Cross-process single flight for `getOrSet`, for stores shared by many processes (Redis).
   * Absent on in-process stores, where the in-process single flight is already global.
   */
  readonly flights?: FlightLocks;

  /**
   * Stores with a circuit breaker: an invalidation is waiting to reach the backend (the
   * outbox queued it), so probe soon rather than after the whole cool-down.
   */
  hurryRecovery?(): void;
  /**
   * Stores that cut themselves off during an outage (a circuit breaker) register `hook` here
   * and run it when the backend answers again, before they serve again, with a view of
   * themselves that bypasses the cut-off. A rejected hook keeps the store cut off. The core
   * uses it to land pending invalidations first (see outbox.ts).
   */
  onRecovery?(hook: (direct: Pick<Store, 'bumpTags'>) => Promise<void>): void;

  /** Entries and bytes held, for stores that know (memory). */
  size?(): { entries: number; bytes: number };
}

/** A lock held by this process while it computes a key's value. */
export interface HeldFlight {
  /** Releases the lock and wakes the processes waiting on it. */
  release(): Promise<void>;
  /**
   * The fence, for locks that can be lost while held (they expire): renews the lock for a
   * full TTL if this process still holds it and resolves `true`; `false` when it expired or
   * another process took it. The core calls it right before writing the factory's value and
   * drops the write on `false` (or on a rejection), so a holder whose lock ran out never
   * writes over a newer holder's value. Absent: the lock cannot be lost.
   */
  confirm?(): Promise<boolean>;
}

/**
 * Short-lived per-key locks so that, across processes, one factory runs per expiry. Waiters
 * are woken by the holder's release (pub/sub), not by polling.
 */
export interface FlightLocks {
  /**
   * Takes `key`'s lock; `undefined` when another process holds it. The lock is kept alive
   * while held (renewed) and runs out at most `ttlMs` after its holder stops renewing it
   * (a crashed process), so `ttlMs` bounds how long a dead holder blocks the others.
   */
  acquire(key: string, ttlMs: number): Promise<HeldFlight | undefined>;
  /**
   * Resolves when `key`'s lock is released, or when it may have expired (its TTL as read
   * when the wait began has run out: the holder died, or renewed it — the caller re-checks),
   * or after `timeoutMs`, whichever is first.
   */
  waitRelease(key: string, timeoutMs: number, signal?: AbortSignal): Promise<void>;
}
