/**
 * A circuit breaker for one backend: stop paying the command timeout on every call while
 * the backend does not answer.
 *
 * Why: a paused or partitioned Redis keeps its socket open, so every command waits the
 * whole command timeout before it fails. A cache that is meant to make requests faster
 * then makes each one a second slower for as long as the outage lasts.
 *
 * Design:
 * - `closed`: calls go through. Each call reports how it ended. `threshold` consecutive
 *   failures that say the backend is unreachable (`CONNECTION`, `TIMEOUT`) open the
 *   breaker; any answer resets the count. Other failures (a `WRONGTYPE`, an `OOM`) are the
 *   backend answering, so they count as answers.
 * - `open`: calls are refused at once with `CONNECTION` (the store's callers turn a refused
 *   read into a miss, as for any failed read). After `cooldown` the breaker probes.
 * - `half-open`: one probe, run by the breaker itself (no caller waits on it); every call
 *   is still refused. The probe succeeding closes the breaker; failing opens it for
 *   another cool-down. The probe is the store's to define: a PING, then whatever must
 *   happen before the store serves again (the invalidation outbox's flush, see outbox.ts).
 *
 * Cost: on the hot path, one property read before a call and one field write after it.
 *
 * Left out on purpose: a failure *rate* over a window (a cache's calls are cheap and
 * uniform, so consecutive failures say enough), and letting a user's call be the probe
 * (that call would wait the full timeout whenever the backend is still down).
 */
import { type Duration, parseDuration, timerDelay } from './duration.js';
import { CacheError, isCacheError } from './errors.js';

import type { BreakerState } from './types.js';

export type { BreakerState };

/**
 * How often an open breaker probes while a write's invalidation waits on the backend
 * ({@link CircuitBreaker.hurry}): one PING, and only while such work is pending.
 */
export const URGENT_PROBE_MS = 200;

/** Options of a backend's circuit breaker; `false` turns it off. */
export interface BreakerOptions {
  /** Consecutive timeouts or connection errors that open the breaker. Default 5. */
  threshold?: number;
  /** How long calls are refused before one probe decides. Default 2 s. */
  cooldown?: Duration;
}

/** The defaults, one line of doc each. */
export const BREAKER_DEFAULTS = {
  /** Few enough that an outage costs at most a handful of slow calls; more than one stray timeout. */
  threshold: 5,
  /** Short enough that a recovered backend is used again within seconds; a probe is one PING. */
  cooldown: 2_000,
} as const;

/** {@link BreakerOptions} after validation; `undefined` when the breaker is off. */
export interface ResolvedBreakerOptions {
  threshold: number;
  cooldownMs: number;
}

/** Validates `breaker` options, naming the option in every error. */
export function resolveBreakerOptions(
  input: BreakerOptions | false | undefined,
  name = 'breaker',
): ResolvedBreakerOptions | undefined {
  if (input === false) return undefined;
  if (input === undefined) {
    return { threshold: BREAKER_DEFAULTS.threshold, cooldownMs: BREAKER_DEFAULTS.cooldown };
  }
  if (typeof input !== 'object' || input === null) {
    throw new CacheError('INVALID_CONFIG', `${name} must be false or { threshold, cooldown }`);
  }
  for (const key of Object.keys(input)) {
    if (key !== 'threshold' && key !== 'cooldown') {
      throw new CacheError(
        'INVALID_CONFIG',
        `unknown ${name} option "${key}" (known: threshold, cooldown)`,
      );
    }
  }
  const threshold = input.threshold ?? BREAKER_DEFAULTS.threshold;
  if (!Number.isSafeInteger(threshold) || threshold < 1) {
    throw new CacheError(
      'INVALID_CONFIG',
      `${name}.threshold must be an integer ≥ 1, got ${String(threshold)}`,
    );
  }
  let cooldownMs: number;
  try {
    cooldownMs = parseDuration(input.cooldown ?? BREAKER_DEFAULTS.cooldown, `${name}.cooldown`);
  } catch (err) {
    throw new CacheError('INVALID_CONFIG', (err as Error).message, { cause: err });
  }
  if (cooldownMs < 1) {
    throw new CacheError(
      'INVALID_CONFIG',
      `${name}.cooldown must be at least 1 ms, got ${String(input.cooldown)}`,
    );
  }
  return { threshold, cooldownMs };
}

