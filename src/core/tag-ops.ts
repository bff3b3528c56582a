import { isOutage } from './breaker.js';
import type { CacheHost } from './cache-host.js';
import { writeEntry } from './entry.js';
import { isCacheError } from './errors.js';
import type {
  CallOptions,
  InvalidateOptions,
  InvalidationResult,
  SetOptions,
  TagSnapshot,
} from './types.js';
import { assertTags } from './validate.js';

/** Wraps a value for the store, with the versions of its tags when the write has any. */
export async function encodeWithTags(
  host: CacheHost,
  bytes: Buffer,
  options: SetOptions | undefined,
  ttlMs: number | undefined,
): Promise<Buffer> {
  const tags = options?.tags;
  if (tags === undefined || tags.length === 0) return writeEntry(bytes, 0, undefined, undefined);
  assertTags(tags);
  host.tags.noteTaggedWrite(ttlMs);
  const versions = await versionsFor(host, tags, options?.snapshot, options?.signal);
  return writeEntry(bytes, 0, tags, versions);
}

async function versionsFor(
  host: CacheHost,
  tags: readonly string[],
  snapshot: TagSnapshot | undefined,
  signal?: AbortSignal,
): Promise<readonly number[]> {
  // A pending invalidation outranks the snapshot: the write cannot be trusted either way.
  if (snapshot === undefined || host.tags.anyPending(tags)) {
    return host.tags.tagVersions(tags, signal);
  }
  // A tag missing from the snapshot gets version -1, which no live tag has: the write is
  // then born invalid rather than silently unguarded.
  return tags.map((t) => {
    const i = snapshot.tags.indexOf(t);
    return i >= 0 ? (snapshot.versions[i] ?? -1) : -1;
  });
}

/**
 * `Cache.invalidateTags`: bumps the tags' versions, so every entry written under them reads
 * as absent. With `retry`, a bump the backend did not take goes to the cache's outbox
 * instead of rejecting (see outbox.ts): unreachable, timed out, or refused (an `OOM` reply
 * from a full Redis — rejecting it lost the invalidation of every HTTP write made while
 * Redis was full, since the middleware cannot do more with a rejection than count it). Only
 * a stopped cache or an aborted call still rejects.
 */
export async function invalidateTags(
  host: CacheHost,
  tags: readonly string[],
  options?: InvalidateOptions,
): Promise<InvalidationResult> {
  host.check(options?.signal);
  assertTags(tags);
  if (tags.length === 0) return NOT_QUEUED;
  const since = host.tags.mark();
  try {
    await host.store.bumpTags(tags, options?.signal);
  } catch (err) {
    const error = host.meter.failure('invalidateTags', undefined, err);
    if (options?.retry !== true || !(isOutage(error) || isCacheError(error, 'BACKEND'))) {
      throw error;
    }
    host.tags.enqueue(tags, error);
    return QUEUED;
  } finally {
    // Landed, queued (the outbox now answers for the tags) or maybe landed (a timeout):
    // either way no run that read the tags' versions before this point is joined again.
    host.changes.tagsInvalidated(tags);
  }
  // A bump that lands also covers earlier queued bumps of the same tags.
  host.tags.settled(tags, since);
  const events = host.meter.events;
  if (events.wants('invalidate')) events.emit('invalidate', { tags });
  return NOT_QUEUED;
}

const NOT_QUEUED: InvalidationResult = Object.freeze({ queued: false });
const QUEUED: InvalidationResult = Object.freeze({ queued: true });

/** `Cache.tagSnapshot`: the tags' current versions, for a later write to be guarded by. */
export async function tagSnapshot(
  host: CacheHost,
  tags: readonly string[],
  options?: CallOptions,
): Promise<TagSnapshot> {
  host.check(options?.signal);
  assertTags(tags);
  try {
    return { tags: [...tags], versions: await host.tags.tagVersions(tags, options?.signal) };
  } catch (err) {
    throw host.meter.failure('tagSnapshot', undefined, err);
  }
}
