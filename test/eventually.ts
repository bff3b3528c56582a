/**
 * Waiting in tests without guessing how long things take on a loaded 2-core machine.
 *
 * `eventually` retries an assertion until it passes or a generous deadline (10 s) runs out,
 * so a test waits only as long as the behaviour needs and fails only when the behaviour is
 * missing. `skewedClock` moves a cache's notion of "now" forward without waiting: backends
 * read logical freshness (grace, fail-safe, memory TTLs) through their `clock` option.
 */
import { vi } from 'vitest';
import type { Clock } from '../src/index.js';

/** Retries `check` (an assertion or a predicate that throws) until it passes; returns its result. */
export function eventually<T>(
  check: () => T | Promise<T>,
  { timeout = 10_000, interval = 10 }: { timeout?: number; interval?: number } = {},
): Promise<T> {
  return vi.waitFor(check, { timeout, interval });
}

/** A clock that runs with real time plus an offset the test moves forward. */
export interface SkewedClock extends Clock {
  /** Moves "now" forward by `ms` at once. */
  advance(ms: number): void;
}

/** Real time plus an adjustable offset: TTLs can pass without the test sleeping. */
export function skewedClock(): SkewedClock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance(ms: number) {
      offset += ms;
    },
  };
}
