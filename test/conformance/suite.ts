/**
 * The conformance suite: every contract of DESIGN §2 and §4, run unchanged against every
 * backend. A backend test file calls `describeConformance(name, makeCache)`; `makeCache`
 * returns a started cache with the given options, isolated from other tests (a fresh
 * prefix on a shared server is enough).
 *
 * TTL tests never sleep: each gives its cache a clock it moves forward (`skewedClock`),
 * which the memory backend and every logical expiry (grace, fail-safe) read at once, and
 * polls (`eventually`) for what Redis expires on its own clock.
 */
import { describe } from 'vitest';
import type { Cache, CommonCacheOptions } from '../../src/index.js';
import { basicContracts } from './basic.js';
import { getOrSetContracts } from './get-or-set.js';
import { patternContracts } from './patterns.js';
import { valueContracts } from './values.js';

/** Makes a started cache for one test; the suite stops it. */
export type MakeCache = (options?: CommonCacheOptions) => Promise<Cache>;

export function describeConformance(backend: string, makeCache: MakeCache): void {
  describe(`conformance: ${backend}`, () => {
    basicContracts(makeCache);
    valueContracts(makeCache);
    patternContracts(makeCache);
    getOrSetContracts(makeCache);
  });
}
