/**
 * Byte ranges (RFC 9110 §14) served from a complete stored response: a single range or a
 * suffix range gets `206 Partial Content` with `Content-Range` and the slice (§15.3.7), a
 * range that starts past the end gets `416 Range Not Satisfiable` (§15.5.17), and anything
 * else — no `Range`, an unknown unit, a malformed or multiple range set, an `If-Range` that
 * does not match — gets the full response, which a server may always send instead (§14.2).
 *
 * Several ranges are answered with the full response rather than `multipart/byteranges`:
 * it is always correct, and clients asking for several ranges of a cached object are rare.
 */
import { type FlatHeaders, getFlat } from './headers.js';
import { parseHttpDate } from './http-date.js';

/** What to send for a request's `Range` against a stored response. */
export type RangeAnswer =
  | { readonly kind: 'full' }
  /** Bytes `start` to `end`, both inclusive, of a representation of `size` bytes. */
  | {
      readonly kind: 'partial';
      readonly start: number;
      readonly end: number;
      readonly size: number;
    }
  | { readonly kind: 'unsatisfiable'; readonly size: number };

const FULL: RangeAnswer = Object.freeze({ kind: 'full' });

/** `first-pos "-" [ last-pos ]` or `"-" suffix-length` (§14.1.2), one range-spec. */
const RANGE_SPEC = /^(\d*)-(\d*)$/;

/**
 * One byte range of a request, before the representation's length applies: an int-range
 * (`last` absent for "to the end") or a suffix-range of `suffix` bytes (RFC 9110 §14.1.2).
 */
export type RangeSpec =
  | { readonly first: number; readonly last: number | undefined }
  | { readonly suffix: number };

/**
 * The request's `Range` as one byte range, or `undefined` when it is anything else (an
 * unknown unit, a malformed set, several ranges, a last-pos before its first-pos), which a
 * server may answer by ignoring the field (§14.2).
 */
export function singleRange(range: string): RangeSpec | undefined {
  const eq = range.indexOf('=');
  // §14.1: the range unit is case-insensitive; only `bytes` is known here.
  if (eq === -1 || range.slice(0, eq).trim().toLowerCase() !== 'bytes') return undefined;
  const specs = range
    .slice(eq + 1)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (specs.length !== 1) return undefined;
  const m = RANGE_SPEC.exec(specs[0]!);
  if (m === null || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') return { suffix: Number(m[2]) };
  const first = Number(m[1]);
  const last = m[2] === '' ? undefined : Number(m[2]);
  // §14.1.2: a last-pos before first-pos makes the range-spec invalid (not unsatisfiable).
  if (last !== undefined && last < first) return undefined;
  return { first, last };
}

/** A byte range against a representation of `size` (> 0) bytes: the bytes, or 416 (§14.1.1). */
export function resolveRange(
  spec: RangeSpec,
  size: number,
): Exclude<RangeAnswer, { kind: 'full' }> {
  if ('suffix' in spec) {
    // suffix-range: the last N bytes; all of them when N exceeds the length (§14.1.2).
    if (spec.suffix === 0) return { kind: 'unsatisfiable', size };
    return { kind: 'partial', start: Math.max(0, size - spec.suffix), end: size - 1, size };
  }
  // §14.1.1: an int-range is satisfiable when first-pos is below the length.
  if (spec.first >= size) return { kind: 'unsatisfiable', size };
  return {
    kind: 'partial',
    start: spec.first,
    end: Math.min(spec.last ?? size - 1, size - 1),
    size,
  };
}

/**
 * Decides how to answer `range` (the request's `Range` field) from a stored response with
 * `status`, `headers` and a body of `size` bytes. `ifRange` is the request's `If-Range`.
 */
export function rangeAnswer(
  range: string | undefined,
  ifRange: string | undefined,
  status: number,
  headers: FlatHeaders,
  size: number,
): RangeAnswer {
  // §14.2: Range applies to a complete 200 representation; an empty one has no byte to send.
  if (range === undefined || status !== 200 || size === 0) return FULL;
  // §13.1.5: a validator that does not match means "send me the whole thing".
  if (ifRange !== undefined && !ifRangeMatches(ifRange, headers)) return FULL;
  const spec = singleRange(range);
  return spec === undefined ? FULL : resolveRange(spec, size);
}

/**
 * `If-Range` (RFC 9110 §13.1.5): an entity-tag matches the stored `ETag` by strong comparison
 * (§8.8.3.2: neither may be weak); an HTTP-date matches the stored `Last-Modified` exactly,
 * and only when that is a strong validator — at least one second older than the stored
 * `Date` (§8.8.2.2).
 */
export function ifRangeMatches(ifRange: string, headers: FlatHeaders): boolean {
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) {
    const etag = getFlat(headers, 'etag');
    return etag !== undefined && strongMatch(value, etag);
  }
  const since = parseHttpDate(value);
  const lastModified = parseHttpDate(getFlat(headers, 'last-modified'));
  const date = parseHttpDate(getFlat(headers, 'date'));
  if (since === undefined || lastModified === undefined || since !== lastModified) return false;
  return date !== undefined && date - lastModified >= 1000;
}

/** Strong comparison (RFC 9110 §8.8.3.2): both strong and character for character equal. */
export function strongMatch(a: string, b: string): boolean {
  return !a.startsWith('W/') && !b.startsWith('W/') && a.trim() === b.trim();
}

/** The `Content-Range` value for an answer (RFC 9110 §14.4). */
export function contentRange(answer: Exclude<RangeAnswer, { kind: 'full' }>): string {
  return answer.kind === 'partial'
    ? `bytes ${answer.start}-${answer.end}/${answer.size}`
    : `bytes */${answer.size}`;
}
