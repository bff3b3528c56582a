/**
 * Stored partial content (RFC 9111 §3.3–§3.4, RFC 9110 §14, §15.3.7): what a `206` the
 * origin sent leaves in the cache, how later parts of the same representation are combined
 * with it, and when it may answer a request.
 *
 * Design. A partial entry is one stored response with status 206 whose body is the bytes
 * of the ranges it holds, in order, and whose {@link HeldParts} name those ranges and the
 * representation's complete length (taken from `Content-Range`; a 206 that does not state
 * the complete length, a `multipart/byteranges` one or another range unit is not stored —
 * §3.3: a cache stores partial content only when it understands its ranges). Its headers
 * are the representation's (the 206's, without `Content-Range`), so the entry reads like
 * the complete 200 with holes.
 *
 * - Use (§3.3): only a `Range` request whose one range lies wholly inside a held range is
 *   answered from it (206), or one whose range starts past the known length (416). Anything
 *   else — a plain GET, a HEAD, bytes not held, several ranges, an `If-Range` that does not
 *   match — goes to the origin, `Range` and all.
 * - Combining (§3.4, RFC 9110 §15.3.7.3): the origin's next 206 joins the entry when both
 *   carry the same strong validator (a strong `ETag`, else a strong `Last-Modified`, §8.8.1)
 *   and the same complete length; the combined entry takes the new response's header fields
 *   (the freshest statement about the representation). Otherwise the new part replaces the
 *   entry: the representation changed, and the old bytes must not be mixed with it.
 * - Completion (RFC 9110 §15.3.7.3): once the held ranges cover the whole representation,
 *   the entry is stored as the complete 200 it now is, and plain GETs are served from it.
 * - Bound: the held bytes of one entry never exceed the policy's `maxBodySize`; a part that
 *   would take them past it is not stored (the entry stays as it was).
 *
 * Left out on purpose: revalidating a stale partial entry (its Range simply goes to the
 * origin and the 206 is combined if the validator still matches), answering a request from
 * several held ranges at once, and fetching only the missing bytes of a request.
 */
import { Buffer } from 'node:buffer';
import type { StoredResponse } from './entry.js';
import { type FlatHeaders, getFlat, parseHttpDate } from './headers.js';
import {
  ifRangeMatches,
  type RangeAnswer,
  resolveRange,
  singleRange,
  strongMatch,
} from './range.js';

/** One held range of bytes, both ends inclusive. */
export type Span = readonly [start: number, end: number];

/** The ranges a stored 206 holds of a representation of `size` bytes. */
export interface HeldParts {
  /** The representation's complete length (`Content-Range: bytes a-b/size`). */
  readonly size: number;
  /** Sorted, disjoint and non-adjacent; the stored body is their bytes in this order. */
  readonly spans: readonly Span[];
}

/** One `Content-Range` (RFC 9110 §14.4) of a single-part 206. */
export interface ContentRange {
  readonly start: number;
  readonly end: number;
  readonly size: number;
}

const CONTENT_RANGE = /^bytes\s+(\d+)-(\d+)\/(\d+)$/i;

/**
 * Parses `Content-Range: bytes first-last/complete` (RFC 9110 §14.4). `undefined` for
 * anything this cache cannot combine: another unit, an unknown complete length (`*`), the
 * unsatisfied-range form a 416 carries, or a range that does not fit the length.
 */
export function parseContentRange(value: string | undefined): ContentRange | undefined {
  if (value === undefined) return undefined;
  const m = CONTENT_RANGE.exec(value.trim());
  if (m === null) return undefined;
  const start = Number(m[1]);
  const end = Number(m[2]);
  const size = Number(m[3]);
  if (!Number.isSafeInteger(size) || end < start || end >= size) return undefined;
  return { start, end, size };
}

/** The `Content-Range` values that describe held parts in the stored header block (entry.ts). */
export function contentRanges(parts: HeldParts): string[] {
  return parts.spans.map(([start, end]) => `bytes ${start}-${end}/${parts.size}`);
}

/** Reads back {@link contentRanges}; `undefined` when they are not a valid set for `bodyLength` bytes. */
export function heldPartsOf(values: readonly string[], bodyLength: number): HeldParts | undefined {
  const spans: Span[] = [];
  let size: number | undefined;
  let held = 0;
  for (const value of values) {
    const range = parseContentRange(value);
    if (range === undefined || (size !== undefined && range.size !== size)) return undefined;
    const previous = spans.at(-1);
    if (previous !== undefined && range.start <= previous[1] + 1) return undefined;
    size = range.size;
    spans.push([range.start, range.end]);
    held += range.end - range.start + 1;
  }
  if (size === undefined || held !== bodyLength) return undefined;
  return { size, spans };
}

/**
 * How a partial entry answers a request's `range` / `ifRange`: a 206 for a range wholly
 * inside one held range, a 416 for one past the known length (RFC 9110 §14.1.1), or
 * `undefined` — not from this entry, ask the origin (RFC 9111 §3.3).
 */
