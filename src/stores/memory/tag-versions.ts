/**
 * Tag versions kept by the memory store.
 *
 * The core records the versions of an entry's tags inside the entry when it writes it, and
 * treats the entry as invalidated when any current version differs. A tag never bumped
 * reads as the base version (0 until the first `clear`) and takes no space; each bumped tag
 * costs one small map slot (about 100 bytes), kept outside `maxMemory` and bounded by `maxTags`.
 *
 * Bumped tags are kept up to a limit (`maxTags`). Forgetting one tag is never safe on its
 * own: a version that reads as the base again would resurrect entries written before its
 * first bump, and the core may write an entry with versions snapshotted arbitrarily long ago
 * (`tagSnapshot`), so not even "older than the longest TTL" proves that no live entry still
 * carries an old version. So past the limit the map is forgotten whole, the way `clear()`
 * forgets it: the base rises above every version handed out so far, which invalidates every
 * tagged entry at once (untagged entries are untouched). Memory stays bounded, at the price
 * of a burst of misses on tagged entries; `health().details` shows the count and the resets.
 *
 * `clear()` frees the map but raises the base above every version handed out so far, so a
 * snapshot taken before the clear can never validate a write made after it.
 */

/** The store's tag → version map. */
export class TagVersions {
  readonly #versions = new Map<string, number>();
  readonly #limit: number;
  #base = 0;
  /** Times the map outgrew its limit and was forgotten. */
  resets = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Number of tags bumped since the last `clear`. */
  get size(): number {
    return this.#versions.size;
  }

  get(tags: readonly string[]): number[] {
    const out = new Array<number>(tags.length);
    for (let i = 0; i < tags.length; i++) out[i] = this.#versions.get(tags[i]!) ?? this.#base;
    return out;
  }

  bump(tags: readonly string[]): void {
    // A tag listed twice is bumped once: each call invalidates, whatever the multiplicity.
    for (const tag of new Set(tags)) {
      this.#versions.set(tag, (this.#versions.get(tag) ?? this.#base) + 1);
    }
    if (this.#versions.size > this.#limit) {
      this.resets++;
      this.clear();
    }
  }

  clear(): void {
    let highest = this.#base;
    for (const v of this.#versions.values()) if (v > highest) highest = v;
    this.#base = highest + 1;
    this.#versions.clear();
  }
}
