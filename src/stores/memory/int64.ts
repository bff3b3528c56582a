/**
 * Redis's integer rules for `INCRBY`, on the stored bytes.
 *
 * Redis parses a value with `string2ll`: it accepts exactly the canonical decimal form of
 * a signed 64-bit integer — `0`, or an optional `-` then a digit 1–9 then digits, at most
 * 20 bytes, within [-2^63, 2^63 - 1]. So `+1`, `01`, `-0`, ` 1`, `1.0` and the empty string
 * are not integers, and neither is anything that overflows.
 */
import { CacheError } from '../../core/errors.js';

/** The smallest signed 64-bit integer. */
export const INT64_MIN = -(2n ** 63n);
/** The largest signed 64-bit integer. */
export const INT64_MAX = 2n ** 63n - 1n;

const ZERO = 0x30;
const ONE = 0x31;
const NINE = 0x39;
const MINUS = 0x2d;

/**
 * The integer stored bytes spell (given as a latin1 string, one char per byte), or
 * `undefined` when Redis would say "not an integer".
 */
export function parseInt64(bytes: string): bigint | undefined {
  const n = bytes.length;
  if (n === 0 || n > 20) return undefined;
  if (bytes === '0') return 0n;
  const negative = bytes.charCodeAt(0) === MINUS;
  const first = bytes.charCodeAt(negative ? 1 : 0);
  // NaN (a lone "-") fails both comparisons.
  if (!(first >= ONE && first <= NINE)) return undefined;
  for (let i = negative ? 2 : 1; i < n; i++) {
    const b = bytes.charCodeAt(i);
    if (b < ZERO || b > NINE) return undefined;
  }
  const value = BigInt(bytes);
  return value < INT64_MIN || value > INT64_MAX ? undefined : value;
}

/** `current + by`, rejecting a sum outside int64 as Redis does ("would overflow"). */
export function addInt64(current: bigint, by: bigint): bigint {
  const sum = current + by;
  if (sum < INT64_MIN || sum > INT64_MAX) {
    throw new CacheError(
      'OVERFLOW',
      `increment or decrement would overflow: ${current} + ${by} is outside the signed 64-bit range`,
    );
  }
  return sum;
}

/** The canonical decimal form of `value` (ASCII, so also its latin1 byte string). */
export function encodeInt64(value: bigint): string {
  return value.toString();
}
