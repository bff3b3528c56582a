/**
 * Timers and a clock that move only when a test says so, for the breaker and the outbox:
 * `advance(ms)` runs every timer that falls due, in order, letting promises settle between.
 */
import type { Timers } from '../../src/core/breaker.js';
import type { Clock } from '../../src/core/types.js';

interface Pending {
  id: number;
  at: number;
  fn: () => void;
}

/** Lets queued promise callbacks (and their follow-ups) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** Manual timers sharing one manual clock. */
export class ManualTimers implements Timers {
  now = 1_000_000;
  readonly clock: Clock = { now: () => this.now };
  #next = 1;
  #queue: Pending[] = [];

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#queue.push({ id, at: this.now + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#queue = this.#queue.filter((p) => p.id !== handle);
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Delay until the next timer fires, or undefined when none waits. */
  get nextDelay(): number | undefined {
    if (this.#queue.length === 0) return undefined;
    return Math.min(...this.#queue.map((p) => p.at)) - this.now;
  }

  /** Moves time forward by `ms`, firing due timers in order. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      await settle();
      const due = this.#queue.filter((p) => p.at <= end).sort((a, b) => a.at - b.at || a.id - b.id);
      const first = due[0];
      if (first === undefined) break;
      this.#queue = this.#queue.filter((p) => p !== first);
      this.now = Math.max(this.now, first.at);
      first.fn();
    }
    this.now = end;
    await settle();
  }
}
