/**
 * Cache-aside without stampedes (DESIGN §4).
 *
 * A call reads the entry once. Fresh: return it. Missing: run the factory through a per-key
 * single flight, so concurrent callers in this process share one run. Stale but inside the
 * caller's `grace`: return the stale value at once and let one background refresh run
 * (stale-while-revalidate). Stale beyond grace but still kept (fail-safe retention): wait
 * for the factory like a miss, but fall back to the stale value on a soft timeout or, with
 * `failSafe`, on a factory error.
 *
 * Values are kept physically for `ttl + max(grace, failSafe window)`; the envelope records
 * the logical expiry. Before the factory runs we take the versions of its tags, and the
 * write carries those: an `invalidateTags` that lands while the factory runs makes the
 * result invalid the moment it is written, so slow factories never resurrect stale data.
 * A call resolves once that write has landed (or failed), so the caller reads its value back
 * at once; a timer that fires after the factory finished answers with the computed value.
 * When this instance changes the key or invalidates one of the tags while a run is in
 * flight, later callers no longer join that run and it does not write (single-flight.ts).
 *
 * Results go through JSON both ways: a miss returns exactly what a later hit will (a `Date`
 * comes back as its ISO string in both cases), and each caller gets its own copy.
 *
 * Across processes (a store with `flights`, i.e. Redis): the run takes the key's lock before
 * the factory. A process that finds it held waits for the release (flights.ts), re-reads,
 * and if there is still no fresh entry tries the lock again, so after a crashed or failed
 * holder exactly one waiter takes over; after `lock.wait` it runs the factory itself. The
 * holder confirms it still holds the lock right before writing and drops the write if not
 * (the fence), then releases the lock once the write has landed, so the waiters' re-read
 * sees it. `jitter` shortens each write's TTL by a random share so keys written together
 * do not expire together.
 *
 * Store failures never fail a call: a failed read is a miss, a failed write is reported
 * (`error` event, `stats().errors`) and the factory's value is returned. Factory errors are
 * never cached and reach the caller unless fail-safe serves a stale value.
 */
import { Buffer } from 'node:buffer';
import { type Duration, parseDuration, timerDelay } from './duration.js';
import { type EntryState, isFresh, readEntry, writeEntry } from './entry.js';
import { abortError, CacheError } from './errors.js';
import { compileGlob } from './glob.js';
import { decodeJSON, decodeJSONText, encodeJSON, type Jsonified } from './json.js';
import type { CacheMeter } from './meter.js';
import type { ResolvedCommonOptions } from './options.js';
import type { InvalidationOutbox } from './outbox.js';
import type { TextEntry } from './shared-read.js';
import { type Flight, SingleFlight } from './single-flight.js';
import type { HeldFlight, MaybePromise, Store } from './store.js';
import type { FactoryContext, GetOrSetOptions } from './types.js';
import { assertKey, assertTags, resolveTtl } from './validate.js';

/** Stands for every key in {@link GetOrSet.keysChanged} (`clear()`). */
export const ALL_KEYS: unique symbol = Symbol('all keys');

/** How long a cross-process getOrSet lock lives unless renewed (`lock.ttl`): a dead holder blocks others this long at most. */
export const DEFAULT_LOCK_TTL_MS = 5_000;

/** How long a process waits for another's factory run before running it itself (`lock.wait`). */
export const DEFAULT_LOCK_WAIT_MS = 10_000;

/** How long `failSafe: true` keeps a value past its expiry. */
export const DEFAULT_FAIL_SAFE_MS = 3_600_000;

/** What the engine needs from its cache. */
export interface GetOrSetHost {
  store: Store;
  /**
   * The entry at `key` as this process holds it, without a copy, its payload as a one-byte
   * string (shared-read.ts), or `undefined` when none is held here (then `store.get`
   * answers). getOrSet parses what it reads, so it never needs a private copy.
   */
  readText?: (key: string) => MaybePromise<TextEntry | undefined>;
  /** Tag versions as this cache must see them (pending invalidations included); see outbox.ts. */
  tags: InvalidationOutbox;
  options(): ResolvedCommonOptions;
  meter: CacheMeter;
}

interface Plan {
  ttlMs: number | undefined;
  graceMs: number;
  failSafeMs: number;
  softMs: number | undefined;
  hardMs: number | undefined;
  tags: readonly string[] | undefined;
  /** The share of `ttlMs` a write may take off at random. */
  jitter: number;
  lockTtlMs: number;
  lockWaitMs: number;
}

