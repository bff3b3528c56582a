/**
 * The invalidation outbox: a tag invalidation that could not reach the backend is kept and
 * retried, and until it lands this instance treats every entry carrying the tag as gone.
 *
 * The race it closes: a write succeeds at the origin, its tag bump times out (Redis paused
 * for a moment), and once Redis answers again every instance keeps serving the entry the
 * write should have dropped, for its whole TTL. Reporting the failure is not enough: the
 * HTTP write has already answered 200.
 *
 * Design:
 * - Pending invalidations are kept per tag (a Map from tag to when it was queued), so a
 *   burst of failing writes to one path holds one entry, and a retry bumps every pending
 *   tag in one `bumpTags` call. Bumping a tag twice (the timed-out bump did land after
 *   all) only invalidates twice: harmless.
 * - Retries run on a timer with exponential backoff (100 ms doubling to 5 s) until the bump
 *   lands. A store with a circuit breaker also flushes the outbox as part of the probe that
 *   closes the breaker (see `Store.onRecovery`), so it lands before reads are served again.
 * - Until a tag's bump lands, {@link InvalidationOutbox.tagVersions} answers
 *   {@link PENDING_VERSION} for any tag list that contains it, without asking the backend.
 *   No entry records that version, so reads of entries carrying the tag miss, and entries
 *   written meanwhile are born invalid (a write can no longer be trusted to carry the
 *   version that the pending bump will supersede).
 * - A tag's bump is dropped (with an event) once every entry it could concern has expired:
 *   entries written after it was queued carry the pending version, so only entries
 *   written before matter, and none of those outlives the longest TTL of a tagged write
 *   this instance has made (or the default TTL, if longer). When that is unbounded (an
 *   entry written without a TTL, or no tagged write and no default TTL yet), the bump is
 *   retried until it lands or the cache stops. The bound is this instance's knowledge:
 *   instances sharing a backend should write tagged entries with similar TTLs.
 * - The race between a retry and a new failure of the same tag: each queueing takes a new
 *   generation, and a landed bump clears a tag only if it was not queued again after the
 *   bump was sent (a bump sent before a write at the origin cannot cover that write).
 */
import { isOutage, REAL_TIMERS, type Timers } from './breaker.js';
import type { CacheEmitter } from './events.js';
import type { MaybePromise, Store } from './store.js';
import type { Clock } from './types.js';

/** The version reported for a tag whose invalidation is pending; no entry records it. */
export const PENDING_VERSION = -2;

/** First retry delay; doubles per failed attempt. */
const FIRST_RETRY_MS = 100;
/** Retry delay cap: a recovered backend is reached within this long even without a probe. */
const MAX_RETRY_MS = 5_000;

/** The part of a {@link Store} that tag checks use; the outbox offers the same. */
export type TagReader = Pick<Store, 'tagVersions' | 'delete'>;

/** What an outbox bumps through: the store, or a view of it that skips its circuit breaker. */
export type TagBumper = Pick<Store, 'bumpTags'>;

interface Pending {
  /** Increases on every queueing of the tag. */
  generation: number;
  /** Epoch ms after which no entry this bump concerns can still exist (Infinity: unknown). */
  dropAt: number;
}

/** The retry delay after `attempt` failed attempts (1, 2, …). */
export function retryDelay(attempt: number): number {
  return Math.min(FIRST_RETRY_MS * 2 ** Math.min(attempt - 1, 16), MAX_RETRY_MS);
}

/** Pending tag invalidations of one cache; released by `stop()`. */
export class InvalidationOutbox implements TagReader {
  readonly #store: Store;
  readonly #events: CacheEmitter;
  readonly #clock: () => Clock;
  readonly #defaultTtlMs: () => number | undefined;
  readonly #timers: Timers;
  readonly #pending = new Map<string, Pending>();
  #generation = 0;
  /** Longest TTL of a tagged write so far; Infinity once one had none; 0 before any. */
  #longestTtlMs = 0;
  #attempts = 0;
  #timer: unknown;
  #flushing: Promise<void> | undefined;
  #stopped = false;

  constructor(
    store: Store,
    events: CacheEmitter,
    clock: () => Clock,
    defaultTtlMs: () => number | undefined,
    timers: Timers = REAL_TIMERS,
  ) {
    this.#store = store;
    this.#events = events;
    this.#clock = clock;
    this.#defaultTtlMs = defaultTtlMs;
    this.#timers = timers;
  }

  /** Tags whose invalidation has not landed yet. */
  get size(): number {
    return this.#pending.size;
  }

  /** Current versions, as the store's, except {@link PENDING_VERSION} for all when any tag is pending. */
  tagVersions(tags: readonly string[], signal?: AbortSignal): MaybePromise<number[]> {
    const pending = this.#pending;
    if (pending.size === 0) return this.#store.tagVersions(tags, signal);
    for (const tag of tags) {
      if (pending.has(tag)) return tags.map(() => PENDING_VERSION);
    }
    return this.#store.tagVersions(tags, signal);
  }

