/**
 * Cross-process single flight for getOrSet: one factory run per expiry across every
 * process sharing the Redis.
 *
 * - `acquire`: `SET <lock> <token> NX PX <ttl>`. The token is random per acquisition, so
 *   a holder whose lock expired (it was slower than the TTL) can never release the lock a
 *   later holder took.
 * - `release`: a script deletes the lock only if the token still matches and, in the same
 *   step, PUBLISHes the data key on one shared channel.
 * - `waitRelease`: waiters listen on that channel through one subscriber connection per
 *   store, opened on first use and closed by `stop()`; a Map from data key to waiters
 *   dispatches the messages. No polling: a waiter wakes on the release message, or when
 *   the lock's own PX runs out (the holder crashed, or a message was lost while the
 *   subscriber reconnected), or at the caller's timeout — whichever comes first.
 *
 * The subscription is confirmed before a waiter asks the lock's PTTL, so a release that
 * lands between our failed SET NX and the subscription is seen as "lock gone" (PTTL -2)
 * and cannot be missed.
 */
import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { abortError, CacheError } from '../../core/errors.js';
import type { FlightLocks, HeldFlight } from '../../core/store.js';
import { closeNow, isCluster } from './connect.js';
import { FLIGHT_CHANNEL, type KeyCodec } from './keys.js';
import { toCacheError } from './redis-errors.js';
import { RELEASE_LOCK, runScript } from './scripts.js';

/** What the locks need from their store. */
export interface FlightHost {
  codec: KeyCodec;
  /** The store's (connected) client. */
  client(): Promise<Redis | Cluster>;
  /** Reports a failure of the subscriber connection (the store turns it into an event). */
  onError(err: unknown): void;
}

type Wake = () => void;

/** Redis-backed {@link FlightLocks}; `close()` drops the subscriber and wakes every waiter. */
export class RedisFlightLocks implements FlightLocks {
  readonly #host: FlightHost;
  readonly #waiters = new Map<string, Set<Wake>>();
  #subscriber: Redis | Cluster | undefined;
  #subscribed: Promise<void> | undefined;
  /** Set by `close()`: a flight still running after stop() must not open a new subscriber. */
  #closed = false;

  constructor(host: FlightHost) {
    this.#host = host;
  }

  async acquire(key: string, ttlMs: number): Promise<HeldFlight | undefined> {
    const client = await this.#host.client();
    const lock = this.#host.codec.lock(key);
    const token = randomUUID();
    let reply: unknown;
    try {
      reply = await client.set(lock, token, 'PX', ttlMs, 'NX');
    } catch (err) {
      throw toCacheError(err, 'lock');
    }
    if (reply === null) return undefined;
    const dataKey = this.#host.codec.key(key);
    return {
      release: async () => {
        try {
          await runScript(client, RELEASE_LOCK, [lock], [token, FLIGHT_CHANNEL, dataKey]);
        } catch (err) {
          throw toCacheError(err, 'unlock');
        }
      },
    };
  }

  async waitRelease(key: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw abortError(signal);
    if (this.#closed) return; // Stopped: nothing to wait for; the caller re-reads and moves on.
    await this.#subscribe();
    const client = await this.#host.client();
    const dataKey = this.#host.codec.key(key);
    const lock = this.#host.codec.lock(key);
    const deadline = Date.now() + timeoutMs;
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const finish = (err?: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const set = this.#waiters.get(dataKey);
        set?.delete(wake);
        if (set?.size === 0) this.#waiters.delete(dataKey);
        if (err === undefined) resolve();
        else reject(err);
      };
      const wake: Wake = () => finish();
      const onAbort = (): void => finish(abortError(signal as AbortSignal));
      signal?.addEventListener('abort', onAbort, { once: true });
      const waiters = this.#waiters.get(dataKey);
      if (waiters === undefined) this.#waiters.set(dataKey, new Set([wake]));
      else waiters.add(wake);
      timer = setTimeout(wake, timeoutMs);
      // The lock's remaining life bounds the wait: a crashed holder never publishes.
      client.pttl(lock).then(
        (ms) => {
          const left = Number(ms);
          if (left < 0) return finish(); // -2: already released; -1 cannot happen (always PX).
          if (settled || Date.now() + left >= deadline) return;
          clearTimeout(timer);
          timer = setTimeout(wake, left + 1);
        },
        () => finish(), // Cannot tell: stop waiting, the caller re-reads and decides.
      );
    });
  }

  /** Allows waiting again after a `close()` (the cache was started again). */
  open(): void {
    this.#closed = false;
  }

  /** Closes the subscriber and releases every waiter (they re-read and carry on). */
  async close(): Promise<void> {
    this.#closed = true;
    for (const set of this.#waiters.values()) for (const wake of [...set]) wake();
    this.#waiters.clear();
    const sub = this.#subscriber;
    this.#subscriber = undefined;
    this.#subscribed = undefined;
    // Destroyed, not only disconnected: with Redis paused a half-closed socket would hold
    // the process open until ioredis gives up on it.
    if (sub !== undefined) closeNow(sub);
  }

  #subscribe(): Promise<void> {
    this.#subscribed ??= this.#openSubscriber().catch((err) => {
      // Let the next waiter try again rather than caching the failure forever.
      this.#subscribed = undefined;
      const sub = this.#subscriber;
      this.#subscriber = undefined;
      if (sub !== undefined) closeNow(sub);
      throw toCacheError(err, 'subscribe');
    });
    return this.#subscribed;
  }

  async #openSubscriber(): Promise<void> {
    const client = await this.#host.client();
    if (this.#closed) throw new CacheError('STOPPED', 'the cache was stopped');
    // A connection of its own: a subscribed RESP2 connection cannot send other commands.
    const sub: Redis | Cluster = isCluster(client) ? client.duplicate() : client.duplicate();
    this.#subscriber = sub;
    sub.on('error', (err: unknown) => this.#host.onError(err));
    sub.on('message', (channel: string, message: string) => {
      if (channel !== FLIGHT_CHANNEL) return;
      const set = this.#waiters.get(message);
      if (set !== undefined) for (const wake of [...set]) wake();
    });
    await sub.subscribe(FLIGHT_CHANNEL);
  }
}
