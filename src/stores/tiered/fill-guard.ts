/**
 * The race an L1 fill must lose: instance B reads key k from Redis (old value), instance A
 * writes k and publishes the invalidation, and B receives the message before the reply to
 * its read. If B then stored the reply in its L1, the copy would be stale and no message
 * would ever drop it. Replies and messages travel on different connections, so their order
 * is not Redis's. The guard makes any fill that overlaps an invalidation of its key (or a
 * pattern, a clear, a resync) give up: a fill records a sequence number when its read
 * starts and stores only if no invalidation of its key was recorded after it.
 *
 * Cost: a counter per fill, and a Map of invalidated keys kept only while fills are in
 * flight (emptied whenever none is), so an idle instance remembers nothing.
 */
export class FillGuard {
  #seq = 0;
  /** Bumped by invalidations that concern every key (pattern, clear, resync). */
  #epoch = 0;
  #inFlight = 0;
  /** Key → sequence of its last invalidation, recorded only while fills are in flight. */
  readonly #touched = new Map<string, number>();

  /** A fill starts: the token to pass to {@link end}. */
  begin(): { seq: number; epoch: number } {
    this.#inFlight++;
    return { seq: ++this.#seq, epoch: this.#epoch };
  }

  /** A fill ends: whether it may store what it read for `key`. */
  end(token: { seq: number; epoch: number }, key: string): boolean {
    const ok = this.allows(token, key);
    this.done();
    return ok;
  }

  /** Whether a fill still in flight may store what it read for `key` (ends nothing). */
  allows(token: { seq: number; epoch: number }, key: string): boolean {
    return token.epoch === this.#epoch && (this.#touched.get(key) ?? 0) < token.seq;
  }

  /** A fill ends (after its {@link allows} checks). */
  done(): void {
    if (--this.#inFlight === 0) this.#touched.clear();
  }

  /** `key` was invalidated: fills of it in flight must not store. */
  key(key: string): void {
    if (this.#inFlight > 0) this.#touched.set(key, ++this.#seq);
  }

  /** Everything (or a pattern of keys) was invalidated: no fill in flight may store. */
  all(): void {
    this.#epoch++;
  }
}
