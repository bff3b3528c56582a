/**
 * One in-flight computation per key. The first caller for a key runs `work`; callers that
 * arrive while it runs share its promise. The key is released when `work` settles — or,
 * with `holdUntil`, when a later promise settles (getOrSet keeps a key busy until its result
 * is written, so a caller arriving between "value computed" and "value stored" joins instead
 * of recomputing).
 */
export class SingleFlight<T> {
  readonly #inflight = new Map<string, Promise<T>>();

  /** The promise for `key`, starting `work` if nobody runs it yet; `joined` says which. */
  run(
    key: string,
    work: (release: (after: Promise<unknown>) => void) => Promise<T>,
  ): { promise: Promise<T>; joined: boolean } {
    const existing = this.#inflight.get(key);
    if (existing !== undefined) return { promise: existing, joined: true };
    let held: Promise<unknown> | undefined;
    const promise = work((after) => {
      held = after;
    });
    this.#inflight.set(key, promise);
    const release = (): void => {
      if (this.#inflight.get(key) === promise) this.#inflight.delete(key);
    };
    promise.then(
      () => {
        if (held === undefined) release();
        else held.then(release, release);
      },
      () => release(),
    );
    return { promise, joined: false };
  }

  get size(): number {
    return this.#inflight.size;
  }

  clear(): void {
    this.#inflight.clear();
  }
}
