import { Buffer, constants } from 'node:buffer';
import { timerDelay } from '../../core/duration.js';
import { abortError, CacheError } from '../../core/errors.js';
import type { Store, StoreHooks } from '../../core/store.js';
import type { Clock, HealthReport } from '../../core/types.js';
import { Entry, entryWeight } from './entry.js';
import { addInt64, encodeInt64, parseInt64 } from './int64.js';
import { LruPolicy } from './lru-policy.js';
import { deleteAll, scanKeys, sweepSlice, type WalkStep, walkMatching } from './memory-scan.js';
import type { EvictionPolicy } from './policy.js';
import { type MemoryStoreOptions, resolveMemoryStoreOptions } from './store-options.js';
import { TagVersions } from './tag-versions.js';
import { TinyLfuPolicy } from './tinylfu.js';

export { ENTRY_OVERHEAD_BYTES, entryWeight } from './entry.js';
export type { MemoryStoreOptions } from './store-options.js';

/** Values are kept as one-byte strings, so V8's string length limit (~512 MiB) caps one value. */
const MAX_VALUE_BYTES = constants.MAX_STRING_LENGTH;

/**
 * The embedded backend's storage engine: a byte-bounded map of private byte copies with
 * TTLs, evicting by W-TinyLFU (or LRU). The bounds hold after every operation. Reads
 * answer synchronously; errors are thrown synchronously (callers that `await` see a
 * rejection).
 */
export class MemoryStore implements Store {
  readonly kind = 'memory';
  readonly #map = new Map<string, Entry>();
  readonly #policy: EvictionPolicy;
  readonly #tags: TagVersions;
  readonly #hooks: StoreHooks | undefined;
  readonly #clock: Clock;
  readonly #maxMemory: number;
  readonly #maxEntries: number;
  readonly #sweepIntervalMs: number;
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #sweepCursor: Iterator<Entry> | undefined;

