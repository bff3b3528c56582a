/**
 * The memory store's entry, what it weighs, and the intrusive list that orders entries
 * for eviction.
 *
 * Each entry carries its own `prev`/`next` links, so moving it to the back of a list on a
 * hit is a handful of pointer writes with no allocation, and unlinking it is O(1) without
 * a search. Every entry sits in exactly one list at a time; `queue` says which one, so a
 * policy can keep per-list weight totals without asking the lists.
 */

/**
 * Bytes charged per entry on top of its key and value bytes: an estimate of what V8 spends
 * on the Map slot, the entry object with its list links and boxed expiry, the headers of
 * the key and value strings, and the entry's share of the frequency sketch. Measured on
 * Node 20 (x64) at about 150–180 bytes for 10^5 entries; it is a fixed estimate, not an
 * exact account, but it keeps many tiny entries from looking free.
 */
export const ENTRY_OVERHEAD_BYTES = 176;

/** The weight an entry is charged against `maxMemory`: UTF-8 key bytes + value bytes + overhead. */
export function entryWeight(key: string, valueBytes: number): number {
  return Buffer.byteLength(key, 'utf8') + valueBytes + ENTRY_OVERHEAD_BYTES;
}

/** Which of the policy's lists an entry sits in. */
export const Queue = {
  /** Not linked into any list. */
  NONE: 0,
  /** The admission window (W-TinyLFU) or the single list (LRU). */
  WINDOW: 1,
  /** W-TinyLFU's main probation segment. */
  PROBATION: 2,
  /** W-TinyLFU's main protected segment. */
  PROTECTED: 3,
} as const;

/** One of the {@link Queue} values. */
export type Queue = (typeof Queue)[keyof typeof Queue];

/**
 * A cached key with its private bytes, its accounting and its list links. The fields a hit
 * reads come first, so they share the object's first cache line (V8 lays fields out in
 * the order they are defined).
 */
export class Entry {
  /**
   * The store's private copy of the value bytes, one char per byte (latin1). A V8 one-byte
   * string is exact-size, immutable and cheaper than a typed array (no ArrayBuffer object,
   * no off-heap allocation); see memory-store.ts.
   */
  value: string;
  /** Expiry time in clock milliseconds; 0 means never. */
  expiresAt: number;
  queue: Queue;
  /**
   * Read since it last reached the head of its list (W-TinyLFU's window and protected
   * segment): the policy moves it to the tail then, rather than on every hit (CLOCK).
   */
  referenced: boolean;
  /**
   * The entry's own recent reads, kept by policies that count frequency (see tinylfu.ts):
   * `epoch * 16 + count`, the count (0–15) as of the sketch's aging epoch `epoch`.
   */
  hits: number;
  readonly key: string;
  /** Bytes charged against `maxMemory`; see `entryWeight`. */
  weight: number;
  /** The key's sketch hash, set by policies that count frequency. */
  hash: number;
  prev: Entry | null;
  next: Entry | null;

  constructor(key: string, value: string, weight: number, expiresAt: number) {
    this.value = value;
    this.expiresAt = expiresAt;
    this.queue = Queue.NONE;
    this.referenced = false;
    this.hits = 0;
    this.key = key;
    this.weight = weight;
    this.hash = 0;
    this.prev = null;
    this.next = null;
  }
}

/** An intrusive doubly-linked list of entries, least recently used at the head. */
export class EntryList {
  head: Entry | null = null;
  tail: Entry | null = null;
  /** Entries linked. */
  count = 0;
  /** Sum of the linked entries' weights. */
  weight = 0;
  readonly id: Queue;

  constructor(id: Queue) {
    this.id = id;
  }

  /** Links `e` at the tail (most recently used end). */
  push(e: Entry): void {
    e.queue = this.id;
    e.prev = this.tail;
    e.next = null;
    if (this.tail === null) this.head = e;
    else this.tail.next = e;
    this.tail = e;
    this.count++;
    this.weight += e.weight;
  }

  /** Unlinks `e`, which must be in this list. */
  unlink(e: Entry): void {
    const { prev, next } = e;
    if (prev === null) this.head = next;
    else prev.next = next;
    if (next === null) this.tail = prev;
    else next.prev = prev;
    e.prev = null;
    e.next = null;
    e.queue = Queue.NONE;
    this.count--;
    this.weight -= e.weight;
  }

  /** Moves `e`, which must be in this list, to the tail. */
  moveToTail(e: Entry): void {
    if (e === this.tail) return;
    const { prev, next } = e;
    // `e` is not the tail, so `next` is non-null.
    if (prev === null) this.head = next;
    else prev.next = next;
    next!.prev = prev;
    e.prev = this.tail;
    e.next = null;
    this.tail!.next = e;
    this.tail = e;
  }

  /** Forgets every entry (their links are left for the garbage collector). */
  reset(): void {
    this.head = null;
    this.tail = null;
    this.count = 0;
    this.weight = 0;
  }
}
