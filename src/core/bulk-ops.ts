import type { CacheHost } from './cache-host.js';
import type { Duration } from './duration.js';
import { CacheError } from './errors.js';
import type { MaybePromise } from './store.js';
import { encodeWithTags } from './tag-ops.js';
import type { CacheValue, CallOptions, SetOptions } from './types.js';
import { assertKey, assertKeys, resolveTtl, toBytes } from './validate.js';

/** `Cache.mget`: one store round trip, each value then ended like a single `get`. */
export function readMany(
  host: CacheHost,
  keys: readonly string[],
  options?: CallOptions,
): Promise<(Buffer | undefined)[]> {
  const signal = options?.signal;
  let found: MaybePromise<(Buffer | undefined)[]>;
  try {
    host.check(signal);
    assertKeys(keys);
    if (keys.length === 0) return Promise.resolve([]);
    found = host.store.getMany(keys, signal);
  } catch (err) {
    return readManyFailed(host, keys, err);
  }
  if (found instanceof Promise) {
    return found.then(
      (values) => finishReadMany(host, keys, values, signal),
      (err) => readManyFailed(host, keys, err),
    );
  }
  return Promise.resolve(finishReadMany(host, keys, found, signal));
}

function finishReadMany(
  host: CacheHost,
  keys: readonly string[],
  found: (Buffer | undefined)[],
  signal: AbortSignal | undefined,
): MaybePromise<(Buffer | undefined)[]> {
  const out = new Array<Buffer | undefined>(keys.length);
  let pending = false;
  for (let i = 0; i < keys.length; i++) {
    const value = host.finishGet(keys[i]!, found[i], signal);
    if (value instanceof Promise) pending = true;
    out[i] = value as Buffer | undefined;
  }
  // Only tagged entries need another lookup; plain ones are final already.
  return pending ? Promise.all(out) : out;
}

async function readManyFailed(
  host: CacheHost,
  keys: readonly string[],
  err: unknown,
): Promise<(Buffer | undefined)[]> {
  await host.readFailed('mget', undefined, err);
  // readFailed counted one miss; a failed bulk read misses every key.
  host.meter.counters.misses += keys.length - 1;
  return keys.map(() => undefined);
}

/** `Cache.mset`: validates and encodes every entry before one store write. */
export async function writeMany(
  host: CacheHost,
  entries: ReadonlyMap<string, CacheValue> | Readonly<Record<string, CacheValue>>,
  ttl?: Duration,
  options?: SetOptions,
): Promise<void> {
  host.check(options?.signal);
  if (typeof entries !== 'object' || entries === null) {
    throw new CacheError('INVALID_ARGUMENT', 'entries must be a Map or a plain object');
  }
  const list = entries instanceof Map ? [...entries] : Object.entries(entries);
  const ttlMs = resolveTtl(ttl, host.options().defaultTtlMs);
  const encoded: [string, Buffer][] = [];
  for (const [key, value] of list) {
    assertKey(key);
    encoded.push([key, toBytes(value)]);
  }
  if (encoded.length === 0) return;
  for (const pair of encoded) pair[1] = await encodeWithTags(host, pair[1], options, ttlMs);
  const keys = encoded.map(([key]) => key);
  host.changes.keysChanged(keys);
  try {
    await host.store.setMany(encoded, ttlMs, options?.signal);
  } catch (err) {
    throw host.meter.failure('mset', undefined, err);
  } finally {
    host.changes.keysChanged(keys);
  }
  for (const [key] of encoded) host.meter.set(key);
}
