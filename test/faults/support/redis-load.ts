/**
 * Load with a model, for the Redis fault tests: many calls in flight on one cache while a
 * test kills, pauses or starves its Redis, and every answer checked against what the test
 * knows was acknowledged.
 *
 * Three kinds of loop run at once, each with a pause of a timer tick between calls (so a
 * loop whose calls fail at once, breaker open, never starves the event loop):
 * - **writers**, one per "set" key: `set(key, "key#n")` with n rising, one write at a time
 *   per key, so a key's writes reach Redis in the order they were issued;
 * - **readers**: `get` of a random "set" key. A value must name its key and be no older
 *   than the last write acknowledged before the read began (it may be newer: a write in
 *   flight, or one that failed — a rejected write may still have landed). A miss is
 *   always allowed (Redis restarted empty, or a read failed open);
 * - **getOrSet callers** on their own keys, whose factory answers "key#fN" (N counting
 *   factory runs, so each value names the run that made it), and **deleters** on those
 *   keys. A getOrSet must resolve with a value naming its key, never reject; and one that
 *   began after a `delete` of its key resolved must not get a value from a factory run that
 *   began before that delete was issued (README, getOrSet: "Read your writes").
 *
 * Every call is timed against `boundMs`; `assertNoHang` also checks the calls still in
 * flight, so a call that never ends is caught while the fault lasts, not only once it ends.
 */
import type { Cache, Duration } from '../../../src/index.js';

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 1));

export interface LoadOptions {
  /** Keys written with `set` and read with `get`. */
  setKeys?: number;
  /** Concurrent reader loops. */
  readers?: number;
  /** Keys read with `getOrSet`. */
  gosKeys?: number;
  /** Concurrent getOrSet loops. */
  gosCallers?: number;
  /** The longest any one call may take (a hang is anything beyond it). */
  boundMs: number;
  /** A call this long or longer counts as slow (it waited for Redis): the command timeout. */
  slowMs?: number;
  /** TTL of every write. */
  ttl?: Duration;
  /** Run deleters on the getOrSet keys. */
  deleters?: boolean;
}

interface Flight {
  op: string;
  startedAt: number;
}

/** Counts of what the load saw, by outcome. */
export interface LoadCounts {
  calls: number;
  getHits: number;
  getMisses: number;
  setsAcked: number;
  setsFailed: number;
  deletesAcked: number;
  deletesFailed: number;
  getOrSets: number;
  factoryRuns: number;
  slowestMs: number;
  /** Calls that took at least `slowMs` (they waited for Redis). */
  slowCalls: number;
  /** Rejected writes (`set`, `delete`) by CacheError code. */
  writeErrors: Record<string, number>;
}

/** A running load on one cache; `stop()` ends it and waits for every loop. */
export class ModelLoad {
  readonly violations: string[] = [];
  readonly counts: LoadCounts = {
    calls: 0,
    getHits: 0,
    getMisses: 0,
    setsAcked: 0,
    setsFailed: 0,
    deletesAcked: 0,
    deletesFailed: 0,
    getOrSets: 0,
    factoryRuns: 0,
    slowestMs: 0,
    slowCalls: 0,
    writeErrors: {},
  };
  readonly #cache: Cache;
  readonly #o: Required<LoadOptions>;
  readonly #inFlight = new Set<Flight>();
  #running = true;
  readonly #loops: Promise<void>[] = [];
  /** Per set key: the highest version acknowledged, and the highest issued. */
  readonly #acked = new Map<string, number>();
  readonly #issued = new Map<string, number>();
  /** A logical clock of issue order, for the delete rule. */
  #stamp = 0;
  #factoryRun = 0;
  /** Factory run number → the stamp when it began. */
  readonly #runStartedAt = new Map<number, number>();
  /** Per getOrSet key: the issue stamp of the latest delete acknowledged. */
  readonly #deleteAcked = new Map<string, number>();

