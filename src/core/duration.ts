import { CacheError } from './errors.js';

/** A unit {@link parseDuration} accepts after a number, in any letter case. */
export type DurationUnit =
  | 'ms'
  | 'Ms'
  | 'mS'
  | 'MS'
  | 's'
  | 'S'
  | 'm'
  | 'M'
  | 'h'
  | 'H'
  | 'd'
  | 'D';

/**
 * A duration: a number of milliseconds, or a string such as `"250ms"`, `"1.5s"`, `"5m"`,
 * `"24h"`, `"7d"` (a bare numeric string is milliseconds). `"5 minutes"` does not compile.
 *
 * The type follows `parseDuration` as closely as a template literal can: TypeScript's
 * `${number}` also admits a sign, an exponent, hex and a trailing dot (`"-5s"`, `"1e3s"`,
 * `"0x10"`, `"5.s"`), which `parseDuration` rejects at run time with `INVALID_TTL`, and it
 * cannot express the trailing spaces `parseDuration` tolerates (`"5m "`).
 */
export type Duration = number | `${number}` | `${number}${DurationUnit}`;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/**
 * Strings already parsed: the same few TTLs (`"1h"`) come with every call on a hot path, and
 * a regular expression per call costs more than the rest of a cache hit's option handling.
 * Only valid strings are kept, so a bad one is reported every time.
 */
const parsed = new Map<string, number>();
const MAX_PARSED = 256;

const DURATION_RE = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d)?\s*$/i;

/**
 * Parses a {@link Duration} into milliseconds. Numbers are milliseconds; strings take the
 * units `ms s m h d` (a bare numeric string is milliseconds too). Rejects negative, NaN and
 * infinite values with `INVALID_TTL`, naming `what` in the message. Any string is accepted
 * by the type, since this is where text from a URL, a config file or the environment is
 * checked.
 */
export function parseDuration(value: Duration | string, what = 'duration'): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      throw new CacheError('INVALID_TTL', `${what} must be a finite number ≥ 0 (ms), got ${value}`);
    }
    return value;
  }
  if (typeof value !== 'string') {
    throw new CacheError(
      'INVALID_TTL',
      `${what} must be a number of ms or a string like "30s", got ${typeof value}`,
    );
  }
  const known = parsed.get(value);
  if (known !== undefined) return known;
  const match = DURATION_RE.exec(value);
  if (!match) {
    throw new CacheError(
      'INVALID_TTL',
      `${what} "${value}" is not a duration (use a number of ms or ms, s, m, h, d: "250ms", "5m")`,
    );
  }
  const unit = (match[2] ?? 'ms').toLowerCase() as keyof typeof UNIT_MS;
  const ms = Number(match[1]) * UNIT_MS[unit];
  if (!Number.isFinite(ms)) {
    throw new CacheError('INVALID_TTL', `${what} "${value}" is too large`);
  }
  // Crude but bounded: a full memo starts over rather than tracking recency.
  if (parsed.size >= MAX_PARSED) parsed.clear();
  parsed.set(value, ms);
  return ms;
}

/**
 * The longest delay Node's `setTimeout` / `setInterval` honour: 2^31 − 1 ms, about 24.8 days.
 * A longer one fires after 1 ms (with only a warning), so a huge timeout would expire at once.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A delay safe to give a timer: one beyond {@link MAX_TIMER_MS} waits that long instead of firing at once. */
export function timerDelay(ms: number): number {
  return Math.min(ms, MAX_TIMER_MS);
}

const SIZE_UNITS = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 } as const;
const SIZE_RE = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|k|m|g)?\s*$/i;

/** Parses a byte size: a number of bytes or a string such as `"512kb"`, `"64mb"`, `"1gb"` (binary units). */
export function parseBytes(value: number | string, what = 'size'): number {
  let bytes: number;
  if (typeof value === 'number') {
    bytes = value;
  } else if (typeof value === 'string') {
    const match = SIZE_RE.exec(value);
    if (!match) {
      throw new CacheError(
        'INVALID_CONFIG',
        `${what} "${value}" is not a size (use bytes or "64mb")`,
      );
    }
    let unit = (match[2] ?? 'b').toLowerCase();
    if (unit.length === 1 && unit !== 'b') unit += 'b';
    bytes = Number(match[1]) * SIZE_UNITS[unit as keyof typeof SIZE_UNITS];
  } else {
    throw new CacheError(
      'INVALID_CONFIG',
      `${what} must be a number of bytes or a string like "64mb"`,
    );
  }
  if (!Number.isFinite(bytes) || bytes <= 0) {
    throw new CacheError('INVALID_CONFIG', `${what} must be a positive size, got ${String(value)}`);
  }
  return Math.floor(bytes);
}
