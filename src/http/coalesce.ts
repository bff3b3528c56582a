/**
 * Request coalescing: concurrent misses for one key go to the origin once. The first request
 * leads; the others wait (for at most `maxWaitMs`) and are served from the leader's
 * response when it is shareable. When it is not (private, `no-store`, too large, an error,
 * or the wait ran out), each follower goes to the origin on its own, which is always safe.
 *
 * A flight belongs to one middleware instance. A local invalidation of the flight's path
 * detaches it, so requests arriving after a write never join a read that began before it.
 */
import { timerDelay } from '../core/duration.js';

/** One in-flight origin request. */
export interface Flight<T> {
  readonly key: string;
  readonly tag: string;
  /** Resolves with what followers may be served, or `undefined` when they must fetch. */
  readonly result: Promise<T | undefined>;
}

interface OpenFlight<T> extends Flight<T> {
  resolve(value: T | undefined): void;
}

/** The in-flight origin requests of one middleware instance. */
export class Flights<T> {
  readonly #byKey = new Map<string, OpenFlight<T>>();

  /** The flight for `key`, if one is running. */
  get(key: string): Flight<T> | undefined {
    return this.#byKey.get(key);
  }

  /** Starts a flight for `key`; the caller must `settle` it exactly once. */
  start(key: string, tag: string): Flight<T> {
    let resolve!: (value: T | undefined) => void;
    const result = new Promise<T | undefined>((r) => {
      resolve = r;
    });
    const flight: OpenFlight<T> = { key, tag, result, resolve };
    this.#byKey.set(key, flight);
    return flight;
  }

  /** Ends a flight: followers get `value` (or fetch for themselves when `undefined`). */
  settle(flight: Flight<T>, value: T | undefined): void {
    if (this.#byKey.get(flight.key) === flight) this.#byKey.delete(flight.key);
    (flight as OpenFlight<T>).resolve(value);
  }

  /** Detaches flights whose path tag is in `tags`: later requests start fresh ones. */
  detach(tags: readonly string[]): void {
    if (this.#byKey.size === 0) return;
    const set = new Set(tags);
    for (const [key, flight] of this.#byKey) {
      if (set.has(flight.tag)) this.#byKey.delete(key);
    }
  }

  /** How many flights are running. */
  get size(): number {
    return this.#byKey.size;
  }

  /** Ends every flight with "fetch for yourself" (used by `stop`). */
  clear(): void {
    for (const flight of this.#byKey.values()) flight.resolve(undefined);
    this.#byKey.clear();
  }
}

/** Waits for a flight's result for at most `ms`; `undefined` on timeout. */
export function waitFor<T>(flight: Flight<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timerDelay(ms));
    timer.unref?.();
    flight.result.then((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}
