import type { Entry } from './entry.js';

/** The eviction policies a `MemoryStore` offers. */
export type EvictionPolicyName = 'tinylfu' | 'lru';

/** The bounds a policy sizes its segments from. */
export interface PolicyBounds {
  /** Total weight (bytes) the store may hold. */
  readonly maxWeight: number;
  /** Total entries the store may hold; `Infinity` when unbounded. */
  readonly maxEntries: number;
}

/**
 * How a `MemoryStore` orders its entries for eviction. The store owns the key map and the
 * byte total; the policy owns the entries' list links and decides who goes next. Every
 * method is O(1) (amortized) and allocates nothing.
 */
export interface EvictionPolicy {
  readonly name: EvictionPolicyName;
  /** Links an entry that just joined the store. */
  add(entry: Entry): void;
  /** Records a read or an overwrite of a held entry. */
  touch(entry: Entry): void;
  /** Records a read of a key the store does not hold. */
  miss(key: string): void;
  /** Sets a held entry's weight, keeping the policy's totals right. */
  reweigh(entry: Entry, weight: number): void;
  /** Unlinks an entry that is leaving the store. */
  remove(entry: Entry): void;
  /**
   * The entry to evict next, never `keep` (the entry the current write is about); may
   * reorder entries on the way. `undefined` only when no other entry is held.
   */
  victim(keep: Entry | null): Entry | undefined;
  /** Forgets every entry and all history. */
  clear(): void;
}