/** What getOrSet's read finds: a payload as bytes or as a one-byte string, and its expiry. */
type StoredEntry = EntryState | TextEntry;

/** Parses a stored payload, whichever form the read handed out. */
function decodeStored<T>(payload: Buffer | string, key: string): T {
  return typeof payload === 'string'
    ? decodeJSONText<T>(payload, key)
    : decodeJSON<T>(payload, key);
}

/** The result of one factory run: the JSON text, or `undefined` for a factory that returned it. */
type Outcome = string | undefined;

/** The getOrSet engine of one cache instance: its in-flight map and abort controller. */
export class GetOrSet {
  readonly #host: GetOrSetHost;
  readonly #flights = new SingleFlight<Outcome>();
  #stopping = new AbortController();
  /** The give-up timers of the runs whose factory is running (see `#flight`). */
  readonly #giveUps = new Set<NodeJS.Timeout>();

  constructor(host: GetOrSetHost) {
    this.#host = host;
  }

  stop(): void {
    this.#stopping.abort(new CacheError('STOPPED', 'the cache was stopped'));
    this.#stopping = new AbortController();
    this.#flights.clear();
    for (const t of this.#giveUps) clearTimeout(t);
    this.#giveUps.clear();
  }

  /**
   * The cache is changing (or has changed) these keys — `set`, `delete`, `incr`, `mset` —
   * or, with {@link ALL_KEYS}, every key (`clear()`). Called when the change starts and when
   * it resolves; see single-flight.ts.
   */
  keysChanged(keys: string | readonly string[] | typeof ALL_KEYS): void {
    if (this.#flights.size === 0) return;
    if (keys === ALL_KEYS) this.#flights.clear();
    else if (typeof keys === 'string') this.#flights.supersede(keys);
    else for (const key of keys) this.#flights.supersede(key);
  }

  /** The cache is deleting the keys `pattern` matches (`deletePattern`). */
  patternChanged(pattern: string): void {
    if (this.#flights.size === 0) return;
    const glob = compileGlob(pattern);
    this.#flights.supersedeWhere((f) => glob.test(f.key));
  }

  /** The cache invalidated `tags` (landed or queued in the outbox): no flight guarded by them is joined again. */
  tagsInvalidated(tags: readonly string[]): void {
    if (this.#flights.size === 0) return;
    this.#flights.supersedeWhere((f) => f.tags?.some((t) => tags.includes(t)) === true);
  }

  async run<T>(
    key: string,
    factory: (ctx: FactoryContext<T>) => T | Promise<T>,
    options: GetOrSetOptions = {},
  ): Promise<Jsonified<T>> {
    assertKey(key);
    if (typeof factory !== 'function') {
      throw new CacheError('INVALID_ARGUMENT', 'factory must be a function');
    }
    const plan = this.#plan(options);
    const host = this.#host;
    const { clock } = host.options();

    let entry: StoredEntry | undefined;
    try {
      // Awaited only when the store answers later: a memory hit takes no promise hop here.
      // What this process holds first; `undefined` there is not an answer for a store with
      // a remote tier (nor an invalidated local copy): it is read through `get`.
      let read: MaybePromise<StoredEntry | undefined> = host.readText?.(key);
      if (read === undefined) read = this.#read(key, options.signal);
      entry = read instanceof Promise ? await read : read;
    } catch (err) {
      host.meter.failure('getOrSet', key, err);
    }

    if (entry !== undefined) {
      const now = clock.now();
      if (isFresh(entry, now)) {
        this.#hit(key);
        return decodeStored<Jsonified<T>>(entry.payload, key);
      }
      const stale = decodeStored<Jsonified<T>>(entry.payload, key);
      if (now - entry.freshUntil < plan.graceMs) {
        this.#hit(key);
        this.#stale(key, 'grace');
        this.#flight(key, factory, plan, stale).promise.catch(() => {});
        return stale;
      }
      return this.#await(key, factory, plan, options.signal, { value: stale });
    }
    host.meter.miss(key);
    return this.#await(key, factory, plan, options.signal, undefined);
  }

  /** The entry at `key` through the store's plain `get` (a copy, then the envelope). */
  #read(key: string, signal: AbortSignal | undefined): MaybePromise<EntryState | undefined> {
    const tags = this.#host.tags;
    const bytes = this.#host.store.get(key);
    if (bytes instanceof Promise) return bytes.then((b) => readEntry(tags, key, b, signal));
    return readEntry(tags, key, bytes, signal);
  }

  #plan(options: GetOrSetOptions): Plan {
    if (typeof options !== 'object' || options === null) {
      throw new CacheError('INVALID_ARGUMENT', 'getOrSet options must be an object');
    }
    const { defaultTtlMs, jitter: cacheJitter } = this.#host.options();
    const graceMs = options.grace === undefined ? 0 : parseDuration(options.grace, 'grace');
    let failSafeMs = 0;
    if (options.failSafe === true) failSafeMs = DEFAULT_FAIL_SAFE_MS;
    else if (options.failSafe !== undefined && options.failSafe !== false) {
      failSafeMs = parseDuration(options.failSafe, 'failSafe');
    }
    let softMs: number | undefined;
    let hardMs: number | undefined;
    const t = options.timeout;
    if (t !== undefined && (typeof t !== 'object' || t === null)) {
      // A duration, or something else parseDuration refuses with INVALID_TTL.
      softMs = hardMs = parseDuration(t as Duration, 'timeout');
    } else if (t !== undefined) {
      if (t.soft !== undefined) softMs = parseDuration(t.soft, 'timeout.soft');
      if (t.hard !== undefined) hardMs = parseDuration(t.hard, 'timeout.hard');
    }
    // 0 means no timeout, as a ttl of 0 means the default: a 0 ms timer would race the
    // factory, and the winner would depend on the backend's latency.
    if (softMs === 0) softMs = undefined;
    if (hardMs === 0) hardMs = undefined;
    if (options.tags !== undefined) assertTags(options.tags);
    const jitter = options.jitter ?? cacheJitter;
    if (typeof jitter !== 'number' || !(jitter >= 0 && jitter < 1)) {
      throw new CacheError(
        'INVALID_ARGUMENT',
        `jitter must be a number in [0, 1), got ${String(jitter)}`,
      );
    }
    let lockTtlMs = DEFAULT_LOCK_TTL_MS;
    let lockWaitMs = DEFAULT_LOCK_WAIT_MS;
    if (options.lock !== undefined) {
      if (typeof options.lock !== 'object' || options.lock === null) {
        throw new CacheError('INVALID_ARGUMENT', 'lock must be an object { ttl?, wait? }');
      }
      const { ttl, wait } = options.lock;
      if (ttl !== undefined) lockTtlMs = Math.ceil(parseDuration(ttl, 'lock.ttl'));
      if (wait !== undefined) lockWaitMs = parseDuration(wait, 'lock.wait');
      if (lockTtlMs < 1) throw new CacheError('INVALID_ARGUMENT', 'lock.ttl must be > 0');
    }
    return {
      ttlMs: resolveTtl(options.ttl, defaultTtlMs),
      graceMs,
      failSafeMs,
      softMs,
      hardMs,
      tags: options.tags,
      jitter,
      lockTtlMs,
      lockWaitMs,
    };
  }

  #hit(key: string): void {
    this.#host.meter.hit(key);
  }

  #stale(key: string, reason: 'grace' | 'fail-safe' | 'soft-timeout'): void {
    if (this.#host.meter.events.wants('stale'))
      this.#host.meter.events.emit('stale', { key, reason });
  }

  /** Waits for the key's flight within the caller's timeouts and signal. */
  #await<T>(
    key: string,
    factory: (ctx: FactoryContext<T>) => T | Promise<T>,
    plan: Plan,
    signal: AbortSignal | undefined,
    stale: { value: Jsonified<T> } | undefined,
  ): Promise<Jsonified<T>> {
    // The read before this may have taken a while: an abort during it must still count.
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const flight = this.#flight(key, factory, plan, stale?.value);
    const parse = (text: Outcome): Jsonified<T> =>
      // A factory that returned `undefined` stored nothing; Jsonified<T> keeps `undefined`.
      text === undefined ? (undefined as Jsonified<T>) : (JSON.parse(text) as Jsonified<T>);
    return new Promise<Jsonified<T>>((resolve, reject) => {
      const timers: NodeJS.Timeout[] = [];
      const done = (): void => {
        for (const t of timers) clearTimeout(t);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        done();
        reject(abortError(signal as AbortSignal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      // A timer that fires once the factory is done, while its write still lands, answers
      // with the computed value: the wait was the cache's, not the factory's.
      if (stale !== undefined && plan.softMs !== undefined) {
        timers.push(
          setTimeout(() => {
            done();
            if (flight.early !== undefined) return resolve(parse(flight.early.value));
            this.#stale(key, 'soft-timeout');
            resolve(stale.value);
          }, timerDelay(plan.softMs)),
        );
      }
      if (plan.hardMs !== undefined) {
        timers.push(
          setTimeout(() => {
            done();
            if (flight.early !== undefined) return resolve(parse(flight.early.value));
            reject(
              new CacheError('TIMEOUT', `getOrSet("${key}") factory took over ${plan.hardMs} ms`),
            );
          }, timerDelay(plan.hardMs)),
        );
      }
      flight.promise.then(
        (text) => {
          done();
          resolve(parse(text));
        },
        (err) => {
          done();
          if (stale !== undefined && plan.failSafeMs > 0) {
            this.#stale(key, 'fail-safe');
            resolve(stale.value);
          } else {
            reject(err);
          }
        },
      );
    });
  }

  /**
   * Starts (or joins) the single factory run for `key`, which also writes its result and
   * settles once the write has landed (see single-flight.ts for when a caller may join).
   */
  #flight<T>(
    key: string,
    factory: (ctx: FactoryContext<T>) => T | Promise<T>,
    plan: Plan,
    staleValue: Jsonified<T> | undefined,
  ): Flight<Outcome> {
    const host = this.#host;
    const signal = this.#stopping.signal;
    const { flight } = this.#flights.run(
      key,
      async (flight) => {
        const started = host.options().clock.now();
        let versions: readonly number[] | undefined;
        if (plan.tags !== undefined && plan.tags.length > 0) {
          try {
            host.tags.noteTaggedWrite(physicalTtl(plan));
            versions = await host.tags.tagVersions(plan.tags);
          } catch (err) {
            host.meter.failure('getOrSet', key, err);
            // Without the versions the write can't be guarded: skip it rather than risk
            // storing a value an invalidation should have dropped.
            versions = undefined;
          }
        }
        const taken = await this.#lockOrWait(key, plan, signal);
        if (typeof taken === 'string') return taken;
        let held = taken;
        const release = (): void => {
          const lock = held;
          held = undefined;
          void lock?.release().catch((e) => host.meter.failure('getOrSet', key, e));
        };
        // A run still going after `lock.wait` is given up on, as other processes already
        // give up waiting for it then: new callers start a run of their own instead of
        // joining one that may never settle, and the lock goes (a hung factory would
        // otherwise renew it forever and make every process wait `lock.wait` on each miss).
        // The run still answers its callers and writes when it lands, unfenced, as a
        // process that gave up waiting writes.
        const giveUp = setTimeout(
          () => {
            this.#flights.detach(flight);
            release();
          },
          // setTimeout fires at once past 2^31 - 1 ms: a longer wait is "never give up".
          timerDelay(plan.lockWaitMs),
        );
        giveUp.unref();
        this.#giveUps.add(giveUp);
        let value: T;
        try {
          value = await factory({ key, stale: staleValue, signal });
        } catch (err) {
          this.#refreshed(key, started, false, err);
          release();
          throw err;
        } finally {
          clearTimeout(giveUp);
          this.#giveUps.delete(giveUp);
        }
        let text: string | undefined;
        try {
          text = value === undefined ? undefined : encodeJSON(value);
        } catch (err) {
          this.#refreshed(key, started, false, err);
          release();
          throw err;
        }
        this.#refreshed(key, started, true);
        const guarded = plan.tags === undefined || plan.tags.length === 0 || versions !== undefined;
        if (text !== undefined && guarded) {
          flight.early = { value: text };
          if (await this.#stillHeld(key, held))
            await this.#write(key, text, plan, versions, flight);
        }
        // Processes waiting on the lock re-read the entry when it goes: release once written.
        release();
        return text;
      },
      plan.tags,
    );
    return flight;
  }

  /**
   * With a shared store, takes the key's cross-process lock. Returns the lock when this
   * process should compute; the entry's text when another process computed it while we
   * waited; `undefined` when there is no lock to take (in-process store), when the wait
   * bound (`lock.wait`) ran out, or when the store failed — then computing locally is the
   * fail-open choice.
   *
   * A waiter that wakes to no fresh entry tries the lock again rather than computing at
   * once: the holder died (its lock expired), failed, or wrote nothing, and of the processes
   * waiting exactly one takes over while the others wait on it in turn.
   */
  async #lockOrWait(
    key: string,
    plan: Plan,
    stopping: AbortSignal,
  ): Promise<HeldFlight | string | undefined> {
    const host = this.#host;
    const locks = host.store.flights;
    if (locks === undefined) return undefined;
    // Real time, not the cache's clock: the lock's TTL runs on the Redis server's.
    const deadline = performance.now() + plan.lockWaitMs;
    try {
      for (;;) {
        const held = await locks.acquire(key, plan.lockTtlMs);
        if (held !== undefined) {
          // Double-checked: another process may have written the entry and released its
          // lock between our read (a miss) and our lock; then its value is the answer.
          // A check that fails must not lose the lock: it is ours and renewed until
          // released, so dropping the handle here held it for as long as the process
          // lived, and every other process waited `lock.wait` for that key on each miss.
          // Not knowing, we compute under it.
          let fresh: string | undefined;
          try {
            fresh = await this.#freshText(key);
          } catch (err) {
            host.meter.failure('getOrSet', key, err);
            return held;
          }
          if (fresh === undefined) return held;
          await held.release();
          return fresh;
        }
        const left = deadline - performance.now();
        if (left <= 0 || stopping.aborted) break;
        await locks.waitRelease(key, Math.ceil(left));
        const fresh = await this.#freshText(key);
        if (fresh !== undefined) return fresh;
        if (stopping.aborted) break;
      }
    } catch (err) {
      host.meter.failure('getOrSet', key, err);
    }
    return undefined;
  }

  /** The entry's text when the store holds a fresh one for `key`. */
  async #freshText(key: string): Promise<string | undefined> {
    const host = this.#host;
    const entry = await readEntry(host.tags, key, await host.store.get(key));
    return entry !== undefined && isFresh(entry, host.options().clock.now())
      ? entry.payload.toString('utf8')
      : undefined;
  }