export function heldAnswer(
  parts: HeldParts,
  headers: FlatHeaders,
  range: string | undefined,
  ifRange: string | undefined,
): Exclude<RangeAnswer, { kind: 'full' }> | undefined {
  if (range === undefined) return undefined;
  // RFC 9110 §13.1.5: a non-matching If-Range asks for the whole representation.
  if (ifRange !== undefined && !ifRangeMatches(ifRange, headers)) return undefined;
  const spec = singleRange(range);
  if (spec === undefined) return undefined;
  const answer = resolveRange(spec, parts.size);
  if (answer.kind === 'unsatisfiable') return answer;
  for (const [start, end] of parts.spans) {
    if (answer.start >= start && answer.end <= end) return answer;
  }
  return undefined;
}

/** Bytes `start`–`end` of the representation, from a body holding `parts` (they must be held). */
export function heldSlice(parts: HeldParts, body: Buffer, start: number, end: number): Buffer {
  let offset = 0;
  for (const [from, to] of parts.spans) {
    if (start >= from && end <= to) {
      return body.subarray(offset + start - from, offset + end - from + 1);
    }
    offset += to - from + 1;
  }
  return body.subarray(0, 0);
}

/** The parts a stored response holds: all of it for a complete one. */
function partsOf(stored: StoredResponse): HeldParts {
  return stored.parts ?? { size: stored.body.length, spans: [[0, stored.body.length - 1]] };
}

/**
 * Whether two responses are the same representation, so their parts may be combined
 * (RFC 9111 §3.4, RFC 9110 §15.3.7.3): the same complete length and the same strong
 * validator — a strong `ETag` on both, character for character (§8.8.3.2); without ETags,
 * the same `Last-Modified`, strong on both (at least a second older than their `Date`,
 * §8.8.2.2). A weak ETag or a missing validator never combines.
 */
export function sameRepresentation(
  stored: StoredResponse,
  incoming: FlatHeaders,
  size: number,
): boolean {
  if (partsOf(stored).size !== size) return false;
  const mine = getFlat(stored.headers, 'etag');
  const theirs = getFlat(incoming, 'etag');
  if (mine !== undefined || theirs !== undefined) {
    return mine !== undefined && theirs !== undefined && strongMatch(mine, theirs);
  }
  const lastModified = getFlat(stored.headers, 'last-modified');
  return (
    lastModified !== undefined &&
    lastModified === getFlat(incoming, 'last-modified') &&
    strongDate(stored.headers) &&
    strongDate(incoming)
  );
}

/** RFC 9110 §8.8.2.2: a `Last-Modified` at least one second before the response's `Date` is strong. */
function strongDate(headers: FlatHeaders): boolean {
  const lastModified = parseHttpDate(getFlat(headers, 'last-modified'));
  const date = parseHttpDate(getFlat(headers, 'date'));
  return lastModified !== undefined && date !== undefined && date - lastModified >= 1000;
}

/** Held parts and the body holding them. */
export interface Held {
  readonly parts: HeldParts;
  readonly body: Buffer;
}

/**
 * The union of a stored response's parts and a new part (RFC 9110 §15.3.7.3: "the union of
 * partial content ranges"), or `undefined` when it would hold more than `maxBytes`. Both
 * are of the same representation (see {@link sameRepresentation}), so overlapping bytes are
 * the same bytes.
 */
export function combine(
  stored: StoredResponse | undefined,
  part: ContentRange,
  bytes: Buffer,
  maxBytes: number,
): Held | undefined {
  const pieces: { start: number; end: number; bytes: Buffer }[] = [];
  if (stored !== undefined) {
    const held = partsOf(stored);
    let offset = 0;
    for (const [start, end] of held.spans) {
      const length = end - start + 1;
      pieces.push({ start, end, bytes: stored.body.subarray(offset, offset + length) });
      offset += length;
    }
  }
  pieces.push({ start: part.start, end: part.end, bytes });
  pieces.sort((a, b) => a.start - b.start);
  const spans: [number, number][] = [];
  const runs: Buffer[][] = [];
  let total = 0;
  for (const piece of pieces) {
    const last = spans.at(-1);
    if (last !== undefined && piece.start <= last[1] + 1) {
      // Overlapping or adjacent: extend the current span with the bytes past its end.
      if (piece.end > last[1]) {
        const tail = piece.bytes.subarray(last[1] + 1 - piece.start);
        runs.at(-1)!.push(tail);
        total += tail.length;
        last[1] = piece.end;
      }
    } else {
      spans.push([piece.start, piece.end]);
      runs.push([piece.bytes]);
      total += piece.bytes.length;
    }
    if (total > maxBytes) return undefined;
  }
  const body = Buffer.concat(runs.flat(), total);
  return { parts: { size: part.size, spans }, body };
}

/** Whether held parts are the whole representation (RFC 9110 §15.3.7.3: then a complete 200). */
export function isComplete(parts: HeldParts): boolean {
  const only = parts.spans.length === 1 ? parts.spans[0]! : undefined;
  return only !== undefined && only[0] === 0 && only[1] === parts.size - 1;
}
