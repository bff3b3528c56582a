/**
 * Tags as versions on Redis.
 *
 * An entry records the versions of its tags when written; it is invalid once any differs
 * (the core checks, see `readEntry`). Here a tag's version is one small key under the
 * cache's prefix (see keys.ts):
 *
 *   prefix:\xff{#prefix:}tag:<tag>  the tag's version
 *   prefix:\xff{#prefix:}clock      the last version handed out
 *
 * - `invalidateTags(tags)` is one script: draw a new version, SET each tag to it. Cost
 *   O(number of tags), one round trip, whatever the number of keys the tags cover — the
 *   entries are not touched; they fail their version check when next read (and are then
 *   deleted, best effort) or expire.
 * - Reading the versions of a tagged entry's tags is one MGET (one round trip, one slot: the
 *   keys share the hash tag `{#prefix:}`, so it works on a Cluster); a script only when a
 *   tag has no key yet or its TTL is due for renewal (see {@link TagVersions}).
 *
 * **The resurrection race, and why tag keys may expire.** An invalidation must never be
 * undone: an entry that recorded version v of a tag must not match again once the tag has
 * moved past v. A tag key that disappears (TTL, eviction, `clear()`) is the danger: if a
 * missing key read as a fixed default, an entry written while the key was missing (it
 * recorded that default) and invalidated since would become valid again the moment the
 * key went away. So a missing key never reads as anything seen before: the read gives the
 * tag a brand-new version, drawn above every version handed out (a clock key, and the
 * server's time in microseconds for when the clock key is gone too). Whatever an entry
 * recorded, it can only be older. A lost tag key therefore costs misses — the entries
 * carrying the tag read as invalidated — and never a resurrection; that is what lets tag
 * keys have a TTL, be evicted under any `maxmemory-policy`, and be deleted by `clear()`
 * with the data, in any order, while writes race with it.
 *
 * **The TTL** only decides how many of those misses happen. It is the longest entry TTL
 * this store had written when the key was last touched, and at least
 * {@link TAG_TTL_FLOOR_MS} (a day); use (a read of a tagged entry, a tagged write, an
 * invalidation) renews it — by each process at most once per quarter-TTL, so reads stay
 * one MGET — and nothing ever shortens it. (A tagged write reads its versions before it
 * writes, so its own TTL reaches the tag's key at the tag's next renewal.) So a tag's key outlives
 * every entry that could depend on it as long as the tag is read or written at least once
 * per half-TTL, and as long as the processes sharing the cache write entries no longer
 * than the longest this one has seen; an entry outliving its tag's key (an entry without a
 * TTL, say, whose tag goes unused for a day) reads as invalidated: a miss, never stale.
 * The clock key has the same TTL; without it versions come from the server's time.
 */
import type { Cluster, Redis } from 'ioredis';
import type { KeyCodec } from './keys.js';
import { BUMP_TAGS, READ_TAGS, runScript } from './scripts.js';

/** The shortest TTL a tag-version key gets: a day. */
export const TAG_TTL_FLOOR_MS = 86_400_000;

/** Tags whose last renewal this process remembers; past that it forgets them all (costing a few scripts). */
const MAX_REMEMBERED = 10_000;

/**
 * One store's tag versions. Reads are one MGET — read-only, as cheap as before tags had a
 * TTL — except when a tag has no key (the script creates it) or when this process has not
 * renewed a tag's TTL for a quarter of it (the script renews it once less than half is
 * left). After a script the key has at least half its TTL left, so a tag read at least
 * once per quarter-TTL by some process never expires.
 */
export class TagVersions {
  readonly #codec: KeyCodec;
  /** When this process should next run the script for a tag (ms since the epoch). */
  readonly #renewAt = new Map<string, number>();
  #ttlMs = TAG_TTL_FLOOR_MS;

  constructor(codec: KeyCodec) {
    this.#codec = codec;
  }

  /** The TTL tag keys get: at least the longest entry TTL seen, at least a day. */
  get ttlMs(): number {
    return this.#ttlMs;
  }

  /** Notes an entry's TTL as written, so tag keys can outlive the entries that depend on them. */
  noteEntryTtl(ttlMs: number): void {
    if (ttlMs <= this.#ttlMs) return;
    this.#ttlMs = ttlMs;
    // Renew every tag at its next use, so the longer TTL reaches the keys written before.
    this.#renewAt.clear();
  }

  /** The current version of each tag (a new one for a tag without a key). */
  async read(client: Redis | Cluster, tags: readonly string[]): Promise<number[]> {
    const keys = [this.#codec.clockKey];
    for (const tag of tags) keys.push(this.#codec.tag(tag));
    const now = Date.now();
    if (tags.every((t) => (this.#renewAt.get(t) ?? 0) > now)) {
      const values = await client.mget(keys.slice(1));
      if (values.every((v) => v !== null)) return values.map(Number);
    }
    const versions = (await runScript(client, READ_TAGS, keys, [this.#ttlMs])) as unknown[];
    this.#renewed(tags, now);
    return versions.map(Number);
  }

  /** Gives every tag a new version above all earlier ones, atomically: one script. */
  async bump(client: Redis | Cluster, tags: readonly string[]): Promise<void> {
    const unique = [...new Set(tags)];
    const keys = [this.#codec.clockKey];
    for (const tag of unique) keys.push(this.#codec.tag(tag));
    const now = Date.now();
    await runScript(client, BUMP_TAGS, keys, [this.#ttlMs]);
    this.#renewed(unique, now);
  }

  #renewed(tags: readonly string[], at: number): void {
    if (this.#renewAt.size + tags.length > MAX_REMEMBERED) this.#renewAt.clear();
    const next = at + this.#ttlMs / 4;
    for (const tag of tags) this.#renewAt.set(tag, next);
  }
}
