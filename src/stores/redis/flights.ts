/**
 * Cross-process single flight for getOrSet: one factory run per expiry across every
 * process sharing the Redis.
 *
 * - `acquire`: `SET <lock> <token> NX PX <ttl>`. The token is random per acquisition, so
 *   a holder whose lock expired can never renew or release the lock a later holder took.
 * - While held, the lock is renewed every third of its TTL (a compare-and-PEXPIRE script),
 *   so a factory may run longer than the TTL without a second process starting its own
 *   run, while a holder that dies (SIGKILL, a lost host) stops renewing and its lock runs
 *   out one TTL later at most. The TTL is therefore a crash-detection delay, not a bound on
 *   the factory.
 * - `confirm`: the same renewal, run once more right before the holder writes its value.
 *   It answers false when the lock expired or another process holds it now; the core then
 *   drops the write (its callers still get the value). This is the fence: a holder whose
 *   lock ran out — its event loop stalled, or Redis was unreachable, for longer than the
 *   TTL — would otherwise write a value computed before a newer holder's over that one.
 *   After a successful confirm the lock has a full TTL to live, far longer than the one
 *   SET that follows, so the write lands while the lock is still ours. What it does not
 *   cover: a SET delayed past a whole TTL after the confirm (a server paused in between)
 *   or a failover that loses the lock key; Redis offers no compare-and-set across two keys
 *   on a Cluster unless they share a slot, and the write must stay the store's own (a
 *   tiered store does more than one SET), so the fence is this check, not a script.
 * - `release`: a script deletes the lock only if the token still matches and, in the same
 *   step, PUBLISHes the data key on the cache's channel (one per database and prefix).
 * - `waitRelease`: waiters listen on that channel through one subscriber connection per
 *   store, opened on first use and closed by `stop()`; a Map from data key to waiters
 *   dispatches the messages. No polling: a waiter wakes on the release message, or when
 *   the lock's PX (as read when the wait began) runs out — the holder crashed, renewed,
 *   or a message was lost while the subscriber reconnected — or at the caller's bound,
 *   whichever comes first. The core then re-reads the entry and, if it is not there, tries
 *   the lock again: after a crash exactly one waiter takes it over.
 *
 * The subscription is confirmed before a waiter asks the lock's PTTL, so a release that
 * lands between our failed SET NX and the subscription is seen as "lock gone" (PTTL -2)
 * and cannot be missed.
 *
 * Plain PUBLISH, not sharded pub/sub, on a Cluster too, and one subscriber connection per
 * cache. SPUBLISH measures cheaper per message (bench/flights-pubsub.ts: about 60–90 µs
 * publish→wake against 200–260 µs at p50, 11–13 µs of server CPU against 35–44 µs, since
 * the cluster bus copies a PUBLISH to every node), but that is one message per factory run,
 * and SSUBSCRIBE would need a channel per slot — a subscribe round trip per wait or a
 * slot-to-channel table, a subscriber on every shard resubscribed when slots move — and
 * Redis 7. A lost message only delays a waiter to the lock's PX, never breaks it.
 */
import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { timerDelay } from '../../core/duration.js';
import { abortError, CacheError } from '../../core/errors.js';
import type { FlightLocks, HeldFlight } from '../../core/store.js';
import { closeNow, isCluster } from './connect.js';
import { flightChannel, type KeyCodec } from './keys.js';
import { toCacheError } from './redis-errors.js';
import { EXTEND_LOCK, RELEASE_LOCK, runScript } from './scripts.js';

/** What the locks need from their store. */
export interface FlightHost {
  codec: KeyCodec;
  /** The store's (connected) client. */
  client(): Promise<Redis | Cluster>;
  /** Reports a failure of the subscriber connection or of a renewal (the store turns it into an event). */
  onError(err: unknown): void;
}

type Wake = () => void;

/** The database a client works on (Cluster: always 0), for the channel name. */
function dbOf(client: Redis | Cluster): number {
  return isCluster(client) ? 0 : (client.options.db ?? 0);
}

