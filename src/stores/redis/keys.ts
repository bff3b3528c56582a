/**
 * Where a Redis cache keeps things, and how its patterns stay inside its prefix.
 *
 * Data keys are `prefix:key` (no doubled `:`), so other clients read them as written.
 *
 * Bookkeeping keys (tag versions, the version clock, getOrSet locks) live under the same
 * prefix, so `clear()` removes them with the data and an operator who deletes `prefix*`
 * leaves nothing of ours behind. They start `prefix:` followed by the byte 0xFF, which
 * UTF-8 never contains: no caller's key (a JavaScript string, sent as UTF-8) can ever be
 * spelled like one, and no caller's glob can ever be made to match only them. So there is
 * no reserved key name, and `keys()`, `scan()` and `deletePattern()` tell bookkeeping from
 * data by one byte (they skip it; only `clear()` deletes it).
 *
 *   prefix:\xff{#prefix:}tag:<tag>   a tag's version
 *   prefix:\xff{#prefix:}clock       the last version handed out
 *   prefix:\xff{lock:<key>}          key's getOrSet lock
 *
 * A cache's tag keys and clock share the hash tag `{#prefix:}`, so on a Cluster they sit in
 * one slot and the tag scripts, which touch several of them, are single commands. A lock's
 * hash tag is its key's, so locks spread over the Cluster like the data. Without a prefix
 * the cache owns the database and its bookkeeping keys start with the 0xFF byte itself.
 *
 * Bookkeeping keys are Buffers (a JavaScript string cannot hold a lone 0xFF byte: ioredis
 * would send "\xff" as the two bytes C3 BF). Every one of them has a non-empty hash tag
 * after the 0xFF byte, and that is load-bearing on a Cluster: ioredis's auto-pipelining
 * computes a command's slot from the key turned into a string, where 0xFF becomes U+FFFD,
 * while the server (and ioredis's own pipeline check) hash the bytes. Only a hash tag of
 * valid UTF-8 gives both the same slot. The `#` keeps the tag non-empty whatever the prefix
 * holds (`{}` is not a hash tag). For the same reason a prefix with a `{` and no `}` after
 * it is refused: its `{` would open the hash tag of every key, ours included, and the
 * 0xFF byte would fall inside it.
 */
import { Buffer } from 'node:buffer';
import { CacheError } from '../../core/errors.js';
import { escapeGlob } from '../../core/glob.js';
import { prefixSeparator } from '../../core/options.js';

/** The byte after the prefix that marks a bookkeeping key: never part of valid UTF-8. */
export const MARK = 0xff;

/**
 * The Pub/Sub channel on which getOrSet lock holders announce a release (message: the data
 * key): one per database and prefix, so caches that share a server but not a keyspace never
 * wake each other's waiters. Pub/Sub ignores databases (a PUBLISH reaches subscribers on
 * every one), hence the database number in the name.
 */
export function flightChannel(db: number, sep: string): string {
  return `__codeai:flights:${db}:${sep}`;
}

/** One cache's key layout. */
export class KeyCodec {
  /** `prefix:` (or `''` without a prefix): what every data key starts with. */
  readonly sep: string;
  /** The glob that matches this cache's own namespace literally, whatever the prefix holds. */
  readonly #patternPrefix: string;
  /** `prefix:` as bytes: where a Redis key's bookkeeping mark would be. */
  readonly #sepBytes: Buffer;
  /** `prefix:\xff{#prefix:}`: the slot-sharing root of this cache's tag bookkeeping. */
  readonly #tagged: Buffer;
  /** `prefix:\xff{lock:`. */
  readonly #lock: Buffer;

  constructor(prefix: string) {
    const open = prefix.indexOf('{');
    if (open !== -1 && !prefix.includes('}', open + 1)) {
      throw new CacheError(
        'INVALID_CONFIG',
        `a Redis cache's prefix must not hold a "{" without a "}" after it (it would open the Cluster hash tag of every key), got "${prefix}"`,
      );
    }
    this.sep = prefixSeparator(prefix);
    this.#patternPrefix = escapeGlob(this.sep);
    this.#sepBytes = Buffer.from(this.sep, 'utf8');
    const marked = Buffer.concat([this.#sepBytes, Buffer.of(MARK)]);
    this.#tagged = Buffer.concat([marked, Buffer.from(`{#${this.sep}}`)]);
    this.#lock = Buffer.concat([marked, Buffer.from('{lock:')]);
  }

  /** The Redis key of a caller's key. */
  key(key: string): string {
    return this.sep + key;
  }

  /** A caller's glob turned into one that can only match inside this cache's namespace. */
  pattern(pattern: string): string {
    return this.#patternPrefix + pattern;
  }

  /** True for one of our bookkeeping keys found by a SCAN of this cache's namespace. */
  isBookkeeping(redisKey: Buffer): boolean {
    return redisKey[this.#sepBytes.length] === MARK;
  }

  /** The caller's key for a Redis key found by SCAN, or `undefined` for a bookkeeping key. */
  strip(redisKey: Buffer): string | undefined {
    if (this.isBookkeeping(redisKey)) return undefined;
    return redisKey.toString('utf8', this.#sepBytes.length);
  }

  /** The key holding a tag's version. */
  tag(tag: string): Buffer {
    return Buffer.concat([this.#tagged, Buffer.from(`tag:${tag}`)]);
  }

  /** The last version handed out to a tag; versions only grow. */
  get clockKey(): Buffer {
    return Buffer.concat([this.#tagged, Buffer.from('clock')]);
  }

  /**
   * The getOrSet lock of a caller's key. Two caches whose prefixes address the same data
   * key through different splits (`a:` + `b:c`, `a:b:` + `c`) do not share it: each lock
   * stays under its own cache's prefix.
   */
  lock(key: string): Buffer {
    return Buffer.concat([this.#lock, Buffer.from(`${key}}`)]);
  }
}
