import type { CacheHost } from './cache-host.js';
import type { CallOptions } from './types.js';
import { assertPattern } from './validate.js';

/** `Cache.deletePattern`: deletes every key the glob matches, counting each as a delete. */
export async function deleteMatching(
  host: CacheHost,
  pattern: string,
  options?: CallOptions,
): Promise<number> {
  host.check(options?.signal);
  assertPattern(pattern);
  host.changes.patternChanged(pattern);
  try {
    const n = await host.store.deletePattern(pattern, options?.signal);
    host.meter.counters.deletes += n;
    return n;
  } catch (err) {
    throw host.meter.failure('deletePattern', undefined, err);
  } finally {
    host.changes.patternChanged(pattern);
  }
}

/** `Cache.scan`: the keys the glob matches, flattened from the store's batches. */
export async function* scanMatching(
  host: CacheHost,
  pattern: string,
  options?: CallOptions,
): AsyncIterableIterator<string> {
  host.check(options?.signal);
  assertPattern(pattern);
  try {
    for await (const batch of host.store.scan(pattern, options?.signal)) yield* batch;
  } catch (err) {
    throw host.meter.failure('scan', undefined, err);
  }
}