  constructor(options: MemoryStoreOptions, hooks?: StoreHooks) {
    const resolved = resolveMemoryStoreOptions(options);
    this.#maxMemory = resolved.maxMemory;
    this.#maxEntries = resolved.maxEntries;
    this.#clock = resolved.clock;
    this.#sweepIntervalMs = resolved.sweepIntervalMs;
    this.#tags = new TagVersions(resolved.maxTags);
    this.#hooks = hooks;
    const bounds = { maxWeight: this.#maxMemory, maxEntries: this.#maxEntries };
    this.#policy =
      resolved.eviction === 'lru'
        ? new LruPolicy()
        : new TinyLfuPolicy(bounds, (Math.random() * 2 ** 32) | 0);
  }

  async start(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw abortError(signal);
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.#sweep(), timerDelay(this.#sweepIntervalMs));
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#sweepCursor = undefined;
  }

  async health(): Promise<HealthReport> {
    const { entries, bytes } = this.size();
    const maxEntries = Number.isFinite(this.#maxEntries) ? this.#maxEntries : null;
    const tags = this.#tags.size;
    const tagResets = this.#tags.resets;
    return {
      status: 'healthy',
      details: { entries, bytes, maxMemory: this.#maxMemory, maxEntries, tags, tagResets },
    };
  }

  size(): { entries: number; bytes: number } {
    return { entries: this.#map.size, bytes: this.#bytes };
  }

  get(key: string): Buffer | undefined {
    const value = this.peek(key);
    if (value === undefined) return undefined;
    const copy = Buffer.allocUnsafe(value.length);
    copy.write(value, 0, 'latin1');
    return copy;
  }

  peek(key: string): string | undefined {
    const entry = this.#map.get(key);
    if (entry === undefined) {
      this.#policy.miss(key);
      return undefined;
    }
    if (entry.expiresAt !== 0 && entry.expiresAt < this.#clock.now()) {
      this.#expire(entry);
      this.#policy.miss(key);
      return undefined;
    }
    this.#policy.touch(entry);
    return entry.value;
  }

  getMany(keys: readonly string[]): (Buffer | undefined)[] {
    const out = new Array<Buffer | undefined>(keys.length);
    for (let i = 0; i < keys.length; i++) out[i] = this.get(keys[i]!);
    return out;
  }

  set(key: string, value: Buffer, ttlMs: number | undefined): void {
    const weight = this.#checkWeight(key, value.length);
    this.#write(key, value, weight, ttlMs);
  }

  setMany(entries: readonly (readonly [string, Buffer])[], ttlMs: number | undefined): void {
    // Check every size first so a rejected batch writes nothing.
    const weights = entries.map(([key, value]) => this.#checkWeight(key, value.length));
    for (let i = 0; i < entries.length; i++) {
      const [key, value] = entries[i]!;
      this.#write(key, value, weights[i]!, ttlMs);
    }
  }

  delete(key: string): boolean {
    const entry = this.#live(key);
    if (entry === undefined) return false;
    this.#remove(entry);
    return true;
  }

  deleteMany(keys: readonly string[]): number {
    let deleted = 0;
    for (const key of keys) if (this.delete(key)) deleted++;
    return deleted;
  }

  exists(key: string): boolean {
    return this.#live(key) !== undefined;
  }

  incrBy(key: string, by: bigint): bigint {
    const entry = this.#live(key);
    let current = 0n;
    if (entry !== undefined) {
      const parsed = parseInt64(entry.value);
      if (parsed === undefined) {
        throw new CacheError(
          'NOT_INTEGER',
          `value of key "${preview(key)}" is not an integer or out of range`,
        );
      }
      current = parsed;
    }
    const next = addInt64(current, by);
    const bytes = encodeInt64(next);
    const weight = this.#checkWeight(key, bytes.length);
    if (entry === undefined) {
      this.#insert(key, bytes, weight, 0);
    } else {
      this.#bytes += weight - entry.weight;
      entry.value = bytes;
      this.#policy.reweigh(entry, weight);
      this.#policy.touch(entry);
      this.#enforceBounds(entry);
    }
    return next;
  }

  async *scan(pattern: string, signal?: AbortSignal): AsyncIterable<readonly string[]> {
    yield* scanKeys(this.#walk(pattern), signal);
  }

  async deletePattern(pattern: string, signal?: AbortSignal): Promise<number> {
    return deleteAll(this.#walk(pattern), (entry) => this.#remove(entry), signal);
  }

  async clear(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw abortError(signal);
    this.#map.clear();
    this.#policy.clear();
    this.#tags.clear();
    this.#bytes = 0;
    this.#sweepCursor = undefined;
  }

  tagVersions(tags: readonly string[]): number[] {
    return this.#tags.get(tags);
  }

  bumpTags(tags: readonly string[]): void {
    this.#tags.bump(tags);
  }

  /** The weight of a prospective entry, or `VALUE_TOO_LARGE` when it alone breaks the bound. */
  #checkWeight(key: string, valueBytes: number): number {
    const weight = entryWeight(key, valueBytes);
    if (weight > this.#maxMemory || valueBytes > MAX_VALUE_BYTES) {
      throw new CacheError(
        'VALUE_TOO_LARGE',
        valueBytes > MAX_VALUE_BYTES
          ? `value of key "${preview(key)}" has ${valueBytes} bytes, above the ${MAX_VALUE_BYTES} a memory store can hold in one value`
          : `entry "${preview(key)}" needs ${weight} bytes (${valueBytes} of value), above maxMemory ${this.#maxMemory}`,
      );
    }
    return weight;
  }

  #write(key: string, value: Buffer, weight: number, ttlMs: number | undefined): void {
    // A private, exact-size copy — never the caller's buffer, which may be a slice of Node's
    // shared 8 KiB pool slab (keeping the whole slab alive) or be reused after we return.
    // As a one-byte string it costs ~16 bytes of header and a plain heap allocation, where a
    // Uint8Array costs ~180 bytes of objects and, above 64 bytes, an off-heap allocation
    // (~1 µs); copying it out on `get` is as fast as from a typed array.
    const bytes = value.toString('latin1');
    const expiresAt = ttlMs === undefined ? 0 : this.#clock.now() + ttlMs;
    const entry = this.#map.get(key);
    if (entry === undefined) {
      this.#insert(key, bytes, weight, expiresAt);
      return;
    }
    this.#bytes += weight - entry.weight;
    entry.value = bytes;
    entry.expiresAt = expiresAt;
    this.#policy.reweigh(entry, weight);
    this.#policy.touch(entry);
    this.#enforceBounds(entry);
  }

  #insert(key: string, bytes: string, weight: number, expiresAt: number): void {
    const entry = new Entry(key, bytes, weight, expiresAt);
    this.#map.set(key, entry);
    this.#bytes += weight;
    this.#policy.add(entry);
    this.#enforceBounds(entry);
  }

  /** Evicts until both bounds hold again, sparing `keep` (the entry just written). */
  #enforceBounds(keep: Entry): void {
    let hookFailed = false;
    let hookError: unknown;
    while (this.#bytes > this.#maxMemory || this.#map.size > this.#maxEntries) {
      const victim = this.#policy.victim(keep);
      if (victim === undefined) break; // unreachable: `keep` alone always fits
      this.#remove(victim);
      const expired = victim.expiresAt !== 0 && victim.expiresAt < this.#clock.now();
      try {
        this.#hooks?.onEvict(victim.key, expired ? 'expired' : 'capacity');
      } catch (err) {
        // Finish restoring the bound first; then let the hook's failure surface.
        if (!hookFailed) [hookFailed, hookError] = [true, err];
      }
    }
    if (hookFailed) throw hookError;
  }

  /** The entry under `key` if it is held and not expired (expiring it lazily if it is). */
  #live(key: string): Entry | undefined {
    const entry = this.#map.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== 0 && entry.expiresAt < this.#clock.now()) {
      this.#expire(entry);
      return undefined;
    }
    return entry;
  }

  #remove(entry: Entry): void {
    this.#map.delete(entry.key);
    this.#policy.remove(entry);
    this.#bytes -= entry.weight;
  }

  #expire(entry: Entry): void {
    this.#remove(entry);
    this.#hooks?.onEvict(entry.key, 'expired');
  }

  /** The live entries matching `pattern`, with pauses between slices (see `walkMatching`). */
  #walk(pattern: string): Generator<WalkStep> {
    return walkMatching(this.#map, pattern, this.#clock, (entry) => this.#expire(entry));
  }

  /** One sweep tick: examines the next slice of entries, dropping expired ones. */
  #sweep(): void {
    const now = this.#clock.now();
    this.#sweepCursor ??= this.#map.values();
    const done = sweepSlice(this.#sweepCursor, now, (entry) => this.#expire(entry));
    if (done) this.#sweepCursor = undefined;
  }
}

/** A key shortened for error messages. */
function preview(key: string): string {
  return key.length > 100 ? `${key.slice(0, 100)}…` : key;
}