  /**
   * The fence (flights.ts): the holder writes only if it still holds the lock. A lock that
   * cannot be confirmed (lost, or the store failed) drops the write; the callers still get
   * the value.
   */
  async #stillHeld(key: string, held: HeldFlight | undefined): Promise<boolean> {
    if (held?.confirm === undefined) return true;
    try {
      return await held.confirm();
    } catch (err) {
      this.#host.meter.failure('getOrSet', key, err);
      return false;
    }
  }

  async #write(
    key: string,
    text: string,
    plan: Plan,
    versions: readonly number[] | undefined,
    flight: Flight<Outcome>,
  ): Promise<void> {
    const host = this.#host;
    const keepMs = Math.max(plan.graceMs, plan.failSafeMs);
    const now = host.options().clock.now();
    const ttlMs = jittered(plan);
    const logical = ttlMs !== undefined && keepMs > 0;
    const freshUntil = logical ? now + ttlMs : 0;
    const physicalMs = physicalTtl(plan, ttlMs);
    try {
      const bytes = writeEntry(Buffer.from(text, 'utf8'), freshUntil, plan.tags, versions);
      // Checked in the same tick as the store call: a change of this key sent before it
      // wins (commands apply in order), one sent after supersedes the flight first.
      if (flight.superseded) return;
      await host.store.set(key, bytes, physicalMs);
      host.meter.set(key);
    } catch (err) {
      host.meter.failure('getOrSet', key, err);
    }
  }

  #refreshed(key: string, started: number, ok: boolean, error?: unknown): void {
    const events = this.#host.meter.events;
    if (!events.wants('refresh')) return;
    const durationMs = this.#host.options().clock.now() - started;
    events.emit('refresh', ok ? { key, ok, durationMs } : { key, ok, durationMs, error });
  }
}

/**
 * One write's freshness lifetime: the plan's TTL shortened by a random share of at most
 * `jitter`, never below 1 ms. Never longer than asked, so `ttl` stays an upper bound.
 */
function jittered(plan: Plan): number | undefined {
  const { ttlMs, jitter } = plan;
  if (ttlMs === undefined || jitter === 0) return ttlMs;
  return Math.max(1, ttlMs - Math.floor(ttlMs * jitter * Math.random()));
}

/** How long the store keeps an entry: its TTL plus the grace or fail-safe window it is kept for. */
function physicalTtl(plan: Plan, ttlMs = plan.ttlMs): number | undefined {
  if (ttlMs === undefined) return undefined;
  const keepMs = Math.max(plan.graceMs, plan.failSafeMs);
  return keepMs > 0 ? ttlMs + Math.ceil(keepMs) : ttlMs;
}
