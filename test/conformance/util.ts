import { afterEach, expect } from 'vitest';
import type { Cache, CommonCacheOptions } from '../../src/index.js';
import type { MakeCache } from './suite.js';

/** A `use(options)` that makes caches and stops every one after each test. */
export function useCaches(makeCache: MakeCache): (options?: CommonCacheOptions) => Promise<Cache> {
  const made: Cache[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((c) => c.stop()));
  });
  return async (options) => {
    const cache = await makeCache(options);
    made.push(cache);
    return cache;
  };
}

/** Asserts a promise rejects with a CacheError of `code`. */
export async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'CacheError', code });
}
