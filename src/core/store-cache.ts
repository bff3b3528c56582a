import type { Duration } from './duration.js';
import { type EntryState, isFresh, readEntry, writeEntry } from './entry.js';
import { hasEnvelope } from './envelope.js';
import { abortError, CacheError } from './errors.js';
import type { CacheEmitter } from './events.js';
import { GetOrSet } from './get-or-set.js';
import { decodeJSON, encodeJSON } from './json.js';
import { CacheMeter, isInputError } from './meter.js';
import {
  type CommonCacheOptions,
  type ResolvedCommonOptions,
  resolveCommonOptions,
} from './options.js';
import { canPeek, type SharedBytes, SharedReader } from './shared-read.js';
import type { MaybePromise, Store } from './store.js';
import type {
  Cache,
  CacheEventName,
  CacheEvents,
  CacheStats,
  CacheValue,
  CallOptions,
  FactoryContext,
  GetOrSetOptions,
  HealthReport,
  SetOptions,
  TagSnapshot,
} from './types.js';
import {
  assertKey,
  assertKeys,
  assertPattern,
  assertTags,
  resolveTtl,
  toBytes,
  toIncrement,
} from './validate.js';

/**
 * The whole {@link Cache} contract over any {@link Store}: validation before I/O, envelopes,
 * tags, stats, events, fail-open reads and getOrSet. Backends subclass it with their store.
 */
export class StoreCache implements Cache {
  readonly name: string;
  protected readonly store: Store;
  protected options: ResolvedCommonOptions;
  protected readonly events: CacheEmitter;
  readonly #meter: CacheMeter;
  readonly #getOrSet: GetOrSet;
  readonly #shared: SharedReader | undefined;
  #state: 'new' | 'started' | 'stopped' = 'new';

  constructor(store: Store, options: CommonCacheOptions = {}) {
    this.store = store;
    this.name = store.kind;
    this.options = resolveCommonOptions(options);
    this.#meter = new CacheMeter(store.kind);
    this.events = this.#meter.events;
    this.#getOrSet = new GetOrSet({ store, options: () => this.options, meter: this.#meter });
    this.#shared = canPeek(store)
      ? new SharedReader(store, () => this.options.clock.now())
      : undefined;
  }

  /** Called by stores (through their hooks) when they evict on their own. */
  protected noteEviction(key: string, reason: 'capacity' | 'expired'): void {
    this.#meter.evicted(key, reason);
  }

  async initialize(config: Record<string, unknown> = {}): Promise<void> {
    if (this.#state === 'started') {
      throw new CacheError('INVALID_ARGUMENT', 'initialize() must be called before start()');
    }
    for (const name of Object.keys(config)) {
      if (name !== 'defaultTTL' && name !== 'failOpen') {
        throw new CacheError(
          'INVALID_CONFIG',
          `initialize() takes defaultTTL and failOpen; "${name}" is set when the cache is created`,
        );
      }
    }
    const { defaultTTL, failOpen } = config as CommonCacheOptions;
    this.options = resolveCommonOptions({
      ...this.options,
      defaultTTL: defaultTTL ?? this.options.defaultTtlMs,
      failOpen: failOpen ?? this.options.failOpen,
    });
  }

  async start(options?: CallOptions): Promise<void> {
    await this.store.start(options?.signal);
    this.#state = 'started';
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.#getOrSet.stop();
    this.#shared?.clear();
    await this.store.stop();
  }

