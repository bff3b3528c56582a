import { Buffer } from 'node:buffer';
import { type Duration, parseDuration } from './duration.js';
import { CacheError } from './errors.js';
import type { CacheValue } from './types.js';

/**
 * Rejects anything but a non-empty, well-formed string key, before any I/O. A lone UTF-16
 * surrogate has no UTF-8 form: Redis would store it as U+FFFD, so `"\ud800"` and `"\ufffd"`
 * would be one key on Redis and two in memory, and `keys()` would read it back changed.
 */
export function assertKey(key: unknown, what = 'key'): asserts key is string {
  if (typeof key !== 'string') {
    throw new CacheError('INVALID_ARGUMENT', `${what} must be a string, got ${describe(key)}`);
  }
  if (key.length === 0) {
    throw new CacheError('INVALID_ARGUMENT', `${what} must not be empty`);
  }
  if (!(key as unknown as WellFormedCheck).isWellFormed()) {
    throw new CacheError(
      'INVALID_ARGUMENT',
      `${what} must be well-formed text: it holds a lone UTF-16 surrogate, which has no UTF-8 form`,
    );
  }
}

/** `String.prototype.isWellFormed` (ES2024, in every Node ≥ 20; our `lib` is ES2023). */
interface WellFormedCheck {
  isWellFormed(): boolean;
}

/** Rejects anything but an array of valid keys. */
export function assertKeys(keys: unknown, what = 'keys'): asserts keys is readonly string[] {
  if (!Array.isArray(keys)) {
    throw new CacheError('INVALID_ARGUMENT', `${what} must be an array of strings`);
  }
  for (let i = 0; i < keys.length; i++) assertKey(keys[i], `${what}[${i}]`);
}

/**
 * Rejects anything but an array of valid keys as tags, at most {@link MAX_TAGS} of them, each
 * at most {@link MAX_TAG_BYTES} bytes of UTF-8: the envelope stores both as 16-bit numbers.
 */
export function assertTags(tags: unknown): asserts tags is readonly string[] {
  assertKeys(tags, 'tags');
  if (tags.length > MAX_TAGS) {
    throw new CacheError('INVALID_ARGUMENT', `at most ${MAX_TAGS} tags, got ${tags.length}`);
  }
  for (let i = 0; i < tags.length; i++) {
    const tag = tags[i]!;
    // A UTF-16 unit is at most 3 UTF-8 bytes, so only long tags need counting.
    if (tag.length * 3 > MAX_TAG_BYTES && Buffer.byteLength(tag, 'utf8') > MAX_TAG_BYTES) {
      throw new CacheError(
        'INVALID_ARGUMENT',
        `tags[${i}] must be at most ${MAX_TAG_BYTES} bytes of UTF-8, got ${Buffer.byteLength(tag, 'utf8')}`,
      );
    }
  }
}

/** The most tags one entry carries (the envelope's tag count is 16-bit). */
export const MAX_TAGS = 0xffff;
/** The longest tag in UTF-8 bytes (the envelope's tag length is 16-bit). */
export const MAX_TAG_BYTES = 0xffff;

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

/**
 * The bytes of a value: strings as UTF-8; Uint8Arrays copied so the caller can't reach the
 * stored bytes. A string with a lone UTF-16 surrogate is refused: UTF-8 would store it as
 * U+FFFD and read back another string.
 */
export function toBytes(value: CacheValue): Buffer {
  if (typeof value === 'string') {
    if (!(value as unknown as WellFormedCheck).isWellFormed()) {
      throw new CacheError(
        'INVALID_ARGUMENT',
        'a string value must be well-formed text: it holds a lone UTF-16 surrogate, which has no UTF-8 form (store bytes, or use setJSON)',
      );
    }
    return Buffer.from(value, 'utf8');
  }
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
