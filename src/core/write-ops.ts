import type { CacheHost } from './cache-host.js';
import type { Duration } from './duration.js';
import { writeEntry } from './entry.js';
import { encodeWithTags } from './tag-ops.js';
import type { CacheValue, CallOptions, SetOptions } from './types.js';
import { assertKey, resolveTtl, toBytes, toIncrement } from './validate.js';

/** `Cache.set`: validates, wraps the value in its envelope and writes it. */
export function writeOne(
  host: CacheHost,
  key: string,
  value: CacheValue,
  ttl?: Duration,
  options?: SetOptions,
): Promise<void> {
  try {
    host.check(options?.signal);
    assertKey(key);
    const bytes = toBytes(value);
    const ttlMs = resolveTtl(ttl, host.options().defaultTtlMs);
    const tags = options?.tags;
    // Untagged writes (the common case) take no extra promise hop before the store.
    if (tags === undefined || tags.length === 0) {
      return storeEntry(
        host,
        key,
        writeEntry(bytes, 0, undefined, undefined),
        ttlMs,
        options?.signal,
      );
    }
    return encodeWithTags(host, bytes, options, ttlMs).then((stored) =>
      storeEntry(host, key, stored, ttlMs, options?.signal),
    );
  } catch (err) {
    return Promise.reject(err);
  }
}

function storeEntry(
  host: CacheHost,
  key: string,
  stored: Buffer,
  ttlMs: number | undefined,
  signal?: AbortSignal,
): Promise<void> {
  let written: void | Promise<void>;
  // In the tick the write is sent, and again when it resolves (single-flight.ts).
  host.changes.keysChanged(key);
  try {
    written = host.store.set(key, stored, ttlMs, signal);
  } catch (err) {
    return Promise.reject(host.meter.failure('set', key, err));
  }
  if (written instanceof Promise) {
    return written.then(
      () => {
        host.changes.keysChanged(key);
        host.meter.set(key);
      },
      (err) => {
        host.changes.keysChanged(key);
        throw host.meter.failure('set', key, err);
      },
    );
  }
  host.meter.set(key);
  return Promise.resolve();
}

/** `Cache.delete`: removes one key, counting a delete only when it existed. */
export async function deleteOne(
  host: CacheHost,
  key: string,
  options?: CallOptions,
): Promise<boolean> {
  host.check(options?.signal);
  assertKey(key);
  let deleted: boolean;
  host.changes.keysChanged(key);
  try {
    deleted = await host.store.delete(key, options?.signal);
  } catch (err) {
    throw host.meter.failure('delete', key, err);
  } finally {
    host.changes.keysChanged(key);
  }
  if (deleted) host.meter.deleted(key);
  return deleted;
}

/** `Cache.incr` and `Cache.decr`: one atomic add in the store, `negate` for decr. */
export async function incrementBy(
  host: CacheHost,
  key: string,
  by: number,
  negate: boolean,
  options?: CallOptions,
): Promise<number> {
  host.check(options?.signal);
  assertKey(key);
  const delta = toIncrement(by);
  host.changes.keysChanged(key);
  try {
    return Number(await host.store.incrBy(key, negate ? -delta : delta, options?.signal));
  } catch (err) {
    throw host.meter.failure(negate ? 'decr' : 'incr', key, err);
  } finally {
    host.changes.keysChanged(key);
  }
}
