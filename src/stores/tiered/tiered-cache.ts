import type { Jsonified } from '../../core/json.js';
import { resolveCommonOptions } from '../../core/options.js';
import { StoreCache } from '../../core/store-cache.js';
import type { CacheStats, FactoryContext, GetOrSetOptions } from '../../core/types.js';
import { MemoryStore } from '../memory/memory-store.js';
import { toCacheError } from '../redis/redis-errors.js';
import { resolveRedisOptions } from '../redis/redis-options.js';
import { RedisStore } from '../redis/redis-store.js';
import { ObjectTier } from './object-tier.js';
import { resolveTieredOptions, type TieredCacheOptions } from './tiered-options.js';
import { TieredStore } from './tiered-store.js';

/**
 * A MemoryCache L1 in each process in front of a RedisCache L2 shared by all, kept coherent
 * by invalidation messages over Redis Pub/Sub (see tiered-store.ts and invalidation-bus.ts).
 * The whole Cache contract, as RedisCache has it; repeated reads are answered in process.
 * Options: those of RedisCache, plus `l1` (the in-process tier's bounds).
 */
export class TieredCache extends StoreCache {
  readonly #tiered: TieredStore;
  readonly #redis: RedisStore;
  readonly #objects: ObjectTier | undefined;
  #objectHits = 0;
  #stopped = false;
  /** The last connection error reported: ioredis may hand the same one over twice. */
  #lastConnectionError: unknown;

  constructor(options: TieredCacheOptions = {}) {
    const { l1, redis: redisInput } = resolveTieredOptions(options);
    const { redis, common } = resolveRedisOptions(redisInput);
    const { prefix, clock } = resolveCommonOptions(common);
    const l2 = new RedisStore(redis, prefix, {
      onConnectionError: (err) => this.#connectionError(err),
      onBreaker: (state, error) => {
        if (this.events.wants('breaker')) {
          this.events.emit('breaker', error === undefined ? { state } : { state, error });
        }
      },
    });
    const memory = new MemoryStore(
      {
        maxMemory: l1.maxMemory,
        maxEntries: l1.maxEntries,
        eviction: l1.eviction,
        clock,
      },
      { onEvict: (key, reason) => this?.noteEviction(key, reason) },
    );
    const store = new TieredStore(
      memory,
      l2,
      { prefix, l1TtlMs: l1.ttlMs, now: () => clock.now() },
      { onError: (operation, err) => this.#report(operation, err) },
    );
    super(store, common);
    this.#tiered = store;
    this.#redis = l2;
    if (!l1.serialize) {
      const objects = new ObjectTier(
        {
          peek: (key) => store.peekL1(key),
          tagVersions: (tags) => store.tagVersions(tags),
          now: () => this.options.clock.now(),
        },
        l1.maxObjects,
        l1.freeze,
      );
      store.onDrop((change) => objects.drop(change));
      this.#objects = objects;
    }
  }

  /** The L2's ioredis client once connected, as `RedisCache.client`. */
  get client(): RedisStore['client'] {
    return this.#redis.client;
  }

  /** This instance's id on the invalidation bus, and what the bus has carried. */
  get bus(): {
    id: string;
    live: boolean;
    published: number;
    received: number;
    resyncs: number;
  } {
    const bus = this.#tiered.bus;
    return { id: bus.id, live: bus.live, ...bus.counts };
  }

  override async start(options?: Parameters<StoreCache['start']>[0]): Promise<void> {
    this.#stopped = false;
    await super.start(options);
  }

  override async stop(): Promise<void> {
    this.#stopped = true;
    await super.stop();
  }

  /**
   * `Cache.getOrSet`, with `l1: { serialize: false }`
   * answered from the object L1 when it holds the key: the same (frozen) object for every
   * caller.
   */
  override getOrSet<T>(
    key: string,
    factory: (ctx: FactoryContext<T>) => T | Promise<T>,
    options?: GetOrSetOptions,
  ): Promise<Jsonified<T>> {
    const objects = this.#objects;
    if (
      objects !== undefined &&
      !this.#stopped &&
      typeof key === 'string' &&
      key !== '' &&
      options?.signal?.aborted !== true
    ) {
      const kept = objects.read(key);
      if (kept !== undefined) {
        this.#objectHits++;
        if (this.events.wants('hit')) this.events.emit('hit', { key });
        return Promise.resolve(kept.value as Jsonified<T>);
      }
    }
    const result = super.getOrSet(key, factory, options);
    if (objects === undefined) return result;
    return result.then((value) => {
      const kept = objects.remember(key);
      return kept === undefined ? value : (kept.value as Jsonified<T>);
    });
  }

  override stats(): CacheStats {
    const stats = super.stats();
    stats.hits += this.#objectHits;
    return stats;
  }

  #report(operation: string, err: unknown): void {
    if (this.events.wants('error')) {
      this.events.emit('error', { operation, error: toCacheError(err, operation) });
    }
  }

  #connectionError(err: unknown): void {
    if (err === this.#lastConnectionError) return;
    this.#lastConnectionError = err;
    this.#report('connection', err);
  }
}
