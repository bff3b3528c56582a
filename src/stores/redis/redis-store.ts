/**
 * RedisStore: the {@link Store} seam on Redis (standalone, Sentinel or Cluster, through
 * ioredis). The core builds the whole Cache contract on it; this file only maps byte
 * operations to commands. The design, in brief:
 *
 * - Keys are `prefix:key` ({@link KeyCodec}); patterns are the escaped prefix plus the
 *   caller's glob, so no pattern can reach outside the prefix; SCAN results come back
 *   without it. Bookkeeping (tags, locks) lives under the prefix too, marked by a byte no
 *   caller's key can hold, so pattern operations skip it and only `clear()` deletes it.
 * - Hot path: `get`/`set` check that the client is ready (one property read), send one
 *   command, and map null to a miss — nothing else, so throughput stays the client's.
 *   Commands sent while others are in flight share one socket write (write-batching.ts);
 *   every command is bounded by the connection's deadline sweep (deadlines.ts).
 * - Multi-key commands are split by hash slot on a Cluster (no CROSSSLOT): MGET and MSET
 *   per slot, issued together. `mset` with a TTL is MULTI/EXEC of `SET … PX` on a single
 *   server (one round trip, all-or-nothing), per-key `SET … PX` on a Cluster (atomic per key).
 * - TTLs are milliseconds (`PX`). INCRBY keeps an existing TTL, as Redis does.
 * - Pattern operations: SCAN in batches across every master plus UNLINK (see scan.ts).
 * - Tags are versions (see tags.ts); getOrSet's cross-process locks are in flights.ts.
 * - Failures become CacheErrors (TIMEOUT, CONNECTION, BACKEND, NOT_INTEGER, OVERFLOW) with
 *   the ioredis error as `cause`; the core turns read failures into misses (fail-open).
 * - A circuit breaker (core/breaker.ts) watches every command: after a run of timeouts or
 *   connection errors, commands are refused at once until a probe (PING, then the core's
 *   recovery hook: the invalidation outbox's flush) says Redis answers again.
 *
 * A reply can never reach the wrong caller: ioredis matches replies to commands by their
 * order on the connection, and a command that timed out keeps its place in that queue (its
 * late reply is read and dropped), so a later caller always gets its own reply.
 */
import { Buffer } from 'node:buffer';
import type { ChainableCommander, Cluster, Redis } from 'ioredis';
import { type BreakerState, CircuitBreaker } from '../../core/breaker.js';
import type { Store } from '../../core/store.js';
import type { HealthReport } from '../../core/types.js';
import { isCluster } from './connect.js';
import { RedisConnection } from './connection.js';
import { RedisFlightLocks } from './flights.js';
import { KeyCodec } from './keys.js';
import { toCacheError } from './redis-errors.js';
import type { ResolvedRedisOptions } from './redis-options.js';
import { deleteMatching, scanBatches, unlinkBatch } from './scan.js';
import { groupBySlot } from './slots.js';
import { TagVersions } from './tags.js';

type Client = Redis | Cluster;

/** Callbacks through which the store reports what happens on its own (connection errors). */
export interface RedisStoreHooks {
  onConnectionError(err: unknown): void;
  /** The circuit breaker changed state. */
  onBreaker?(state: BreakerState, error: unknown): void;
}

/** How long a write refused for lack of memory keeps `health()` degraded without a new one. */
const REFUSED_WRITE_WINDOW_MS = 30_000;

/** The operations whose failures are named in errors. */
const OPS = ['get', 'set', 'mget', 'mset', 'delete', 'exists', 'incr', 'tags', 'scan'] as const;

type Op = (typeof OPS)[number];

const orUndefined = (b: Buffer | null): Buffer | undefined => (b === null ? undefined : b);

/** MGET's nulls as misses, in place (the array is ours). */
function nullsToMisses(found: (Buffer | null)[]): (Buffer | undefined)[] {
  for (let i = 0; i < found.length; i++) if (found[i] === null) (found as unknown[])[i] = undefined;
  return found as (Buffer | undefined)[];
}