/** Redis-backed {@link FlightLocks}; `close()` drops the subscriber and wakes every waiter. */
export class RedisFlightLocks implements FlightLocks {
  readonly #host: FlightHost;
  readonly #waiters = new Map<string, Set<Wake>>();
  /** Renewal timers of the locks this process holds, cleared by `close()`. */
  readonly #renewals = new Set<NodeJS.Timeout>();
  #subscriber: Redis | Cluster | undefined;
  #subscribed: Promise<void> | undefined;
  #channel: string | undefined;
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
      this.#unlockUnanswered(client, key, lock, token);
      throw toCacheError(err, 'lock');
    }
    if (reply === null) return undefined;
    return this.#held(client, key, lock, token, ttlMs);
  }

  /**
   * A `SET NX` that timed out may still land — a paused server applies it when it resumes —
   * and leave a lock nobody holds: every process would then wait for it to run out
   * (`lock.ttl`) before computing that key again. So release it now, by its token, on the
   * same connection: commands apply in order, so the release lands right after the lock if
   * the lock lands at all, and wakes whoever started waiting on it meanwhile. Best effort:
   * when the connection is gone, neither lands.
   */
  #unlockUnanswered(client: Redis | Cluster, key: string, lock: Buffer, token: string): void {
    const channel = flightChannel(dbOf(client), this.#host.codec.sep);
    // EVAL, not EVALSHA: sent blind, it times out too, so a NOSCRIPT answer (a restarted
    // server) could not be followed by the source.
    const argv = [lock, token, channel, this.#host.codec.key(key)];
    client.eval(RELEASE_LOCK.lua, 1, argv).catch(
      () => {}, // The lock never landed, or will run out by itself: nothing more to do.
    );
  }

  /** The handle of a lock just taken, renewing it until released or lost. */
  #held(
    client: Redis | Cluster,
    key: string,
    lock: Buffer,
    token: string,
    ttlMs: number,
  ): HeldFlight {
    const dataKey = this.#host.codec.key(key);
    const channel = flightChannel(dbOf(client), this.#host.codec.sep);
    let lost = false;
    let timer: NodeJS.Timeout | undefined;
    const stopRenewing = (): void => {
      if (timer === undefined) return;
      clearInterval(timer);
      this.#renewals.delete(timer);
      timer = undefined;
    };
    const renew = async (): Promise<boolean> => {
      if (lost) return false;
      let reply: unknown;
      try {
        reply = await runScript(client, EXTEND_LOCK, [lock], [token, ttlMs]);
      } catch (err) {
        throw toCacheError(err, 'lock');
      }
      if (Number(reply) !== 1) {
        lost = true;
        stopRenewing();
      }
      return !lost;
    };
    // A third of the TTL: two renewals can fail (a slow command) before the lock runs out.
    timer = setInterval(
      () => {
        renew().catch((err) => this.#host.onError(err));
      },
      timerDelay(Math.max(1, Math.floor(ttlMs / 3))),
    );
    timer.unref();
    this.#renewals.add(timer);
    return {
      confirm: renew,
      release: async () => {
        stopRenewing();
        try {
          await runScript(client, RELEASE_LOCK, [lock], [token, channel, dataKey]);
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
      timer = setTimeout(wake, timerDelay(timeoutMs));
      // The lock's remaining life bounds the wait: a crashed holder never publishes.
      client.pttl(lock).then(
        (ms) => {
          const left = Number(ms);
          if (left < 0) return finish(); // -2: already released; -1 cannot happen (always PX).
          if (settled || Date.now() + left >= deadline) return;
          clearTimeout(timer);
          timer = setTimeout(wake, timerDelay(left + 1));
        },
        () => finish(), // Cannot tell: stop waiting, the caller re-reads and decides.
      );
    });
  }

  /**
   * Wakes every waiter now (they re-read and carry on). Called when the store's breaker
   * opens: Redis stopped answering, so a release message cannot arrive until it is back,
   * and a waiter asleep until the lock's PX would hang for the outage (a paused server
   * held getOrSet callers for the whole pause). Awake, a waiter's re-read fails fast and
   * the core computes locally, as it does when the lock cannot be taken.
   */
  wakeAll(): void {
    for (const set of this.#waiters.values()) for (const wake of [...set]) wake();
  }

  /** Allows waiting again after a `close()` (the cache was started again). */
  open(): void {
    this.#closed = false;
  }

  /** Closes the subscriber, stops renewing held locks and releases every waiter (they re-read and carry on). */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#renewals) clearInterval(timer);
    this.#renewals.clear();
    this.wakeAll();
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
    const channel = flightChannel(dbOf(client), this.#host.codec.sep);
    this.#channel = channel;
    // A connection of its own: a subscribed RESP2 connection cannot send other commands.
    const sub: Redis | Cluster = isCluster(client) ? client.duplicate() : client.duplicate();
    this.#subscriber = sub;
    sub.on('error', (err: unknown) => this.#host.onError(err));
    sub.on('message', (from: string, message: string) => {
      if (from !== this.#channel) return;
      const set = this.#waiters.get(message);
      if (set !== undefined) for (const wake of [...set]) wake();
    });
    await sub.subscribe(channel);
  }
}
