import type { MaybePromise } from '../../core/store.js';
import { FillGuard } from './fill-guard.js';

/**
 * Redis tag versions remembered in process, so a tagged L1 hit checks its tags without a
 * round trip. A version is remembered for at most `ttlMs` (the L1's own bound) and dropped
 * when this instance or another invalidates the tag (the bus), or on a resync. A read that
 * overlaps an invalidation of one of its tags stores nothing (the same race as an L1 fill,
 * see fill-guard.ts).
 */
export class TagCache {
  readonly #versions = new Map<string, { version: number; until: number }>();
  readonly #guard = new FillGuard();
  readonly #ttlMs: number;
  readonly #now: () => number;
  /** Past this many tags, the cache starts over (it only saves round trips). */
  readonly #max: number;

  constructor(ttlMs: number, now: () => number, max = 10_000) {
    this.#ttlMs = ttlMs;
    this.#now = now;
    this.#max = max;
  }

  /** The versions of `tags`, from memory when all are remembered, else read through `fetch`. */
  read(
    tags: readonly string[],
    fetch: (tags: readonly string[]) => Promise<number[]>,
  ): MaybePromise<number[]> {
    const now = this.#now();
    const out = new Array<number>(tags.length);
    for (let i = 0; i < tags.length; i++) {
      const known = this.#versions.get(tags[i] as string);
      if (known === undefined || known.until <= now) return this.#fetch(tags, fetch, now);
      out[i] = known.version;
    }
    return out;
  }

  async #fetch(
    tags: readonly string[],
    fetch: (tags: readonly string[]) => Promise<number[]>,
    now: number,
  ): Promise<number[]> {
    const token = this.#guard.begin();
    let versions: number[];
    try {
      versions = await fetch(tags);
    } catch (err) {
      this.#guard.done();
      throw err;
    }
    const storable = tags.map((tag) => this.#guard.allows(token, tag));
    this.#guard.done();
    if (this.#versions.size + tags.length > this.#max) this.#versions.clear();
    const until = now + this.#ttlMs;
    tags.forEach((tag, i) => {
      if (storable[i]) this.#versions.set(tag, { version: versions[i] as number, until });
    });
    return versions;
  }

  /** These tags were invalidated: forget them, and let no read in flight store them. */
  drop(tags: readonly string[]): void {
    for (const tag of tags) {
      this.#versions.delete(tag);
      this.#guard.key(tag);
    }
  }

  /** Forgets everything (a resync, a clear). */
  clear(): void {
    this.#versions.clear();
    this.#guard.all();
  }
}
