/**
 * The memory store's entry, what it weighs, and the intrusive list that orders entries
 * for eviction.
 *
 * Each entry carries its own `prev`/`next` links, so moving it to the back of a list on a
 * hit is a handful of pointer writes with no allocation, and unlinking it is O(1) without
 * a search. Every entry sits in exactly one list at a time; `queue` says which one, so a
 * policy can keep per-list weight totals without asking the lists.
 */
import { Buffer } from 'node:buffer';

/**
 * Bytes charged per entry on top of its key and value bytes, calibrated against the heap
 * (Node 20, x64; `npm run bench -- memory-bound` measures it). What one entry really costs
 * besides its key and value bytes:
 * - the `Entry` object: 24 bytes of header and ten 8-byte fields, 104;
 * - the key and value string headers (16 each) and their rounding up to 8 bytes, ~40;
 * - its slot in the `Map`: V8 keeps 28 bytes per slot and between 2 and 4 slots per live
 *   entry once entries come and go (a deleted slot is reused only when the table is
 *   rebuilt), 56–112;
 * - its share of the frequency sketch and doorkeeper, sized to the entries held, 16–32;
 * - its read-count slot under W-TinyLFU (1 byte, and 4 on the free list; twice that
 *   right after the arrays double), 5–10;
 * - the boxed expiry (16) once any entry has a TTL.
 * That is 221–314 bytes; 264 keeps measured heap growth within 0.87–1.06 × `maxMemory`
 * for values from 10 B to 10 KB (the 2 M-write run in bench/README.md). The old 176 let
 * 64 MiB of 10-byte values take 99 MiB of heap.
 */
export const ENTRY_OVERHEAD_BYTES = 264;

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
   * The entry's index in its policy's per-entry arrays, or -1: W-TinyLFU keeps each held
   * entry's read count there rather than on the entry (see tinylfu.ts).
   */
  slot: number;
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
    this.slot = -1;
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