/** Timers a breaker or an outbox schedules with; inject manual ones in tests. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Real timers that never keep the process alive on their own. */
export const REAL_TIMERS: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, timerDelay(ms)).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** True for failures that say the backend did not answer at all. */
export function isOutage(err: unknown): boolean {
  return isCacheError(err, 'CONNECTION') || isCacheError(err, 'TIMEOUT');
}

/** What a breaker needs from its owner. */
export interface BreakerHooks {
  /** Decides a half-open breaker: resolves when the backend answers and may serve again. */
  probe(): Promise<void>;
  /** Called on every state change, with the failure that caused an opening. */
  onChange(state: BreakerState, error: unknown): void;
}

/** One backend's circuit breaker; see the essay at the top of this file. */
export class CircuitBreaker {
  readonly #threshold: number;
  readonly #cooldownMs: number;
  readonly #hooks: BreakerHooks;
  readonly #timers: Timers;
  #state: BreakerState = 'closed';
  #failures = 0;
  #lastError: unknown;
  #timer: unknown;
  #stopped = false;
  /** Work waits on the backend (see {@link CircuitBreaker.hurry}): probe soon, not after the cool-down. */
  #urgent = false;

  constructor(options: ResolvedBreakerOptions, hooks: BreakerHooks, timers: Timers = REAL_TIMERS) {
    this.#threshold = options.threshold;
    this.#cooldownMs = options.cooldownMs;
    this.#hooks = hooks;
    this.#timers = timers;
  }

  /** True while calls may go through: the hot path's only check. */
  get closed(): boolean {
    return this.#state === 'closed';
  }

  get state(): BreakerState {
    return this.#state;
  }

  /** The failure that last opened the breaker (or failed a probe). */
  get lastError(): unknown {
    return this.#lastError;
  }

  /** A call got an answer. */
  succeeded(): void {
    this.#failures = 0;
  }

  /** A call failed; counts towards opening when the failure says the backend is unreachable. */
  failed(err: unknown): void {
    if (this.#state !== 'closed') return;
    if (!isOutage(err)) {
      this.#failures = 0;
      return;
    }
    if (++this.#failures >= this.#threshold) this.#open(err);
  }

  /** The error for a call refused while the breaker is not closed. */
  refusal(operation: string): CacheError {
    const last = this.#lastError instanceof Error ? `: ${this.#lastError.message}` : '';
    return new CacheError(
      'CONNECTION',
      `${operation} refused: the circuit breaker is ${this.#state} after ${this.#threshold} consecutive failures${last}`,
      { cause: this.#lastError },
    );
  }

  /**
   * Something must reach the backend as soon as it answers again (a write's invalidation,
   * see outbox.ts): while open, probe every {@link URGENT_PROBE_MS} instead of after the
   * whole cool-down, until a probe closes the breaker. Other instances whose breakers close
   * first would otherwise serve what the write replaced for up to a cool-down more.
   */
  hurry(): void {
    if (this.#urgent) return;
    this.#urgent = true;
    if (this.#state === 'open' && this.#timer !== undefined) {
      this.#timers.clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#schedule();
    }
  }

  /** Cancels a pending probe; the breaker then stays as it is. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Allows probing again after `stop()` (the store was started again). */
  resume(): void {
    this.#stopped = false;
    if (this.#state !== 'closed' && this.#timer === undefined) this.#schedule();
  }

  #open(err: unknown): void {
    this.#state = 'open';
    this.#failures = 0;
    this.#lastError = err;
    this.#hooks.onChange('open', err);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#timers.setTimeout(
      () => {
        this.#timer = undefined;
        void this.#probe();
      },
      this.#urgent ? Math.min(this.#cooldownMs, URGENT_PROBE_MS) : this.#cooldownMs,
    );
  }

  async #probe(): Promise<void> {
    if (this.#stopped) return;
    this.#state = 'half-open';
    this.#hooks.onChange('half-open', undefined);
    try {
      await this.#hooks.probe();
    } catch (err) {
      if (this.#stopped) return;
      this.#open(err);
      return;
    }
    if (this.#stopped) return;
    this.#state = 'closed';
    this.#failures = 0;
    this.#urgent = false;
    this.#hooks.onChange('closed', undefined);
  }
}
