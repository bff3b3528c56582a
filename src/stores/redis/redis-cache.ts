import type { Cluster, Redis } from 'ioredis';
import { resolveCommonOptions } from '../../core/options.js';
import { StoreCache } from '../../core/store-cache.js';
import { toCacheError } from './redis-errors.js';
import { type RedisCacheOptions, resolveRedisOptions } from './redis-options.js';
import { RedisStore } from './redis-store.js';

/**
 * The Cache contract on Redis — standalone, Sentinel or Cluster — through ioredis. Options
 * are validated here, synchronously; nothing connects until `start()` or the first
 * operation. `stop()` closes the connections this cache opened (never a `client` you
 * passed in). Connection errors are emitted as `error` events with operation `connection`;
 * the circuit breaker's state changes as `breaker` events.
 */
export class RedisCache extends StoreCache {
  readonly #redis: RedisStore;
  /** The last connection error reported: ioredis may hand the same one over twice. */
  #lastConnectionError: unknown;

  constructor(options: RedisCacheOptions = {}) {
    const { redis, common } = resolveRedisOptions(options);
    // Validated before the store sees the prefix (the core validates the rest again).
    const { prefix } = resolveCommonOptions(common);
    const store = new RedisStore(redis, prefix, {
      onConnectionError: (err) => this.connectionError(err),
      onBreaker: (state, error) => {
        if (this.events.wants('breaker')) {
          this.events.emit('breaker', error === undefined ? { state } : { state, error });
        }
      },
    });
    super(store, common);
    this.#redis = store;
  }

  /**
   * The underlying ioredis client once connected (after `start()` or a first command), for
   * commands the Cache interface does not cover. Keys you write through it are not prefixed.
   */
  get client(): Redis | Cluster | undefined {
    return this.#redis.client;
  }

  /** Emits a connection failure the client reported on its own (between commands). */
  protected connectionError(err: unknown): void {
    // A refused connection step is emitted once by ioredis and once more when the attempt is
    // abandoned (see failRefusedSetup): one failure, one event.
    if (err === this.#lastConnectionError) return;
    this.#lastConnectionError = err;
    if (this.events.wants('error')) {
      this.events.emit('error', {
        operation: 'connection',
        error: toCacheError(err, 'connection'),
      });
    }
  }
}