  constructor(cache: Cache, options: LoadOptions) {
    this.#cache = cache;
    this.#o = {
      setKeys: 16,
      readers: 24,
      gosKeys: 16,
      gosCallers: 24,
      ttl: '5m',
      deleters: true,
      slowMs: Number.POSITIVE_INFINITY,
      ...options,
    };
    for (let i = 0; i < this.#o.setKeys; i++) this.#loops.push(this.#writer(`s${i}`));
    for (let i = 0; i < this.#o.readers; i++) this.#loops.push(this.#reader());
    for (let i = 0; i < this.#o.gosCallers; i++) this.#loops.push(this.#getOrSetter());
    if (this.#o.deleters) for (let i = 0; i < 4; i++) this.#loops.push(this.#deleter());
  }

  /** Calls in flight right now (the load's concurrency). */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Records a violation for every call in flight for longer than the bound. */
  assertNoHang(): void {
    const now = performance.now();
    for (const f of this.#inFlight) {
      const age = now - f.startedAt;
      if (age > this.#o.boundMs) this.#violate(`${f.op} still pending after ${Math.round(age)} ms`);
    }
  }

  /** Ends every loop and resolves once each has finished its last call. */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }

  #violate(message: string): void {
    if (this.violations.length < 50) this.violations.push(message);
  }

  async #timed<T>(op: string, call: () => Promise<T>): Promise<T> {
    const flight: Flight = { op, startedAt: performance.now() };
    this.#inFlight.add(flight);
    try {
      return await call();
    } finally {
      this.#inFlight.delete(flight);
      const ms = performance.now() - flight.startedAt;
      this.counts.calls++;
      if (ms > this.counts.slowestMs) this.counts.slowestMs = ms;
      if (ms >= this.#o.slowMs) this.counts.slowCalls++;
      if (ms > this.#o.boundMs) this.#violate(`${op} took ${Math.round(ms)} ms`);
    }
  }

  async #writer(key: string): Promise<void> {
    let n = 0;
    while (this.#running) {
      n++;
      this.#issued.set(key, n);
      try {
        await this.#timed(`set ${key}`, () => this.#cache.set(key, `${key}#${n}`, this.#o.ttl));
        this.#acked.set(key, n);
        this.counts.setsAcked++;
      } catch (error) {
        this.#writeFailed('set', error);
        this.counts.setsFailed++;
      }
      await tick();
    }
  }

  #writeFailed(op: string, error: unknown): void {
    // Writes fail loud: expected during a fault. Only a cache error is acceptable.
    if ((error as Error).name !== 'CacheError') this.#violate(`${op} threw ${String(error)}`);
    const code = String((error as { code?: unknown }).code);
    this.counts.writeErrors[code] = (this.counts.writeErrors[code] ?? 0) + 1;
  }

  async #reader(): Promise<void> {
    while (this.#running) {
      const key = `s${Math.floor(Math.random() * this.#o.setKeys)}`;
      const floor = this.#acked.get(key) ?? 0;
      try {
        const value = await this.#timed(`get ${key}`, () => this.#cache.get(key));
        if (value === undefined) this.counts.getMisses++;
        else {
          this.counts.getHits++;
          const [k, v] = value.toString().split('#');
          const version = Number(v);
          if (k !== key) this.#violate(`get ${key} returned another key's value ${value}`);
          else if (version < floor) {
            this.#violate(`get ${key} returned #${version} after #${floor} was acknowledged`);
          } else if (version > (this.#issued.get(key) ?? 0)) {
            this.#violate(`get ${key} returned #${version}, never written`);
          }
        }
      } catch (error) {
        this.#violate(`get ${key} rejected (reads fail open): ${String(error)}`);
      }
      await tick();
    }
  }

  async #getOrSetter(): Promise<void> {
    while (this.#running) {
      const key = `g${Math.floor(Math.random() * this.#o.gosKeys)}`;
      const deletedAt = this.#deleteAcked.get(key) ?? -1;
      try {
        const value = await this.#timed(`getOrSet ${key}`, () =>
          this.#cache.getOrSet(
            key,
            async () => {
              const run = ++this.#factoryRun;
              this.#runStartedAt.set(run, ++this.#stamp);
              this.counts.factoryRuns++;
              await tick();
              return `${key}#f${run}`;
            },
            { ttl: this.#o.ttl },
          ),
        );
        this.counts.getOrSets++;
        const [k, f] = String(value).split('#f');
        const startedAt = this.#runStartedAt.get(Number(f));
        if (k !== key) this.#violate(`getOrSet ${key} returned ${String(value)}`);
        else if (startedAt === undefined) this.#violate(`getOrSet ${key}: unknown run ${value}`);
        else if (startedAt < deletedAt) {
          this.#violate(`getOrSet ${key} returned run f${f}, begun before an acknowledged delete`);
        }
      } catch (error) {
        this.#violate(`getOrSet ${key} rejected: ${String(error)}`);
      }
      await tick();
    }
  }

  async #deleter(): Promise<void> {
    while (this.#running) {
      const key = `g${Math.floor(Math.random() * this.#o.gosKeys)}`;
      const issuedAt = ++this.#stamp;
      try {
        await this.#timed(`delete ${key}`, () => this.#cache.delete(key));
        const before = this.#deleteAcked.get(key) ?? -1;
        if (issuedAt > before) this.#deleteAcked.set(key, issuedAt);
        this.counts.deletesAcked++;
      } catch (error) {
        this.#writeFailed('delete', error);
        this.counts.deletesFailed++;
      }
      // Deletes are rarer than reads: a few per key per second.
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Resolves once `check` holds, polling every 20 ms; rejects after `timeoutMs` naming `what`. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
