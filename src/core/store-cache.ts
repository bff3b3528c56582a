import { Buffer } from 'node:buffer';
import { isOutage } from './breaker.js';
import { readMany, writeMany } from './bulk-ops.js';
import type { CacheHost } from './cache-host.js';
import type { Duration } from './duration.js';
import { type EntryState, isFresh, readEntry, readEntryHead } from './entry.js';
import { hasEnvelope } from './envelope.js';
import { abortError, CacheError } from './errors.js';
import type { CacheEmitter } from './events.js';
import { ALL_KEYS, GetOrSet, type GetOrSetHost } from './get-or-set.js';
import { decodeJSON, encodeJSON, type Jsonified } from './json.js';
import { CacheMeter, isInputError } from './meter.js';
import {
  type CommonCacheOptions,
  type ResolvedCommonOptions,
  reinitializeOptions,
  resolveCommonOptions,
} from './options.js';
import { InvalidationOutbox } from './outbox.js';
import { deleteMatching, scanMatching } from './pattern-ops.js';
import {
  canPeek,
  type Decoder,
  type PeekingStore,
  type SharedBytes,
  SharedReader,
} from './shared-read.js';
import type { Store } from './store.js';
import { invalidateTags, tagSnapshot } from './tag-ops.js';
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
  InvalidateOptions,
  InvalidationResult,
  SetOptions,
  TagSnapshot,
} from './types.js';
import { assertKey } from './validate.js';
import { deleteOne, incrementBy, writeOne } from './write-ops.js';

/**
 * The whole {@link Cache} contract over any {@link Store}: validation before I/O, envelopes,
 * tags, stats, events, fail-open reads and getOrSet. Backends subclass it with their store.
 * The hot single-key reads live here; writes and the bulk, pattern and tag operations live in
 * the `*-ops.ts` modules beside it, which reach the cache through one `CacheHost`.
 */
export class StoreCache implements Cache {
  readonly name: string;
  protected readonly store: Store;
  protected options: ResolvedCommonOptions;
  protected readonly events: CacheEmitter;
  readonly #meter: CacheMeter;
  readonly #host: CacheHost;
  readonly #getOrSet: GetOrSet;
  readonly #shared: SharedReader | undefined;
  /**
   * The store lives in this process (it can `peek`: the memory store). It answers `get`
   * synchronously and holds keys as the exact strings `set` validated, so a key it finds
   * needs no check.
   */
  readonly #inProcess: boolean;
  /** Invalidations the backend has not taken yet; see outbox.ts. */
  readonly #outbox: InvalidationOutbox;
  #state: 'new' | 'started' | 'stopped' = 'new';