  async health(): Promise<HealthReport> {
    if (this.#state === 'stopped') return { status: 'unhealthy', error: 'stopped' };
    return this.store.health();
  }

  get(key: string, options?: CallOptions): Promise<Buffer | undefined> {
    const value = this.getMaybeSync(key, options);
    return value instanceof Promise ? value : Promise.resolve(value);
  }

  getMaybeSync(
    key: string,
    options?: CallOptions,
  ): Buffer | undefined | Promise<Buffer | undefined> {
    const signal = options?.signal;
    try {
      this.#check(signal);
      assertKey(key);
      const found = this.store.get(key, signal);
      if (found instanceof Promise) {
        return found.then(
          (bytes) => this.#finishGet(key, bytes, signal),
          (err) => this.#readFailed('get', key, err),
        );
      }
      return this.#finishGet(key, found, signal);
    } catch (err) {
      return this.#readFailed('get', key, err);
    }
  }

  /**
   * `get` for readers that never write to what they read (the HTTP hit path): the same
   * answer, counting and failure handling, but an in-process backend hands out its bytes
   * without a copy (see shared-read.ts). Other backends return what `getMaybeSync` does.
   */
  readShared(key: string): SharedBytes | undefined | Promise<SharedBytes | undefined> {
    const shared = this.#shared;
    if (shared === undefined) return this.getMaybeSync(key);
    try {
      this.#check(undefined);
      assertKey(key);
      const found = shared.read(key);
      if (found instanceof Promise) {
        return found.then(
          (bytes) => this.#count(key, bytes),
          (err) => this.#readFailed('get', key, err),
        );
      }
      return this.#count(key, found);
    } catch (err) {
      return this.#readFailed('get', key, err);
    }
  }

  #finishGet(
    key: string,
    bytes: Buffer | undefined,
    signal?: AbortSignal,
  ): Buffer | undefined | Promise<Buffer | undefined> {
    // The hot path: a plain value needs no envelope work and no allocation.
    if (bytes === undefined || !hasEnvelope(bytes)) return this.#count(key, bytes);
    const entry = readEntry(this.store, key, bytes, signal);
    if (entry instanceof Promise) {
      return entry.then(
        (e) => this.#count(key, e && this.#fresh(e) ? e.payload : undefined),
        (err) => this.#readFailed('get', key, err),
      );
    }
    return this.#count(key, entry && this.#fresh(entry) ? entry.payload : undefined);
  }

