/**
 * Revalidation with the origin (RFC 9111 §4.3): a stored response that may no longer be used
 * as is — stale, or `no-cache` — is not refetched blindly. The origin is asked with the
 * stored validators; a `304 Not Modified` then refreshes the stored headers (§4.3.4) and the
 * client gets the stored body, so `no-cache` responses cost the origin a 304, not a body.
 */
import type { StoredResponse } from './entry.js';
import { type FlatHeaders, formatHttpDate, getFlat } from './headers.js';

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
 * The stored headers updated from a 304 (RFC 9111 §3.2, §4.3.4): every field the 304 carries
 * replaces the stored one, except `Content-Length`, which describes the stored body. A 304
 * without `Date` gets `now`, as the origin's server would have stamped it.
 */
export function refreshedHeaders(
  stored: FlatHeaders,
  notModified: FlatHeaders,
  now: number,
): FlatHeaders {
  const incoming = new Set<string>();
  for (let i = 0; i < notModified.length; i += 2) {
    if (notModified[i] !== 'content-length') incoming.add(notModified[i]!);
  }
  incoming.add('date');
  const out: FlatHeaders = [];
  for (let i = 0; i < stored.length; i += 2) {
    if (!incoming.has(stored[i]!)) out.push(stored[i]!, stored[i + 1]!);
  }
  for (let i = 0; i < notModified.length; i += 2) {
    if (notModified[i] !== 'content-length') out.push(notModified[i]!, notModified[i + 1]!);
  }
  if (getFlat(notModified, 'date') === undefined) out.push('date', formatHttpDate(now));
  return out;
}
