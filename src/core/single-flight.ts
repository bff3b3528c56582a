/**
 * One in-flight computation per key, and the rule for when a caller may join it.
 *
 * The first caller for a key runs `work`; callers that arrive while it runs share its
 * promise. getOrSet's work is "take the tags' versions, run the factory, write the result",
 * and its promise settles only once the write has landed, so a caller that got a value can
 * read it back at once (read-your-writes on one instance).
 *
 * The race this file closes: joining is only right while the run could still be the
 * answer a new caller would compute. Suppose a run R for key `k` (tags `[t]`) took its tag
 * versions, and then this instance invalidated `t`, or deleted or rewrote `k`, and that call
 * resolved. A caller arriving now that joined R would receive a value computed from before
 * the change — after the change's caller was told it was done. R's *write* is already safe
 * against tags (it carries the versions it took, which no longer match), but nothing in the
 * store protects a caller who joins R in memory, and for `delete` / `set` R's write would
 * even put the old value back over the change.
 *
 * So the cache tells the flights about every change it makes (`supersede`, `supersedeWhere`,
 * `clear`): the runs it concerns are marked superseded and taken out of the map. They still
 * answer the callers that joined them (those calls overlapped the change, so either answer
 * is honest), a superseded getOrSet run does not write, and the next caller starts a run of
 * its own, whose tag versions are taken after the change. The cache calls this both when a
 * change starts and when it resolves: at the start, so that a run never issues its write
 * after the change was sent (the store applies commands in order, so a write sent before
 * it is overwritten or dropped by it); at the end, so that a run that began while the change
 * was in flight — and may have read tag versions before it landed — is not joined afterwards.
 *
 * Why not generations (a counter per key and per tag, checked when joining)? They would
 * need remembering for every key and tag ever changed, or a rule for forgetting them;
 * marking the few runs in flight costs nothing when none run (one size check) and holds no
 * memory beyond them. The price: `supersedeWhere` (tag invalidations, pattern deletes) scans
 * the runs in flight, which are few — one per key being computed right now.
 *
 * The guarantee is per instance: another process's change reaches this one's flights only
 * through the tag versions their writes carry (and Redis's cross-process lock, flights.ts).
 */

/** One run in flight for one key. */
export interface Flight<T> {
  readonly key: string;
  readonly promise: Promise<T>;
  /** Tags the run's result is written with, for {@link SingleFlight.supersedeWhere}. */
  readonly tags: readonly string[] | undefined;
  /** Set once the cache changed what the run computes; see the essay above. */
  superseded: boolean;
  /** The result, once known, while the run still finishes (getOrSet: its write). */
  early: { value: T } | undefined;
}

/** In-flight runs by key; see the essay at the top of this file. */
export class SingleFlight<T> {
  readonly #inflight = new Map<string, Flight<T>>();

  /** The run for `key`, starting `work` if nobody runs it yet; `joined` says which. */
  run(
    key: string,
    work: (flight: Flight<T>) => Promise<T>,
    tags?: readonly string[],
  ): { flight: Flight<T>; joined: boolean } {
    const existing = this.#inflight.get(key);
    if (existing !== undefined) return { flight: existing, joined: true };
    const flight = {
      key,
      tags,
      superseded: false,
      early: undefined,
      promise: undefined,
    } as unknown as { -readonly [K in keyof Flight<T>]: Flight<T>[K] };
    flight.promise = work(flight);
    this.#inflight.set(key, flight);
    const release = (): void => {
      if (this.#inflight.get(key) === flight) this.#inflight.delete(key);
    };
    flight.promise.then(release, release);
    return { flight, joined: false };
  }

  get size(): number {
    return this.#inflight.size;
  }

  /** The cache changed `key`: its run, if any, is superseded. */
  supersede(key: string): void {
    if (this.#inflight.size === 0) return;
    const flight = this.#inflight.get(key);
    if (flight === undefined) return;
    flight.superseded = true;
    this.#inflight.delete(key);
  }

  /**
   * Stops new callers joining `flight` without superseding it: it still answers its callers
   * and writes (getOrSet gives up on a run that outlived `lock.wait`).
   */
  detach(flight: Flight<T>): void {
    if (this.#inflight.get(flight.key) === flight) this.#inflight.delete(flight.key);
  }

  /** Supersedes every run `changed` picks (a tag invalidation, a pattern delete). */
  supersedeWhere(changed: (flight: Flight<T>) => boolean): void {
    if (this.#inflight.size === 0) return;
    for (const [key, flight] of this.#inflight) {
      if (changed(flight)) {
        flight.superseded = true;
        this.#inflight.delete(key);
      }
    }
  }

  /** Supersedes every run (`clear()`, `stop()`). */
  clear(): void {
    for (const flight of this.#inflight.values()) flight.superseded = true;
    this.#inflight.clear();
  }
}
