/**
 * Where a Redis cache keeps things, and how its patterns stay inside its prefix.
 *
 * Data keys are `prefix:key` (no doubled `:`), so other clients read them as written.
 * Bookkeeping (tag versions, getOrSet locks) lives under `__codeai:` instead of under the
 * prefix: otherwise `keys('*')` would list it and `deletePattern('__tag*')` could drop a
 * tag's version and resurrect entries it had invalidated. A cache's own bookkeeping keys
 * share the hash tag `{<prefix>:}`, so in a Cluster they sit in one slot and reading the
 * versions of any set of tags is a single MGET.
 */
import { escapeGlob } from '../../core/glob.js';
import { prefixSeparator } from '../../core/options.js';

/** Root of every bookkeeping key; a cache should not use `__codeai` as its own prefix. */
export const INTERNAL_ROOT = '__codeai:';

/** The Pub/Sub channel on which getOrSet lock holders announce a release (message: the data key). */
export const FLIGHT_CHANNEL = `${INTERNAL_ROOT}flights`;

/** One cache's key layout. */
export class KeyCodec {
  /** `prefix:` (or `''` without a prefix): what every data key starts with. */
  readonly sep: string;
  /** The glob that matches this cache's own namespace literally, whatever the prefix holds. */
  readonly #patternPrefix: string;
  /** `__codeai:{prefix:}:`: the slot-sharing root of this cache's tag bookkeeping. */
  readonly #internal: string;

  constructor(prefix: string) {
    this.sep = prefixSeparator(prefix);
    this.#patternPrefix = escapeGlob(this.sep);
    // `{}` is not a hash tag in Redis (the whole key would be hashed), so an empty prefix
    // uses `#`, which no real separator can be (they all end with ':').
    this.#internal = `${INTERNAL_ROOT}{${this.sep === '' ? '#' : this.sep}}:`;
  }

  /** The Redis key of a caller's key. */
  key(key: string): string {
    return this.sep + key;
  }

  /** A caller's glob turned into one that can only match inside this cache's namespace. */
  pattern(pattern: string): string {
    return this.#patternPrefix + pattern;
  }

  /**
   * The caller's key for a Redis key found by SCAN, or `undefined` for bookkeeping keys,
   * which only a cache without a prefix (it owns the whole database) can come across.
   */
  strip(redisKey: string): string | undefined {
    if (this.sep === '') return redisKey.startsWith(INTERNAL_ROOT) ? undefined : redisKey;
    return redisKey.slice(this.sep.length);
  }

  /** The key holding a tag's version. */
  tag(tag: string): string {
    return `${this.#internal}tag:${tag}`;
  }

  /** Glob matching every tag-version key of this cache. */
  get tagPattern(): string {
    return `${escapeGlob(this.#internal)}tag:*`;
  }

  /** The counter every new tag version is drawn from (versions only grow). */
  get clockKey(): string {
    return `${this.#internal}clock`;
  }

  /** The version of a tag with no key of its own; raised by `clear()` above all earlier ones. */
  get baseKey(): string {
    return `${this.#internal}base`;
  }

  /**
   * The getOrSet lock of a data key. Locks are per Redis key (two caches whose prefixes
   * address the same key share it) and carry no hash tag, so they spread over the Cluster.
   */
  lock(key: string): string {
    return `${INTERNAL_ROOT}lock:${this.sep}${key}`;
  }
}
