/**
 * The memory store's walks over its whole map, kept off the hot path: `scan` and
 * `deletePattern` match keys against a glob, and the expiry sweep drops dead entries.
 * Each works in bounded slices so a huge cache never blocks the event loop, and each
 * expires dead entries through the store's `expire` so its accounting stays in one place.
 */
import { abortError } from '../../core/errors.js';
import { compileGlob } from '../../core/glob.js';
import type { Clock } from '../../core/types.js';
import type { Entry } from './entry.js';

/** Entries the sweep examines per tick, so a huge cache never blocks the event loop. */
const SWEEP_BATCH = 5000;
/** Keys per batch yielded by `scan`. */
const SCAN_BATCH = 1000;
/** Entries examined by `scan`/`deletePattern` before they let other work run. */
const SCAN_SLICE = 10_000;
/** What `walkMatching` yields at a slice boundary. */
const PAUSE = Symbol('pause');

/** One step of a walk: a matching live entry, or a pause at a slice boundary. */
export type WalkStep = Entry | typeof PAUSE;

/**
 * The live entries of `map` whose keys match `pattern`, expiring dead ones on the way, with
 * a pause after every slice so async callers can let other work run. Map iterators
 * survive deletes and inserts made between steps: every key present throughout is
 * visited once; a key deleted and re-added may come twice.
 */
export function* walkMatching(
  map: ReadonlyMap<string, Entry>,
  pattern: string,
  clock: Clock,
  expire: (entry: Entry) => void,
): Generator<WalkStep> {
  const matcher = compileGlob(pattern);
  let now = clock.now();
  let examined = 0;
  for (const entry of map.values()) {
    if (entry.expiresAt !== 0 && entry.expiresAt < now) expire(entry);
    else if (matcher.test(entry.key)) yield entry;
    if (++examined % SCAN_SLICE === 0) {
      yield PAUSE;
      now = clock.now();
    }
  }
}

/** The keys of a walk's entries in batches of up to `SCAN_BATCH`, pausing between slices. */
export async function* scanKeys(
  walk: Iterable<WalkStep>,
  signal?: AbortSignal,
): AsyncGenerator<readonly string[]> {
  let batch: string[] = [];
  for (const step of walk) {
    if (step === PAUSE) await yieldToEventLoop();
    else batch.push(step.key);
    if (signal?.aborted) throw abortError(signal);
    if (batch.length >= SCAN_BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Removes every entry of a walk, pausing between slices; resolves to how many it removed. */
export async function deleteAll(
  walk: Iterable<WalkStep>,
  remove: (entry: Entry) => void,
  signal?: AbortSignal,
): Promise<number> {
  let deleted = 0;
  for (const step of walk) {
    if (step !== PAUSE) {
      remove(step);
      deleted++;
    } else {
      await yieldToEventLoop();
      if (signal?.aborted) throw abortError(signal);
    }
  }
  return deleted;
}

/**
 * One sweep tick: advances `cursor` over the next slice of entries, expiring those dead at
 * `now`. True when the cursor ran out, so the next tick starts a fresh pass.
 */
export function sweepSlice(
  cursor: Iterator<Entry>,
  now: number,
  expire: (entry: Entry) => void,
): boolean {
  for (let i = 0; i < SWEEP_BATCH; i++) {
    const next = cursor.next();
    if (next.done) return true;
    const entry = next.value;
    if (entry.expiresAt !== 0 && entry.expiresAt < now) expire(entry);
  }
  return false;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
