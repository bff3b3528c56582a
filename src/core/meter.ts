import type { Emitter, EventHandle } from './emitter.js';
import { CacheError, isCacheError } from './errors.js';
import { CacheEmitter } from './events.js';
import type { CacheEvents, CacheStats } from './types.js';

/**
 * The library's one stats meter: named counters and the emitter that tells about them, kept
 * together so that whatever is counted can also be told. The core's `CacheMeter` and the HTTP
 * middleware's meter are both this class.
 */
export class Meter<Counts extends { [K in keyof Counts]: number }, Events extends object> {
  readonly counters: Counts;
  readonly events: Emitter<Events>;

  constructor(counters: Counts, events: Emitter<Events>) {
    this.counters = counters;
    this.events = events;
  }

  /** Adds one (or `by`) to a counter. */
  count(name: keyof Counts, by = 1): void {
    (this.counters[name] as number) += by;
  }

  /** A copy of the counters. */
  snapshot(): Counts {
    return { ...this.counters };
  }
}

type CacheCounters = {
  hits: number;
  misses: number;
  sets: number;
  deletes: number;
  evictions: number;
  errors: number;
};

/**
 * What one cache counts and tells: the counters behind `stats()` and the events behind
 * `on()` / diagnostics_channel. Every operation reports through it, so counting and
 * emitting stay consistent wherever an operation ends (plain read, bulk read, getOrSet).
 */
export class CacheMeter extends Meter<CacheCounters, CacheEvents> {
  declare readonly events: CacheEmitter;

  // Handles of the per-operation events, kept so a hit pays two field reads when nobody
  // listens (see EventHandle).
  readonly #hit: EventHandle<CacheEvents['hit']>;
  readonly #miss: EventHandle<CacheEvents['miss']>;
  readonly #set: EventHandle<CacheEvents['set']>;
  readonly #delete: EventHandle<CacheEvents['delete']>;
  readonly #evict: EventHandle<CacheEvents['evict']>;

  constructor(source: string) {
    const events = new CacheEmitter(source);
    super({ hits: 0, misses: 0, sets: 0, deletes: 0, evictions: 0, errors: 0 }, events);
    this.#hit = events.handle('hit');
    this.#miss = events.handle('miss');
    this.#set = events.handle('set');
    this.#delete = events.handle('delete');
    this.#evict = events.handle('evict');
  }

  hit(key: string): void {
    this.counters.hits++;
    if (this.#hit.wanted) this.#hit.emit({ key });
  }

  miss(key: string): void {
    this.counters.misses++;
    if (this.#miss.wanted) this.#miss.emit({ key });
  }

  set(key: string): void {
    this.counters.sets++;
    if (this.#set.wanted) this.#set.emit({ key });
  }

  deleted(key: string): void {
    this.counters.deletes++;
    if (this.#delete.wanted) this.#delete.emit({ key });
  }

  evicted(key: string, reason: 'capacity' | 'expired'): void {
    this.counters.evictions++;
    if (this.#evict.wanted) this.#evict.emit({ key, reason });
  }

  /**
   * Counts and emits a failure, and returns it as the `CacheError` to throw. Mistakes of the
   * caller (bad input, an aborted signal) are returned but neither counted nor emitted: they
   * say nothing about the backend's health.
   */
  failure(operation: string, key: string | undefined, err: unknown): CacheError {
    const error = isCacheError(err)
      ? err
      : new CacheError('BACKEND', `${operation} failed: ${(err as Error)?.message ?? err}`, {
          cause: err,
        });
    if (!isInputError(error)) {
      this.counters.errors++;
      if (this.events.wants('error')) this.events.emit('error', { operation, key, error });
    }
    return error;
  }

  /** The counters, with the backend's size when given. */
  sizedSnapshot(size?: { entries: number; bytes: number }): CacheStats {
    return size === undefined ? { ...this.counters } : { ...this.counters, ...size };
  }
}

/** Errors the caller caused: never counted as backend failures, never swallowed by fail-open. */
export function isInputError(err: CacheError): boolean {
  switch (err.code) {
    case 'INVALID_ARGUMENT':
    case 'INVALID_TTL':
    case 'ABORTED':
    case 'STOPPED':
    case 'SERIALIZATION':
    case 'NOT_INTEGER':
    case 'OVERFLOW':
    case 'VALUE_TOO_LARGE':
      return true;
    default:
      return false;
  }
}
