/**
 * TieredStore: the {@link Store} seam over two stores — a MemoryStore L1 in this process in
 * front of a RedisStore L2 shared by every instance — kept coherent by the invalidation bus.
 * The core builds the whole Cache contract on it (envelopes, tags, getOrSet, stats), so a
 * TieredCache behaves as a RedisCache does, only faster on repeated reads.
 *
 * - **Reads**: L1, then L2. A value read from L2 is copied into L1 for the shorter of its
 *   remaining Redis TTL (PTTL, read with the value) and `l1.ttl`, so an L1 copy never
 *   outlives the L2 entry. A fill is skipped when an invalidation of its key overlapped the
 *   read (fill-guard.ts) or while the bus is down (nothing could invalidate the copy).
 *   `mget` fills the same way: L1's misses go to L2 as one MGET plus a PTTL per key.
 * - **Writes** (`set`, `setMany`) go to L2, then to this L1, then a message tells the other
 *   instances to drop their copies. Deletes, `incr`/`decr`, pattern deletes, `clear()` and tag
 *   invalidations drop the L1 copies first (so this instance never serves what it is
 *   changing), then change L2, then publish. When L2 fails, a `set` still lands in L1
 *   (this instance keeps serving what it wrote) and the failure reaches the caller as from
 *   a RedisCache; `incr`/`decr` drop the copy and fail (a counter must not fork).
 * - **Tags**: an entry records Redis's tag versions (the core's envelope), and those
 *   versions are remembered here (tag-cache.ts) so a tagged L1 hit costs no round trip.
 * - **Recovery**: when the bus's subscription drops, fills stop; when it is back, and when
 *   Redis's circuit breaker closes again, the L1 is cleared: this instance may have missed
 *   invalidations meanwhile. While Redis is down, L1 hits are still served.
 * - **getOrSet across processes**: Redis's locks (flights.ts). A waiter woken by the lock's
 *   release drops its own L1 copy before re-reading, since the holder just replaced it.
 */
import type { Cluster, Redis } from 'ioredis';
import { CacheError } from '../../core/errors.js';
import type { FlightLocks, MaybePromise, Store } from '../../core/store.js';
import type { HealthReport } from '../../core/types.js';
import type { MemoryStore } from '../memory/memory-store.js';
import type { RedisStore } from '../redis/redis-store.js';
import { FillGuard } from './fill-guard.js';
import { type Invalidation, InvalidationBus } from './invalidation-bus.js';
import { TagCache } from './tag-cache.js';

/** How the store reports what happens on its own. */
export interface TieredStoreHooks {
  onError(operation: string, err: unknown): void;
}

/** The tiered driver behind {@link TieredCache}. */
export class TieredStore implements Store {
  readonly kind = 'tiered';
  readonly flights: FlightLocks;
  readonly bus: InvalidationBus;
  readonly #l1: MemoryStore;
  readonly #l2: RedisStore;
  readonly #l1TtlMs: number;
  readonly #fills = new FillGuard();
  readonly #tags: TagCache;
  readonly #hooks: TieredStoreHooks;
  /** The bus is started (or starting): by `start()`, or lazily by the first operation. */
  #busStarted = false;
  /** Listeners told when L1 copies go (the object L1 forgets with them). */
  readonly #onDrop: ((change: Invalidation) => void)[] = [];

  constructor(
    l1: MemoryStore,
    l2: RedisStore,
    options: { prefix: string; l1TtlMs: number; now: () => number },
    hooks: TieredStoreHooks,
  ) {
    this.#l1 = l1;
    this.#l2 = l2;
    this.#l1TtlMs = options.l1TtlMs;
    this.#hooks = hooks;
    this.#tags = new TagCache(options.l1TtlMs, options.now);
    this.bus = new InvalidationBus(options.prefix, {
      client: () => l2.client,
      connected: async () => {
        const c = l2.client;
        if (c !== undefined && c.status === 'ready') return c;
        await l2.start();
        return l2.client as Redis | Cluster;
      },
      onMessage: (change) => this.#drop(change),
      onDown: () => this.#fills.all(),
      onResync: () => this.#drop({ all: true }),
      onError: (operation, err) => hooks.onError(operation, err),
    });
    const locks = l2.flights;
    this.flights = {
      // The core double-checks the entry after taking the lock (get-or-set.ts).
      acquire: (key, ttlMs) => locks.acquire(key, ttlMs),
      // The holder has just written the key: our copy, if any, is the one it replaced.
      waitRelease: async (key, timeoutMs, signal) => {
        await locks.waitRelease(key, timeoutMs, signal);
        this.#dropLocal({ keys: [key] });
      },
    };
  }

