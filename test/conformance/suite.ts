/**
 * The conformance suite: every contract of DESIGN §2 and §4, run unchanged against every
 * backend. A backend test file calls `describeConformance(name, makeCache)`; `makeCache`
 * returns a started cache with the given options, isolated from other tests (a fresh
 * prefix on a shared server is enough).
 *
 * Time is real here (Redis expires keys on its own clock), so TTL tests use short TTLs and
 * short sleeps; the memory backend's own tests cover the same rules with a fake clock.
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
