/**
 * Answering conditional requests from a stored response (RFC 9110 §13, RFC 9111 §4.3.2): a
 * matching `If-None-Match` (or, without one, an `If-Modified-Since` no older than the stored
 * `Last-Modified`) gets `304 Not Modified` instead of the body.
 */
import { type FlatHeaders, getFlat, type HeaderGetter, parseHttpDate } from './headers.js';

/** The client's validators, read once per request. */
export interface Conditions {
  ifNoneMatch: string | undefined;
  ifModifiedSince: string | undefined;
}

/** Reads the request's validators; `undefined` when it has none (the common case). */
export function readConditions(header: HeaderGetter): Conditions | undefined {
  const ifNoneMatch = header('if-none-match');
  const ifModifiedSince = header('if-modified-since');
  if (ifNoneMatch === undefined && ifModifiedSince === undefined) return undefined;
  return { ifNoneMatch, ifModifiedSince };
}

/** True when the stored response satisfies the client's validators, i.e. the answer is 304. */
export function notModified(conditions: Conditions, status: number, headers: FlatHeaders): boolean {
  // A 304 stands for a 200 representation; other stored statuses are replayed as they are.
  if (status !== 200) return false;
  if (conditions.ifNoneMatch !== undefined) {
    // RFC 9110 §13.2.2: If-None-Match takes precedence; If-Modified-Since is then ignored.
    const etag = getFlat(headers, 'etag');
    return etag !== undefined && etagListMatches(conditions.ifNoneMatch, etag);
  }
  if (conditions.ifModifiedSince !== undefined) {
    const since = parseHttpDate(conditions.ifModifiedSince);
    const lastModified = parseHttpDate(getFlat(headers, 'last-modified'));
    // §13.1.3: an invalid date is ignored; the resource is "not modified" when its
    // Last-Modified is no later than the date the client holds.
    return since !== undefined && lastModified !== undefined && lastModified <= since;
  }
  return false;
}

/** Weak comparison (RFC 9110 §8.8.3.2) of a stored ETag against an `If-None-Match` list. */
export function etagListMatches(list: string, etag: string): boolean {
  const trimmed = list.trim();
  if (trimmed === '*') return true;
  const target = opaque(etag);
  for (const candidate of trimmed.split(',')) {
    if (opaque(candidate.trim()) === target) return true;
  }
  return false;
}

function opaque(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}

/**
 * Fields a 304 carries (RFC 9110 §15.4.5): the ones that would have been sent with the 200
 * and that describe caching, so the client can update what it holds.
 */
const NOT_MODIFIED_FIELDS = new Set([
  'cache-control',
  'content-location',
  'date',
  'etag',
  'expires',
  'vary',
  'last-modified',
]);

/** The subset of stored headers a 304 replays. */
export function notModifiedHeaders(headers: FlatHeaders): FlatHeaders {
  const out: FlatHeaders = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if (NOT_MODIFIED_FIELDS.has(name)) out.push(name, headers[i + 1] as string);
  }
  return out;
}