  constructor(store: Store, options: CommonCacheOptions = {}) {
    this.store = store;
    this.name = store.kind;
    this.options = resolveCommonOptions(options);
    this.#meter = new CacheMeter(store.kind);
    this.events = this.#meter.events;
    this.#outbox = new InvalidationOutbox(
      store,
      this.events,
      () => this.options.clock,
      () => this.options.defaultTtlMs,
    );
    // A store that cut itself off (circuit breaker) lands pending invalidations before it
    // serves again. A flush the backend did not answer keeps it cut off; one it refused
    // (an OOM reply, say) does not: the backend is up, and the tags stay bypassed and retried.
    store.onRecovery?.((direct) =>
      this.#outbox.flush(direct).catch((err: unknown) => {
        if (isOutage(err)) throw err;
      }),
    );
    this.#inProcess = canPeek(store);
    this.#shared = this.#inProcess
      ? new SharedReader(store as PeekingStore, () => this.options.clock.now(), this.#outbox)
      : undefined;
    this.#host = {
      store,
      readText: this.#localReader(store),
      tags: this.#outbox,
      meter: this.#meter,
      options: () => this.options,
      changes: {
        keysChanged: (keys) => this.#getOrSet.keysChanged(keys),
        patternChanged: (pattern) => this.#getOrSet.patternChanged(pattern),
        tagsInvalidated: (tags) => this.#getOrSet.tagsInvalidated(tags),
      },
      check: (signal) => this.#check(signal),
      readFailed: (operation, key, err) => this.#readFailed(operation, key, err),
      finishGet: (key, bytes, signal) => this.#finishGet(key, bytes, signal),
    };
    this.#getOrSet = new GetOrSet(this.#host);
  }

  /**
   * getOrSet's copy-free read of what this process holds (see `GetOrSetHost.readText`):
   * the whole store when it lives in process, the local tier of one that has one.
   */
  #localReader(store: Store): GetOrSetHost['readText'] {
    const shared = this.#shared;
    if (shared !== undefined) return (key) => shared.readEntry(key);
    const peekLocal = store.peekLocal;
    if (peekLocal === undefined) return undefined;
    const local = new SharedReader(
      { peek: (key) => peekLocal.call(store, key) },
      () => this.options.clock.now(),
      this.#outbox,
    );
    return (key) => local.readEntry(key);
  }

  /** Called by stores (through their hooks) when they evict on their own. */
  protected noteEviction(key: string, reason: 'capacity' | 'expired'): void {
    this.#meter.evicted(key, reason);
  }

  async initialize(config: Record<string, unknown> = {}): Promise<void> {
    if (this.#state === 'started') {
      throw new CacheError('INVALID_ARGUMENT', 'initialize() must be called before start()');
    }
    this.options = reinitializeOptions(this.options, config);
  }

  async start(options?: CallOptions): Promise<void> {
    await this.store.start(options?.signal);
    this.#state = 'started';
    this.#outbox.resume();
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.#getOrSet.stop();
    this.#outbox.stop();
    this.#shared?.clear();
    await this.store.stop();
  }

  /**
   * The store's report, plus the outbox: while invalidations are pending (`details.outbox`
   * tags) a healthy backend reads as `degraded`, since this cache bypasses those entries.
   */
  async health(): Promise<HealthReport> {
    if (this.#state === 'stopped') return { status: 'unhealthy', error: 'stopped' };
    const report = await this.store.health();
    const pending = this.#outbox.size;
    const out: HealthReport = { ...report, details: { ...report.details, outbox: pending } };
    if (pending > 0 && report.status === 'healthy') {
      out.status = 'degraded';
      out.error = `${pending} tag invalidation(s) waiting to reach the backend`;
    }
    return out;
  }

  get(key: string, options?: CallOptions): Promise<Buffer | undefined> {
    const value = this.getMaybeSync(key, options);
    return value === undefined || value instanceof Buffer
      ? Promise.resolve(value)
      : (value as Promise<Buffer | undefined>);
  }

  getMaybeSync(
    key: string,
    options?: CallOptions,
  ): Buffer | undefined | Promise<Buffer | undefined> {
    const signal = options?.signal;
    try {
      this.#check(signal);
      const inProcess = this.#inProcess;
      // An in-process store checks a key only when it does not hold it (see #inProcess); a
      // non-string must not reach its eviction policy, though.
      if (!inProcess || typeof key !== 'string') assertKey(key);
      const found = this.store.get(key, signal);
      // The hit of an in-process store: one lookup, one counter, nothing allocated but the
      // copy. (`instanceof Buffer` is one step up the prototype chain, `Promise` four.)
      if (found instanceof Buffer && !hasEnvelope(found)) {
        this.#meter.hit(key);
        return found;
      }
      if (inProcess) assertKey(key);
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

  /**
   * `Cache.readDecoded`: `decode` applied to what `readShared` would return; an in-process
   * backend remembers the decode beside the stored value (shared-read.ts).
   */
  readDecoded<T>(key: string, decode: Decoder<T>): T | undefined | Promise<T | undefined> {
    const shared = this.#shared;
    try {
      this.#check(undefined);
      assertKey(key);
      if (shared === undefined) {
        const found = this.getMaybeSync(key);
        if (found instanceof Promise) return found.then((b) => (b === undefined ? b : decode(b)));
        return found === undefined ? found : decode(found);
      }
      const found = shared.readDecoded(key, decode);
      if (found instanceof Promise) {
        return found.then(
          (value) => this.#count(key, value),
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
    const entry = readEntry(this.#outbox, key, bytes, signal);
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
    return writeOne(this.#host, key, value, ttl, options);
  }

  delete(key: string, options?: CallOptions): Promise<boolean> {
    return deleteOne(this.#host, key, options);
  }

  async exists(key: string, options?: CallOptions): Promise<boolean> {
    const signal = options?.signal;
    try {
      this.#check(signal);
      assertKey(key);
      const entry = await readEntryHead(this.store, this.#outbox, key, signal);
      return entry !== undefined && this.#fresh(entry);
    } catch (err) {
      return (await this.#readFailed('exists', key, err)) !== undefined;
    }
  }

  async getJSON<T = unknown>(
    key: string,
    options?: CallOptions,
  ): Promise<Jsonified<T> | undefined> {
    const bytes = await this.get(key, options);
    return bytes === undefined ? undefined : decodeJSON<Jsonified<T>>(bytes, key);
  }

  async setJSON<T>(key: string, value: T, ttl?: Duration, options?: SetOptions): Promise<void> {
    assertKey(key);
    await this.set(key, encodeJSON(value), ttl, options);
  }

  getOrSet<T>(
    key: string,
    factory: (ctx: FactoryContext<T>) => T | Promise<T>,
    options?: GetOrSetOptions,
  ): Promise<Jsonified<T>> {
    try {
      this.#check(options?.signal);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#getOrSet.run(key, factory, options);
  }

  mget(keys: readonly string[], options?: CallOptions): Promise<(Buffer | undefined)[]> {
    return readMany(this.#host, keys, options);
  }

  mset(
    entries: ReadonlyMap<string, CacheValue> | Readonly<Record<string, CacheValue>>,
    ttl?: Duration,
    options?: SetOptions,
  ): Promise<void> {
    return writeMany(this.#host, entries, ttl, options);
  }

  deletePattern(pattern: string, options?: CallOptions): Promise<number> {
    return deleteMatching(this.#host, pattern, options);
  }

  async keys(pattern = '*', options?: CallOptions): Promise<string[]> {
    const out: string[] = [];
    for await (const key of this.scan(pattern, options)) out.push(key);
    return out;
  }

  scan(pattern = '*', options?: CallOptions): AsyncIterableIterator<string> {
    return scanMatching(this.#host, pattern, options);
  }

  incr(key: string, by = 1, options?: CallOptions): Promise<number> {
    return incrementBy(this.#host, key, by, false, options);
  }

  decr(key: string, by = 1, options?: CallOptions): Promise<number> {
    return incrementBy(this.#host, key, by, true, options);
  }

  invalidateTags(
    tags: readonly string[],
    options?: InvalidateOptions,
  ): Promise<InvalidationResult> {
    return invalidateTags(this.#host, tags, options);
  }

  tagSnapshot(tags: readonly string[], options?: CallOptions): Promise<TagSnapshot> {
    return tagSnapshot(this.#host, tags, options);
  }

  async clear(options?: CallOptions): Promise<void> {
    this.#check(options?.signal);
    this.#getOrSet.keysChanged(ALL_KEYS);
    try {
      await this.store.clear(options?.signal);
      this.#shared?.clear();
    } catch (err) {
      throw this.#meter.failure('clear', undefined, err);
    } finally {
      this.#getOrSet.keysChanged(ALL_KEYS);
    }
  }

  stats(): CacheStats {
    return this.#meter.sizedSnapshot(this.store.size?.());
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