  #fresh(entry: EntryState): boolean {
    return isFresh(entry, this.options.clock.now());
  }

  #count<T>(key: string, value: T | undefined): T | undefined {
    if (value === undefined) this.#meter.miss(key);
    else this.#meter.hit(key);
    return value;
  }

  set(key: string, value: CacheValue, ttl?: Duration, options?: SetOptions): Promise<void> {
    try {
      this.#check(options?.signal);
      assertKey(key);
      const bytes = toBytes(value);
      const ttlMs = resolveTtl(ttl, this.options.defaultTtlMs);
      const tags = options?.tags;
      // Untagged writes (the common case) take no extra promise hop before the store.
      if (tags === undefined || tags.length === 0) {
        return this.#store(key, writeEntry(bytes, 0, undefined, undefined), ttlMs, options?.signal);
      }
      return this.#encode(bytes, options).then((stored) =>
        this.#store(key, stored, ttlMs, options?.signal),
      );
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #store(
    key: string,
    stored: Buffer,
    ttlMs: number | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    let written: void | Promise<void>;
    try {
      written = this.store.set(key, stored, ttlMs, signal);
    } catch (err) {
      return Promise.reject(this.#meter.failure('set', key, err));
    }
    if (written instanceof Promise) {
      return written.then(
        () => this.#meter.set(key),
        (err) => {
          throw this.#meter.failure('set', key, err);
        },
      );
    }
    this.#meter.set(key);
    return Promise.resolve();
  }

  async #encode(bytes: Buffer, options: SetOptions | undefined): Promise<Buffer> {
    const tags = options?.tags;
    if (tags === undefined || tags.length === 0) return writeEntry(bytes, 0, undefined, undefined);
    assertTags(tags);
    const versions = await this.#versionsFor(tags, options?.snapshot, options?.signal);
    return writeEntry(bytes, 0, tags, versions);
  }

  async #versionsFor(
    tags: readonly string[],
    snapshot: TagSnapshot | undefined,
    signal?: AbortSignal,
  ): Promise<readonly number[]> {
    if (snapshot === undefined) return this.store.tagVersions(tags, signal);
    // A tag missing from the snapshot gets version -1, which no live tag has: the write is
    // then born invalid rather than silently unguarded.
    return tags.map((t) => {
      const i = snapshot.tags.indexOf(t);
      return i >= 0 ? (snapshot.versions[i] ?? -1) : -1;
    });
  }

  async delete(key: string, options?: CallOptions): Promise<boolean> {
    this.#check(options?.signal);
    assertKey(key);
    let deleted: boolean;
    try {
      deleted = await this.store.delete(key, options?.signal);
    } catch (err) {
      throw this.#meter.failure('delete', key, err);
    }
    if (deleted) this.#meter.deleted(key);
    return deleted;
  }

  async exists(key: string, options?: CallOptions): Promise<boolean> {
    const signal = options?.signal;
    try {
      this.#check(signal);
      assertKey(key);
      const entry = await readEntry(this.store, key, await this.store.get(key, signal), signal);
      return entry !== undefined && this.#fresh(entry);
    } catch (err) {
      return (await this.#readFailed('exists', key, err)) !== undefined;
    }
  }

  async getJSON<T = unknown>(key: string, options?: CallOptions): Promise<T | undefined> {
    const bytes = await this.get(key, options);
    return bytes === undefined ? undefined : decodeJSON<T>(bytes, key);
  }

  async setJSON<T>(key: string, value: T, ttl?: Duration, options?: SetOptions): Promise<void> {
    assertKey(key);
    await this.set(key, encodeJSON(value), ttl, options);
  }

  getOrSet<T>(
    key: string,
    factory: (ctx: FactoryContext<T>) => T | Promise<T>,
    options?: GetOrSetOptions,
  ): Promise<T> {
    try {
      this.#check(options?.signal);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#getOrSet.run(key, factory, options);
  }

  mget(keys: readonly string[], options?: CallOptions): Promise<(Buffer | undefined)[]> {
    const signal = options?.signal;
    let found: MaybePromise<(Buffer | undefined)[]>;
    try {
      this.#check(signal);
      assertKeys(keys);
      if (keys.length === 0) return Promise.resolve([]);
      found = this.store.getMany(keys, signal);
    } catch (err) {
      return this.#mgetFailed(keys, err);
    }
    if (found instanceof Promise) {
      return found.then(
        (values) => this.#finishMget(keys, values, signal),
        (err) => this.#mgetFailed(keys, err),
      );
    }
    return Promise.resolve(this.#finishMget(keys, found, signal));
  }

  #finishMget(
    keys: readonly string[],
    found: (Buffer | undefined)[],
    signal: AbortSignal | undefined,
  ): MaybePromise<(Buffer | undefined)[]> {
    const out = new Array<Buffer | undefined>(keys.length);
    let pending = false;
    for (let i = 0; i < keys.length; i++) {
      const value = this.#finishGet(keys[i]!, found[i], signal);
      if (value instanceof Promise) pending = true;
      out[i] = value as Buffer | undefined;
    }
    // Only tagged entries need another lookup; plain ones are final already.
    return pending ? Promise.all(out) : out;
  }

  async #mgetFailed(keys: readonly string[], err: unknown): Promise<(Buffer | undefined)[]> {
    await this.#readFailed('mget', undefined, err);
    this.#meter.counters.misses += keys.length - 1;
    return keys.map(() => undefined);
  }

  async mset(
    entries: ReadonlyMap<string, CacheValue> | Readonly<Record<string, CacheValue>>,
    ttl?: Duration,
    options?: SetOptions,
  ): Promise<void> {
    this.#check(options?.signal);
    if (typeof entries !== 'object' || entries === null) {
      throw new CacheError('INVALID_ARGUMENT', 'entries must be a Map or a plain object');
    }
    const list = entries instanceof Map ? [...entries] : Object.entries(entries);
    const ttlMs = resolveTtl(ttl, this.options.defaultTtlMs);
    const encoded: [string, Buffer][] = [];
    for (const [key, value] of list) {
      assertKey(key);
      encoded.push([key, toBytes(value)]);
    }
    if (encoded.length === 0) return;
    for (const pair of encoded) pair[1] = await this.#encode(pair[1], options);
    try {
      await this.store.setMany(encoded, ttlMs, options?.signal);
    } catch (err) {
      throw this.#meter.failure('mset', undefined, err);
    }
    for (const [key] of encoded) this.#meter.set(key);
  }

  async deletePattern(pattern: string, options?: CallOptions): Promise<number> {
    this.#check(options?.signal);
    assertPattern(pattern);
    try {
      const n = await this.store.deletePattern(pattern, options?.signal);
      this.#meter.counters.deletes += n;
      return n;
    } catch (err) {
      throw this.#meter.failure('deletePattern', undefined, err);
    }
  }

  async keys(pattern = '*', options?: CallOptions): Promise<string[]> {
    const out: string[] = [];
    for await (const key of this.scan(pattern, options)) out.push(key);
    return out;
  }

  async *scan(pattern = '*', options?: CallOptions): AsyncIterableIterator<string> {
    this.#check(options?.signal);
    assertPattern(pattern);
    try {
      for await (const batch of this.store.scan(pattern, options?.signal)) yield* batch;
    } catch (err) {
      throw this.#meter.failure('scan', undefined, err);
    }
  }

  incr(key: string, by = 1, options?: CallOptions): Promise<number> {
    return this.#incrBy(key, by, false, options);
  }

  decr(key: string, by = 1, options?: CallOptions): Promise<number> {
    return this.#incrBy(key, by, true, options);
  }

  async #incrBy(key: string, by: number, negate: boolean, options?: CallOptions): Promise<number> {
    this.#check(options?.signal);
    assertKey(key);
    const delta = toIncrement(by);
    try {
      return Number(await this.store.incrBy(key, negate ? -delta : delta, options?.signal));
    } catch (err) {
      throw this.#meter.failure(negate ? 'decr' : 'incr', key, err);
    }
  }

  async invalidateTags(tags: readonly string[], options?: CallOptions): Promise<void> {
    this.#check(options?.signal);
    assertTags(tags);
    if (tags.length === 0) return;
    try {
      await this.store.bumpTags(tags, options?.signal);
    } catch (err) {
      throw this.#meter.failure('invalidateTags', undefined, err);
    }
    if (this.events.wants('invalidate')) this.events.emit('invalidate', { tags });
  }

  async tagSnapshot(tags: readonly string[], options?: CallOptions): Promise<TagSnapshot> {
    this.#check(options?.signal);
    assertTags(tags);
    try {
      return { tags: [...tags], versions: await this.store.tagVersions(tags, options?.signal) };
    } catch (err) {
      throw this.#meter.failure('tagSnapshot', undefined, err);
    }
  }

  async clear(options?: CallOptions): Promise<void> {
    this.#check(options?.signal);
    try {
      await this.store.clear(options?.signal);
      this.#shared?.clear();
    } catch (err) {
      throw this.#meter.failure('clear', undefined, err);
    }
  }

  stats(): CacheStats {
    return this.#meter.snapshot(this.store.size?.());
  }

  on<E extends CacheEventName>(event: E, listener: (payload: CacheEvents[E]) => void): this {
    this.events.on(event, listener);
    return this;
  }

  off<E extends CacheEventName>(event: E, listener: (payload: CacheEvents[E]) => void): this {
    this.events.off(event, listener);
    return this;
  }

  once<E extends CacheEventName>(event: E, listener: (payload: CacheEvents[E]) => void): this {
    this.events.once(event, listener);
    return this;
  }

  #check(signal: AbortSignal | undefined): void {
    if (this.#state === 'stopped') throw new CacheError('STOPPED', 'the cache was stopped');
    if (signal?.aborted) throw abortError(signal);
  }

  #readFailed(operation: string, key: string | undefined, err: unknown): Promise<undefined> {
    const error = this.#meter.failure(operation, key, err);
    if (isInputError(error) || !this.options.failOpen) return Promise.reject(error);
    this.#meter.counters.misses++;
    return Promise.resolve(undefined);
  }
}