  /** True when any of `tags` has an invalidation pending. */
  anyPending(tags: readonly string[]): boolean {
    if (this.#pending.size === 0) return false;
    for (const tag of tags) if (this.#pending.has(tag)) return true;
    return false;
  }

  delete(key: string, signal?: AbortSignal): MaybePromise<boolean> {
    return this.#store.delete(key, signal);
  }

  /** Records the physical TTL of a tagged write: what bounds how long a bump stays useful. */
  noteTaggedWrite(ttlMs: number | undefined): void {
    const ms = ttlMs ?? Number.POSITIVE_INFINITY;
    if (ms > this.#longestTtlMs) this.#longestTtlMs = ms;
  }

  /** The generation a bump sent now is measured against; see {@link settled}. */
  mark(): number {
    return this.#generation;
  }

  /** A bump of `tags` sent at generation `since` landed: they are no longer pending. */
  settled(tags: readonly string[], since: number): void {
    if (this.#pending.size === 0) return;
    const landed: string[] = [];
    for (const tag of tags) {
      const p = this.#pending.get(tag);
      if (p !== undefined && p.generation <= since) {
        this.#pending.delete(tag);
        landed.push(tag);
      }
    }
    if (landed.length > 0) this.#emit('landed', landed, undefined);
    if (this.#pending.size === 0) this.#idle();
  }

  /** Keeps the invalidation of `tags` after a failed bump and schedules its retry. */
  enqueue(tags: readonly string[], error: unknown): void {
    const generation = ++this.#generation;
    const bound = this.#bound();
    const dropAt = bound === Number.POSITIVE_INFINITY ? bound : this.#clock().now() + bound;
    for (const tag of tags) this.#pending.set(tag, { generation, dropAt });
    this.#emit('queued', tags, error);
    // A breaker that is open would refuse the retries below: ask it to probe soon.
    this.#store.hurryRecovery?.();
    if (this.#timer === undefined && this.#flushing === undefined) this.#schedule();
  }

  /**
   * Tries to land every pending bump now, through `via` (the store by default). Rejects
   * with the bump's failure when it does not land, so a breaker's probe can stay open.
   */
  async flush(via: TagBumper = this.#store): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing.catch(() => {});
    if (this.#pending.size === 0) return;
    const run = this.#attempt(via);
    this.#flushing = run;
    try {
      await run;
    } finally {
      this.#flushing = undefined;
    }
  }

  /** Cancels retries. Pending tags are kept (a restarted cache retries them). */
  stop(): void {
    this.#stopped = true;
    this.#idle();
  }

  /** Allows retries again after `stop()`. */
  resume(): void {
    this.#stopped = false;
    if (this.#pending.size > 0 && this.#timer === undefined) this.#schedule();
  }

  async #attempt(via: TagBumper): Promise<void> {
    this.#dropExpired();
    if (this.#pending.size === 0) return;
    const since = this.#generation;
    const tags = [...this.#pending.keys()];
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    try {
      await via.bumpTags(tags);
    } catch (err) {
      this.#attempts++;
      this.#schedule();
      throw err;
    }
    this.settled(tags, since);
    if (this.#pending.size > 0) this.#schedule(); // Queued again while the bump was in flight.
  }

  #dropExpired(): void {
    const now = this.#clock().now();
    const dropped: string[] = [];
    for (const [tag, p] of this.#pending) {
      if (now >= p.dropAt) {
        this.#pending.delete(tag);
        dropped.push(tag);
      }
    }
    if (dropped.length > 0) this.#emit('dropped', dropped, undefined);
    if (this.#pending.size === 0) this.#idle();
  }

  #bound(): number {
    const longest = Math.max(this.#longestTtlMs, this.#defaultTtlMs() ?? 0);
    // Nothing known about what the tags guard: keep the bump until it lands.
    return longest === 0 ? Number.POSITIVE_INFINITY : longest;
  }

  #schedule(): void {
    if (this.#stopped || this.#pending.size === 0) return;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = this.#timers.setTimeout(
      () => {
        this.#timer = undefined;
        this.flush().catch((err: unknown) => {
          // The retry is already scheduled; only a failure that is not an outage is news.
          if (!isOutage(err) && this.#events.wants('error')) {
            this.#events.emit('error', { operation: 'invalidateTags', error: err });
          }
        });
      },
      retryDelay(this.#attempts + 1),
    );
  }

  #idle(): void {
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.size === 0) this.#attempts = 0;
  }

  #emit(action: 'queued' | 'landed' | 'dropped', tags: readonly string[], error: unknown): void {
    if (!this.#events.wants('outbox')) return;
    this.#events.emit(
      'outbox',
      error === undefined
        ? { action, tags, pending: this.#pending.size }
        : { action, tags, pending: this.#pending.size, error },
    );
  }
}
