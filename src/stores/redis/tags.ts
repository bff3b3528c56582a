/**
 * Tags as versions on Redis.
 *
 * An entry records the versions of its tags when written; it is invalid once any differs
 * (the core checks, see `readEntry`). Here a tag's version is one small string key:
 *
 *   __codeai:{prefix:}:tag:<tag>  the tag's version, set from the clock by invalidateTags
 *   __codeai:{prefix:}:clock      the counter versions are drawn from (only grows)
 *   __codeai:{prefix:}:base       the version of tags without a key (raised by clear)
 *
 * - `invalidateTags(tags)` is one script: INCR the clock, SET each tag to it. Cost
 *   O(number of tags), one round trip, whatever the number of keys the tags cover — the
 *   entries are not touched; they fail their version check when next read (and are then
 *   deleted, best effort) or expire.
 * - Reading a tagged entry costs one extra MGET of its tags plus the base (one round trip,
 *   one slot: the keys share the hash tag `{prefix:}`, so this works on a Cluster too).
 * - A tag's version is max(its key, base): a missing key reads as the base.
 *
 * The tag keys have no TTL, and one exists per tag ever invalidated (until `clear()`);
 * keep the tag vocabulary bounded. They must not be evicted: under an `allkeys-*`
 * maxmemory policy Redis could drop one and revive entries it invalidated, so a cache
 * using tags wants `noeviction` or a `volatile-*` policy (entries with TTLs are evicted,
 * tags are not).
 */
import type { Cluster, Redis } from 'ioredis';
import type { KeyCodec } from './keys.js';
import { BUMP_TAGS, DROP_OLD_TAGS, RAISE_BASE, runScript } from './scripts.js';

/** The current version of each tag: one MGET. */
export async function readTagVersions(
  client: Redis | Cluster,
  codec: KeyCodec,
  tags: readonly string[],
): Promise<number[]> {
  const keys = [codec.baseKey];
  for (const tag of tags) keys.push(codec.tag(tag));
  const values = await client.mget(keys);
  const base = values[0] == null ? 0 : Number(values[0]);
  const out = new Array<number>(tags.length);
  for (let i = 0; i < tags.length; i++) {
    const v = values[i + 1];
    out[i] = v == null ? base : Math.max(base, Number(v));
  }
  return out;
}

/** Gives every tag a new version above all earlier ones, atomically: one script. */
export async function bumpTagVersions(
  client: Redis | Cluster,
  codec: KeyCodec,
  tags: readonly string[],
): Promise<void> {
  const keys = [codec.clockKey];
  for (const tag of new Set(tags)) keys.push(codec.tag(tag));
  await runScript(client, BUMP_TAGS, keys);
}

/** Raises the base above every version handed out so far; returns the new base. */
export async function raiseBase(client: Redis | Cluster, codec: KeyCodec): Promise<number> {
  return Number(await runScript(client, RAISE_BASE, [codec.clockKey, codec.baseKey]));
}

/** Deletes, from a batch of tag keys found by SCAN, those at or below `base` (they read as absent). */
export async function dropOldTags(
  client: Redis | Cluster,
  tagKeys: readonly string[],
  base: number,
): Promise<number> {
  if (tagKeys.length === 0) return 0;
  return Number(await runScript(client, DROP_OLD_TAGS, tagKeys, [base]));
}
