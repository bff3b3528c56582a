/**
 * What the soak does to Redis, and when: SIGKILL and restart (an empty Redis comes back:
 * no persistence), and SIGSTOP / SIGCONT (the socket stays open, nothing answers — every
 * command waits its timeout until the breaker opens).
 */

/** One fault: at `atFraction` of the run, `kind`, lasting `downMs`. */
export interface Fault {
  atFraction: number;
  kind: 'kill' | 'pause';
  /** kill: how long Redis stays dead before the restart; pause: how long it is stopped. */
  downMs: number;
}

/** The full soak's faults: three kills (one restarted at once) and two pauses. */
export const FULL_FAULTS: readonly Fault[] = [
  { atFraction: 0.15, kind: 'kill', downMs: 5_000 },
  { atFraction: 0.3, kind: 'pause', downMs: 4_000 },
  { atFraction: 0.45, kind: 'kill', downMs: 12_000 },
  { atFraction: 0.6, kind: 'pause', downMs: 1_500 },
  { atFraction: 0.72, kind: 'kill', downMs: 0 },
];

/** The short soak's (npm test): one kill and restart, early enough to see caching resume. */
export const SHORT_FAULTS: readonly Fault[] = [{ atFraction: 0.3, kind: 'kill', downMs: 2_000 }];

/** The faults for a run of `durationMs`: the full schedule from a minute up. */
export function faultsFor(durationMs: number): readonly Fault[] {
  return durationMs >= 60_000 ? FULL_FAULTS : SHORT_FAULTS;
}
