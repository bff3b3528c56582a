import { type Duration, parseDuration } from './duration.js';
import { CacheError } from './errors.js';
import type { CacheValue } from './types.js';

/** Rejects anything but a non-empty string key, before any I/O. */
export function assertKey(key: unknown, what = 'key'): asserts key is string {
  if (typeof key !== 'string') {
    throw new CacheError('INVALID_ARGUMENT', `${what} must be a string, got ${describe(key)}`);
  }
  if (key.length === 0) {
    throw new CacheError('INVALID_ARGUMENT', `${what} must not be empty`);
  }
}

/** Rejects anything but an array of valid keys. */
export function assertKeys(keys: unknown, what = 'keys'): asserts keys is readonly string[] {
  if (!Array.isArray(keys)) {
    throw new CacheError('INVALID_ARGUMENT', `${what} must be an array of strings`);
  }
  for (let i = 0; i < keys.length; i++) assertKey(keys[i], `${what}[${i}]`);
}

/** Rejects anything but an array of non-empty tag strings. */
export function assertTags(tags: unknown): asserts tags is readonly string[] {
  assertKeys(tags, 'tags');
}

/** Rejects a non-string glob pattern (an empty pattern matches only the empty key: nothing). */
export function assertPattern(pattern: unknown): asserts pattern is string {
  if (typeof pattern !== 'string') {
    throw new CacheError('INVALID_ARGUMENT', `pattern must be a string, got ${describe(pattern)}`);
  }
}

/**
 * Resolves a per-call TTL to whole milliseconds: omitted or 0 means `defaultMs`, and
 * `undefined` as the result means no expiry. Fractions round up so "1.5ms" never means 1 ms.
 */
export function resolveTtl(
  ttl: Duration | undefined,
  defaultMs: number | undefined,
): number | undefined {
  if (ttl === undefined) return defaultMs;
  const ms = parseDuration(ttl, 'ttl');
  if (ms === 0) return defaultMs;
  if (ms > MAX_TTL_MS) {
    throw new CacheError('INVALID_TTL', `ttl must be at most ${MAX_TTL_MS} ms, got ${ms}`);
  }
  return Math.ceil(ms);
}

/** About 285 000 years: far beyond any real TTL, safely inside Redis's PX range. */
export const MAX_TTL_MS = 2 ** 53;

/** The bytes of a value: strings as UTF-8; Uint8Arrays copied so the caller can't reach the stored bytes. */
export function toBytes(value: CacheValue): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return Buffer.from(value);
  throw new CacheError(
    'INVALID_ARGUMENT',
    `value must be a string or a Uint8Array (use setJSON for objects), got ${describe(value)}`,
  );
}

/** Rejects an increment that is not a safe integer. */
export function toIncrement(by: unknown): bigint {
  if (typeof by !== 'number' || !Number.isSafeInteger(by)) {
    throw new CacheError(
      'INVALID_ARGUMENT',
      `increment must be a safe integer, got ${describe(by)}`,
    );
  }
  return BigInt(by);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return String(value);
  return typeof value;
}