/** The Redis driver behind {@link RedisCache}. */
export class RedisStore implements Store {
  readonly kind = 'redis';
  readonly flights: RedisFlightLocks;
  readonly #conn: RedisConnection;
  readonly #codec: KeyCodec;
  /** Pattern operations step around the bookkeeping keys (only `clear()` deletes them). */
  readonly #keep: (key: Buffer) => boolean;
  readonly #tags: TagVersions;
  /** Always present; with the breaker off it never opens (its threshold is unreachable). */
  readonly #breaker: CircuitBreaker;
  #recovery: ((direct: Pick<Store, 'bumpTags'>) => Promise<void>) | undefined;
  /** Per-operation rejection handlers that also tell the breaker (built once, not per call). */
  readonly #fail: { readonly [K in Op]: (err: unknown) => never };
  /** Resolution handlers that tell the breaker a command was answered. */
  readonly #answered = <T>(value: T): T => {
    this.#breaker.succeeded();
    return value;
  };
  readonly #answeredGet = (b: Buffer | null): Buffer | undefined => {
    this.#breaker.succeeded();
    return b === null ? undefined : b;
  };
  readonly #answeredVoid = (): void => {
    this.#breaker.succeeded();
    this.#refusedWrite = undefined;
  };
  /**
   * The last write Redis refused for lack of memory (an `OOM` reply), until a `set` lands or
   * {@link REFUSED_WRITE_WINDOW_MS} passes: `health()` is `degraded` meanwhile, since a
   * PING still answers while every write is refused.
   */
  #refusedWrite: { at: number; message: string } | undefined;

  /** The command timeout, also the bound of a Cluster pipeline (see {@link RedisStore.#exec}). */
  readonly #timeoutMs: number;

  constructor(options: ResolvedRedisOptions, prefix: string, hooks: RedisStoreHooks) {
    this.#timeoutMs = options.commandTimeoutMs;
    const onError = (err: unknown): void => hooks.onConnectionError(err);
    this.#conn = new RedisConnection(options, onError);
    this.#codec = new KeyCodec(prefix);
    this.#keep = (key) => this.#codec.isBookkeeping(key);
    this.#tags = new TagVersions(this.#codec);
    this.#breaker = new CircuitBreaker(
      options.breaker ?? { threshold: Number.POSITIVE_INFINITY, cooldownMs: 1 },
      {
        probe: () => this.#probe(),
        onChange: (state, error) => {
          // Waiters for another holder's release would sleep through the outage.
          if (state === 'open') this.flights.wakeAll();
          hooks.onBreaker?.(state, error);
        },
      },
    );
    const fail = {} as Record<Op, (err: unknown) => never>;
    for (const op of OPS) {
      fail[op] = (err) => {
        const error = toCacheError(err, op);
        this.#breaker.failed(error);
        if (error.code === 'BACKEND' && /\bOOM\b/.test(error.message)) {
          this.#refusedWrite = { at: Date.now(), message: error.message };
        }
        throw error;
      };
    }
    this.#fail = fail;
    this.flights = new RedisFlightLocks({
      codec: this.#codec,
      client: () => this.#admitted('getOrSet'),
      onError,
    });
  }

  onRecovery(hook: (direct: Pick<Store, 'bumpTags'>) => Promise<void>): void {
    this.#recovery = hook;
  }

  hurryRecovery(): void {
    this.#breaker.hurry();
  }

  /** The ioredis client once created (by `start()` or the first command), for raw commands. */
  get client(): Client | undefined {
    return this.#conn.current;
  }

  start(signal?: AbortSignal): Promise<void> {
    this.flights.open();
    this.#breaker.resume();
    return this.#conn.start(signal);
  }

  async stop(): Promise<void> {
    // With the breaker open Redis is known not to answer: close without waiting for QUIT.
    const down = !this.#breaker.closed;
    this.#breaker.stop();
    await this.flights.close();
    await this.#conn.stop(down);
  }

  /** While the breaker is not closed: `unhealthy` at once (a PING would only wait out the timeout). */
  async health(): Promise<HealthReport> {
    const state = this.#breaker.state;
    if (state !== 'closed') {
      const error = this.#breaker.lastError;
      return {
        status: 'unhealthy',
        error: `circuit breaker ${state}${error instanceof Error ? `: ${error.message}` : ''}`,
        details: { mode: this.#conn.mode, breaker: state },
      };
    }
    const report = await this.#conn.health();
    const refused = this.#refusedWrite;
    if (
      report.status === 'healthy' &&
      refused !== undefined &&
      Date.now() - refused.at < REFUSED_WRITE_WINDOW_MS
    ) {
      return {
        status: 'degraded',
        error: `Redis refuses writes: ${refused.message}`,
        details: { ...report.details, breaker: state, writesRefused: refused.message },
      };
    }
    return { ...report, details: { ...report.details, breaker: state } };
  }

  get(key: string): Promise<Buffer | undefined> {
    const c = this.#conn.ready;
    if (c !== undefined && this.#breaker.closed) {
      return c.getBuffer(this.#codec.key(key)).then(this.#answeredGet, this.#fail.get);
    }
    return this.#later('get', (client) => client.getBuffer(this.#codec.key(key)).then(orUndefined));
  }

  /**
   * GET and PTTL of one key, sent together: the value and how long Redis keeps it
   * (`undefined` for no expiry), for a tier in front that must never keep a copy longer.
   */
  getWithTtl(key: string): Promise<{ value: Buffer; ttlMs: number | undefined } | undefined> {
    return this.#run('get', async (c) => {
      const k = this.#codec.key(key);
      const [value, ttl] = await Promise.all([c.getBuffer(k), c.pttl(k)]);
      if (value === null || ttl === -2) return undefined;
      return { value, ttlMs: ttl < 0 ? undefined : ttl };
    });
  }

  /**
   * `getWithTtl` for many keys: MGET and one PTTL per key, sent as one pipeline (one per
   * hash slot on a Cluster), counted by the breaker as one `mget`.
   */
  getManyWithTtl(
    keys: readonly string[],
  ): Promise<({ value: Buffer; ttlMs: number | undefined } | undefined)[]> {
    return this.#run('mget', async (c) => {
      const redisKeys = keys.map((k) => this.#codec.key(k));
      const out = new Array<{ value: Buffer; ttlMs: number | undefined } | undefined>(keys.length);
      const groups = isCluster(c) ? groupBySlot(redisKeys) : [redisKeys.map((_, i) => i)];
      await Promise.all(
        groups.map(async (group) => {
          const pipe = c.pipeline().mgetBuffer(group.map((i) => redisKeys[i]!));
          for (const i of group) pipe.pttl(redisKeys[i]!);
          const results = await this.#exec(c, pipe);
          throwFirst(results);
          const values = results![0]![1] as (Buffer | null)[];
          group.forEach((index, j) => {
            const value = values[j];
            const ttl = Number(results![j + 1]![1]);
            if (value == null || ttl === -2) return;
            out[index] = { value, ttlMs: ttl < 0 ? undefined : ttl };
          });
        }),
      );
      return out;
    });
  }

  set(key: string, value: Buffer, ttlMs: number | undefined): Promise<void> {
    const c = this.#conn.ready;
    if (c !== undefined && this.#breaker.closed) {
      return this.#set(c, key, value, ttlMs).then(this.#answeredVoid, this.#fail.set);
    }
    return this.#later('set', (client) => this.#set(client, key, value, ttlMs).then(() => {}));
  }

  // Not async: on the hot path every extra promise shows in the throughput.
  #set(c: Client, key: string, value: Buffer, ttlMs: number | undefined): Promise<unknown> {
    const k = this.#codec.key(key);
    if (ttlMs === undefined) return c.set(k, value);
    this.#tags.noteEntryTtl(ttlMs);
    return c.set(k, value, 'PX', ttlMs);
  }

  getMany(keys: readonly string[]): Promise<(Buffer | undefined)[]> {
    const ready = this.#conn.ready;
    if (ready !== undefined && !isCluster(ready) && this.#breaker.closed) {
      return ready
        .mgetBuffer(keys.map((k) => this.#codec.key(k)))
        .then((found) => nullsToMisses(this.#answered(found)), this.#fail.mget);
    }
    return this.#run('mget', async (c) => {
      const redisKeys = keys.map((k) => this.#codec.key(k));
      if (!isCluster(c)) return nullsToMisses(await c.mgetBuffer(redisKeys));
      const out = new Array<Buffer | undefined>(keys.length);
      await Promise.all(
        groupBySlot(redisKeys).map(async (group) => {
          const found = await c.mgetBuffer(group.map((i) => redisKeys[i]!));
          group.forEach((index, j) => {
            out[index] = orUndefined(found[j] ?? null);
          });
        }),
      );
      return out;
    });
  }

  setMany(
    entries: readonly (readonly [string, Buffer])[],
    ttlMs: number | undefined,
  ): Promise<void> {
    if (ttlMs !== undefined) this.#tags.noteEntryTtl(ttlMs);
    return this.#run('mset', async (c) => {
      const redisKeys = entries.map(([k]) => this.#codec.key(k));
      if (!isCluster(c)) {
        if (ttlMs === undefined) {
          await c.mset(redisKeys.flatMap((k, i) => [k, entries[i]![1]]));
          return;
        }
        const tx = c.multi();
        for (let i = 0; i < redisKeys.length; i++)
          tx.set(redisKeys[i]!, entries[i]![1], 'PX', ttlMs);
        throwFirst(await tx.exec());
        return;
      }
      await Promise.all(
        groupBySlot(redisKeys).map(async (group) => {
          if (ttlMs === undefined) {
            await c.mset(group.flatMap((i) => [redisKeys[i]!, entries[i]![1]]));
          } else {
            await Promise.all(group.map((i) => c.set(redisKeys[i]!, entries[i]![1], 'PX', ttlMs)));
          }
        }),
      );
    });
  }

  delete(key: string): Promise<boolean> {
    return this.#run('delete', async (c) => Number(await c.unlink(this.#codec.key(key))) > 0);
  }

  deleteMany(keys: readonly string[]): Promise<number> {
    return this.#run('delete', (c) =>
      unlinkBatch(
        c,
        keys.map((k) => Buffer.from(this.#codec.key(k))),
      ),
    );
  }

  /** The first `maxBytes` of the value (GETRANGE), so `exists` never moves a large value. */
  getHead(key: string, maxBytes: number): Promise<Buffer | undefined> {
    return this.#run('exists', async (c) => {
      const k = this.#codec.key(key);
      const head = await c.getrangeBuffer(k, 0, maxBytes - 1);
      // GETRANGE answers '' for a missing key and for an empty value alike.
      if (head.length === 0 && Number(await c.exists(k)) === 0) return undefined;
      return head;
    });
  }

  exists(key: string): Promise<boolean> {
    return this.#run('exists', async (c) => Number(await c.exists(this.#codec.key(key))) > 0);
  }

  /**
   * INCRBY, then GET in the same MULTI: integer replies reach JavaScript as doubles, exact
   * only up to 2^53, while GET returns the new value's exact digits. (ioredis's
   * `stringNumbers` would avoid this but breaks its Cluster slot map.)
   */
  incrBy(key: string, by: bigint): Promise<bigint> {
    return this.#run('incr', async (c) => {
      const k = this.#codec.key(key);
      const results = await this.#exec(c, c.multi().incrby(k, by.toString()).get(k));
      throwFirst(results);
      return BigInt(String(results?.[1]?.[1]));
    });
  }

  tagVersions(tags: readonly string[]): Promise<number[]> {
    return this.#run('tags', (c) => this.#tags.read(c, tags));
  }

  bumpTags(tags: readonly string[]): Promise<void> {
    return this.#run('tags', (c) => this.#tags.bump(c, tags));
  }

  async *scan(pattern: string, signal?: AbortSignal): AsyncIterable<readonly string[]> {
    this.#admit('scan');
    const c = await this.#conn.connected(signal);
    // SCAN may return a key twice (when the table is resized between calls); callers
    // expect each key once, so remember what was yielded — memory grows with the result.
    const seen = new Set<string>();
    try {
      for await (const batch of scanBatches(c, this.#codec.pattern(pattern), signal)) {
        const out: string[] = [];
        for (const raw of batch) {
          const key = this.#codec.strip(raw);
          if (key !== undefined && !seen.has(key)) {
            seen.add(key);
            out.push(key);
          }
        }
        if (out.length > 0) yield out;
      }
    } catch (err) {
      throw toCacheError(err, 'scan');
    }
  }

  async deletePattern(pattern: string, signal?: AbortSignal): Promise<number> {
    this.#admit('deletePattern');
    const c = await this.#conn.connected(signal);
    try {
      return await deleteMatching(c, this.#codec.pattern(pattern), signal, this.#keep);
    } catch (err) {
      throw toCacheError(err, 'deletePattern');
    }
  }

  /**
   * Drops everything under the prefix, bookkeeping included (tag versions, the version
   * clock, getOrSet locks); without a prefix, everything in the database — by SCAN, never
   * FLUSHDB. Deleting tag versions is safe in any order and while writes race with it: a
   * tag without a key gets a version above every earlier one, so no entry written before
   * the clear can validate after it (see tags.ts).
   */
  async clear(signal?: AbortSignal): Promise<void> {
    this.#admit('clear');
    const c = await this.#conn.connected(signal);
    try {
      await deleteMatching(c, this.#codec.pattern('*'), signal);
    } catch (err) {
      throw toCacheError(err, 'clear');
    }
  }

  /** Runs a command now when the client is ready, else once it may be used. */
  #run<T>(op: Op, fn: (c: Client) => Promise<T>): Promise<T> {
    const c = this.#conn.ready;
    if (c !== undefined && this.#breaker.closed) {
      return fn(c).then(this.#answered, this.#fail[op]);
    }
    return this.#later(op, fn);
  }

  /** Throws the breaker's refusal while it is not closed. */
  #admit(op: string): void {
    if (!this.#breaker.closed) throw this.#breaker.refusal(`redis ${op}`);
  }

  /** The client for a command, unless the breaker refuses. */
  async #admitted(op: string): Promise<Client> {
    this.#admit(op);
    return this.#conn.usable();
  }

  /**
   * Runs a pipeline or MULTI. On a Cluster its `exec()` gets a deadline of its own: each
   * command in it has one, but when a master dies ioredis may park the whole pipeline
   * until the cluster is "ready" again (its slot map emptied by a failed refresh while
   * the client stays ready), and then it never settles — a TieredCache `mget` on a dead
   * master's slots hung for good (test/faults/cluster-failover.test.ts). The late result
   * is dropped.
   */
  #exec(c: Client, pipe: ChainableCommander): ReturnType<ChainableCommander['exec']> {
    if (!isCluster(c)) return pipe.exec();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('Command timed out')), this.#timeoutMs);
    });
    return Promise.race([pipe.exec(), late]).finally(() => clearTimeout(timer));
  }

  /**
   * The breaker's probe: Redis answers a PING, then the core's recovery hook (landing pending
   * invalidations) runs through commands that skip the breaker, which is still refusing others.
   */
  async #probe(): Promise<void> {
    try {
      const c = await this.#conn.usable();
      await c.ping();
    } catch (err) {
      throw toCacheError(err, 'probe');
    }
    await this.#recovery?.({
      bumpTags: async (tags) => {
        try {
          await this.#tags.bump(await this.#conn.usable(), tags);
        } catch (err) {
          throw toCacheError(err, 'tags');
        }
      },
    });
  }

  /**
   * The path for a client that is not ready: create it, fail fast if Redis is known to be
   * down, else let the command queue, where the connection's deadline sweep bounds its wait
   * (a Cluster's queue while it maps its slots included).
   */
  async #later<T>(op: Op, fn: (c: Client) => Promise<T>): Promise<T> {
    if (!this.#breaker.closed) throw this.#breaker.refusal(`redis ${op}`);
    let c: Client;
    try {
      c = await this.#conn.usable();
    } catch (err) {
      return this.#fail[op](err);
    }
    return fn(c).then(this.#answered, this.#fail[op]);
  }
}

/** Throws the first error in a MULTI/EXEC or pipeline result. */
function throwFirst(results: [Error | null, unknown][] | null): void {
  if (results === null) throw new Error('transaction aborted');
  for (const [err] of results) if (err) throw err;
}