  /** Calls `listener` whenever L1 copies are dropped (locally or on a message). */
  onDrop(listener: (change: Invalidation) => void): void {
    this.#onDrop.push(listener);
  }

  /** The L1's stored string for `key` without a copy (for the object L1); never reads L2. */
  peekL1(key: string): string | undefined {
    return this.#l1.peek(key);
  }

  /** `Store.peekLocal`: the L1 copy, so a getOrSet hit in L1 parses it without a copy. */
  peekLocal(key: string): string | undefined {
    return this.#l1.peek(key);
  }

  hurryRecovery(): void {
    this.#l2.hurryRecovery();
  }

  onRecovery(hook: (direct: Pick<Store, 'bumpTags'>) => Promise<void>): void {
    this.#l2.onRecovery(async (direct) => {
      // Redis was unreachable: invalidations published meanwhile never reached us.
      this.#dropLocal({ all: true });
      await hook(direct);
    });
  }

  async start(signal?: AbortSignal): Promise<void> {
    await this.#l1.start(signal);
    // A restarted cache may have missed anything while it was stopped.
    this.#dropLocal({ all: true });
    await this.#l2.start(signal);
    this.#busStarted = true;
    try {
      await this.bus.start();
    } catch (err) {
      this.#busStarted = false;
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.#busStarted = false;
    await this.bus.stop();
    await this.#l2.stop();
    await this.#l1.stop();
  }

  /** Redis's report, with the L1's size and the bus's state; a bus that is down degrades it. */
  async health(): Promise<HealthReport> {
    const report = await this.#l2.health();
    const live = this.bus.live;
    const details = { ...report.details, l1: this.#l1.size(), bus: live ? 'live' : 'down' };
    if (report.status === 'healthy' && !live) {
      return { status: 'degraded', error: 'invalidation bus not subscribed', details };
    }
    return { ...report, details };
  }

  size(): { entries: number; bytes: number } {
    return this.#l1.size();
  }

  get(key: string): MaybePromise<Buffer | undefined> {
    const hit = this.#l1.get(key);
    if (hit !== undefined) return hit;
    return this.#readThrough(key);
  }

  async #readThrough(key: string): Promise<Buffer | undefined> {
    this.#wake();
    const token = this.#fills.begin();
    let found: Awaited<ReturnType<RedisStore['getWithTtl']>>;
    try {
      found = await this.#l2.getWithTtl(key);
    } catch (err) {
      this.#fills.done();
      throw err;
    }
    const storable = this.#fills.end(token, key);
    if (found === undefined) return undefined;
    if (storable && this.bus.live) this.#fillL1(key, found.value, found.ttlMs);
    return found.value;
  }

  /** Copies a value into L1 for at most `l1.ttl` and at most what L2 keeps it. */
  #fillL1(key: string, value: Buffer, ttlMs: number | undefined): void {
    const ms = ttlMs === undefined ? this.#l1TtlMs : Math.min(ttlMs, this.#l1TtlMs);
    if (ms < 1) return;
    try {
      this.#l1.set(key, value, ms);
    } catch {
      // Too large for the L1's bound: served from L2 only.
    }
  }

  getHead(key: string, maxBytes: number): MaybePromise<Buffer | undefined> {
    const hit = this.#l1.get(key);
    if (hit !== undefined) return hit;
    this.#wake();
    return this.#l2.getHead(key, maxBytes);
  }

  exists(key: string): MaybePromise<boolean> {
    if (this.#l1.exists(key)) return true;
    this.#wake();
    return this.#l2.exists(key);
  }

  getMany(keys: readonly string[]): MaybePromise<(Buffer | undefined)[]> {
    const out = this.#l1.getMany(keys);
    const missing: number[] = [];
    for (let i = 0; i < out.length; i++) if (out[i] === undefined) missing.push(i);
    if (missing.length === 0) return out;
    return this.#readManyThrough(
      missing.map((i) => keys[i] as string),
      missing,
      out,
    );
  }

  /** `#readThrough` for L1's misses of a `getMany`: one L2 round trip, one guarded fill each. */
  async #readManyThrough(
    keys: readonly string[],
    indexes: readonly number[],
    out: (Buffer | undefined)[],
  ): Promise<(Buffer | undefined)[]> {
    this.#wake();
    const token = this.#fills.begin();
    let found: Awaited<ReturnType<RedisStore['getManyWithTtl']>>;
    try {
      found = await this.#l2.getManyWithTtl(keys);
    } catch (err) {
      this.#fills.done();
      throw err;
    }
    const live = this.bus.live;
    for (let j = 0; j < keys.length; j++) {
      const hit = found[j];
      if (hit === undefined) continue;
      const key = keys[j] as string;
      if (live && this.#fills.allows(token, key)) this.#fillL1(key, hit.value, hit.ttlMs);
      out[indexes[j] as number] = hit.value;
    }
    this.#fills.done();
    return out;
  }

  async set(key: string, value: Buffer, ttlMs: number | undefined): Promise<void> {
    await this.setMany([[key, value]], ttlMs);
  }

  async setMany(
    entries: readonly (readonly [string, Buffer])[],
    ttlMs: number | undefined,
  ): Promise<void> {
    this.#wake();
    const keys = entries.map(([k]) => k);
    this.#dropLocal({ keys });
    // Our own write is a fill too: a message about one of its keys arriving before Redis's
    // reply means another instance wrote after us, and our value must not win in L1.
    const token = this.#fills.begin();
    const keep = (): void => {
      for (const [key, value] of entries) {
        if (this.#fills.allows(token, key)) this.#fillL1(key, value, ttlMs);
      }
      this.#fills.done();
    };
    try {
      if (entries.length === 1) {
        const [key, value] = entries[0] as readonly [string, Buffer];
        await this.#l2.set(key, value, ttlMs);
      } else {
        await this.#l2.setMany(entries, ttlMs);
      }
    } catch (err) {
      // Redis is down (or refused): this instance keeps serving what it wrote.
      keep();
      throw err;
    }
    keep();
    this.bus.publish({ keys });
  }

  delete(key: string): Promise<boolean> {
    return this.#change({ keys: [key] }, () => this.#l2.delete(key));
  }

  deleteMany(keys: readonly string[]): Promise<number> {
    return this.#change({ keys }, () => this.#l2.deleteMany(keys));
  }

  incrBy(key: string, by: bigint): Promise<bigint> {
    return this.#change({ keys: [key] }, () => this.#l2.incrBy(key, by));
  }

  scan(pattern: string, signal?: AbortSignal): AsyncIterable<readonly string[]> {
    this.#wake();
    return this.#l2.scan(pattern, signal);
  }

  deletePattern(pattern: string, signal?: AbortSignal): Promise<number> {
    return this.#change({ pattern }, () => this.#l2.deletePattern(pattern, signal));
  }

  clear(signal?: AbortSignal): Promise<void> {
    return this.#change({ all: true }, () => this.#l2.clear(signal));
  }

  tagVersions(tags: readonly string[]): MaybePromise<number[]> {
    return this.#tags.read(tags, (t) => {
      this.#wake();
      return this.#l2.tagVersions(t);
    });
  }

  bumpTags(tags: readonly string[]): Promise<void> {
    return this.#change({ tags }, () => this.#l2.bumpTags(tags));
  }

  /**
   * A change other than a write: drop our copies, change L2, drop again (a read that began
   * between the first drop and L2's change may have stored the old value), then tell the
   * other instances. A failure reaches the caller; our copies stay dropped.
   */
  async #change<T>(change: Invalidation, apply: () => Promise<T>): Promise<T> {
    this.#wake();
    this.#dropLocal(change);
    const result = await apply();
    this.#dropLocal(change);
    this.bus.publish(change);
    return result;
  }

  /** Drops this instance's copies concerned by `change` (no message). */
  #dropLocal(change: Invalidation): void {
    this.#drop(change);
  }

  #drop(change: Invalidation): void {
    if ('keys' in change) {
      for (const key of change.keys) {
        this.#fills.key(key);
        this.#l1.delete(key);
      }
    } else if ('pattern' in change) {
      this.#fills.all();
      this.#l1.deletePattern(change.pattern).catch((err) => this.#hooks.onError('l1', err));
    } else if ('tags' in change) {
      // Entries carrying the tags fail their version check once the versions are re-read.
      this.#tags.drop(change.tags);
    } else {
      this.#fills.all();
      this.#tags.clear();
      this.#l1.clear().catch((err) => this.#hooks.onError('l1', err));
    }
    for (const listener of this.#onDrop) listener(change);
  }

  /** Operations before `start()` connect lazily; the bus must follow, or nothing would invalidate. */
  #wake(): void {
    if (this.#busStarted) return;
    this.#busStarted = true;
    this.bus.start().catch((err: unknown) => {
      this.#busStarted = false;
      if (!(err instanceof CacheError && err.code === 'STOPPED'))
        this.#hooks.onError('subscribe', err);
    });
  }
}
