import type { GetOrSet, GetOrSetHost } from './get-or-set.js';
import type { MaybePromise } from './store.js';

/**
 * What the operation modules behind `StoreCache` (bulk, pattern and tag operations) need from
 * their cache: its store, meter and options, plus the checks and read ending every operation
 * shares. Built once per cache, so reaching it costs an operation no allocation; the hot
 * single-key reads stay in `StoreCache` and never go through it.
 */
export interface CacheHost extends GetOrSetHost {
  /**
   * Tells getOrSet's runs in flight about this cache's own changes, when a change starts and
   * when it resolves, so none is joined with a value computed before it (single-flight.ts).
   */
  readonly changes: Pick<GetOrSet, 'keysChanged' | 'patternChanged' | 'tagsInvalidated'>;
  /** Throws if the cache was stopped or the signal aborted. */
  check(signal: AbortSignal | undefined): void;
  /** Ends a failed read: a counted miss when failing open, else the error as a rejection. */
  readFailed(operation: string, key: string | undefined, err: unknown): Promise<undefined>;
  /** Ends a read of one key's stored bytes: envelope, freshness, tags and hit/miss counting. */
  finishGet(
    key: string,
    bytes: Buffer | undefined,
    signal: AbortSignal | undefined,
  ): MaybePromise<Buffer | undefined>;
}
