/**
 * Revalidation with the origin (RFC 9111 §4.3): a stored response that may no longer be used
 * as is — stale, or `no-cache` — is not refetched blindly. The origin is asked with the
 * stored validators; a `304 Not Modified` then refreshes the stored headers (§4.3.4) and the
 * client gets the stored body, so `no-cache` responses cost the origin a 304, not a body.
 */
import type { StoredResponse } from './entry.js';
import {
  CONNECTION_FIELDS,
  type FlatHeaders,
  formatHttpDate,
  getFlat,
  getFlatJoined,
} from './headers.js';

/**
 * Whether a response can be revalidated (RFC 9111 §4.3.1): a complete 200 with an `ETag` or
 * a `Last-Modified`. Such a response is stored even with no freshness at all — the common
 * `ETag`-only answer of many frameworks — and kept past its freshness, so that its next use
 * costs the origin a 304 rather than the body.
 */
export function hasValidator(status: number, headers: FlatHeaders): boolean {
  return (
    status === 200 &&
    (getFlat(headers, 'etag') !== undefined || getFlat(headers, 'last-modified') !== undefined)
  );
}

/** The conditional header fields to send the origin for `stored`, or `undefined` when it has no validator. */
export function validatorsOf(stored: StoredResponse): FlatHeaders | undefined {
  // Only a complete 200 can be completed by a 304.
  if (stored.status !== 200) return undefined;
  const out: FlatHeaders = [];
  const etag = getFlat(stored.headers, 'etag');
  if (etag !== undefined) out.push('if-none-match', etag);
  const lastModified = getFlat(stored.headers, 'last-modified');
  if (lastModified !== undefined) out.push('if-modified-since', lastModified);
  return out.length > 0 ? out : undefined;
}

/**
 * Fields a 304 never changes in the stored response (RFC 9111 §3.2): connection-specific
 * ones (§3.1, RFC 9110 §7.6.1), `Content-Length`, and `Content-Encoding`, which the stored
 * bytes depend on (§3.2 lets a cache keep the fields its stored response depends upon).
 */
const NOT_UPDATED = new Set([
  ...CONNECTION_FIELDS,
  'content-length',
  'content-encoding',
  'age',
  'x-cache',
]);

/**
 * The stored headers updated from a 304 (RFC 9111 §3.2, §4.3.4): every field the 304 carries
 * replaces the stored one, except those in {@link NOT_UPDATED} and those the 304's own
 * `Connection` names. A 304 without `Date` gets `now`, as the origin's server would have
 * stamped it.
 */
export function refreshedHeaders(
  stored: FlatHeaders,
  notModified: FlatHeaders,
  now: number,
): FlatHeaders {
  const skip = new Set(NOT_UPDATED);
  for (const token of (getFlatJoined(notModified, 'connection') ?? '').split(',')) {
    const name = token.trim().toLowerCase();
    if (name.length > 0) skip.add(name);
  }
  const updates: FlatHeaders = [];
  for (let i = 0; i < notModified.length; i += 2) {
    if (!skip.has(notModified[i]!)) updates.push(notModified[i]!, notModified[i + 1]!);
  }
  const incoming = new Set<string>(['date']);
  for (let i = 0; i < updates.length; i += 2) incoming.add(updates[i]!);
  const out: FlatHeaders = [];
  for (let i = 0; i < stored.length; i += 2) {
    if (!incoming.has(stored[i]!)) out.push(stored[i]!, stored[i + 1]!);
  }
  for (const v of updates) out.push(v);
  if (getFlat(notModified, 'date') === undefined) out.push('date', formatHttpDate(now));
  return out;
}
