/**
 * Turning a stored response into what an adapter writes: the stored status, headers and body
 * bytes, plus `Age` (RFC 9111 §5.1), `X-Cache` and `Content-Length`; no body for HEAD
 * (RFC 9110 §9.3.2) and a 304 when the client's validators match (RFC 9111 §4.3.2).
 */
import { type Conditions, notModified, notModifiedHeaders } from './conditional.js';
import type { StoredResponse } from './entry.js';
import type { XCache } from './events.js';
import { currentAgeMs } from './freshness.js';
import type { FlatHeaders } from './headers.js';

/** A response ready to write: `headers` is flat and lowercase, `body` absent for HEAD and 304. */
export interface ReplayResponse {
  status: number;
  headers: FlatHeaders;
  body: Buffer | undefined;
  /**
   * The stored body even for HEAD, for frameworks that derive a HEAD's `Content-Length` from
   * the payload they are given and drop it themselves (Fastify). Absent for 204 and 304.
   */
  headBody: Buffer | undefined;
  xCache: XCache;
  /** Whether a field name occurs twice in `headers`. */
  repeatedNames: boolean;
}

/** How a stored response is being used. */
export interface ReplayOptions {
  xCache: XCache;
  head: boolean;
  conditions: Conditions | undefined;
  now: number;
  /** Send `Age` (served from storage); a response straight from the origin has none. */
  withAge: boolean;
}

/** Builds the response an adapter writes for a stored (or just-fetched) response. */
export function replay(stored: StoredResponse, options: ReplayOptions): ReplayResponse {
  if (
    options.conditions !== undefined &&
    notModified(options.conditions, stored.status, stored.headers)
  ) {
    const headers = notModifiedHeaders(stored.headers);
    if (options.withAge) headers.push('age', ageSeconds(stored, options.now));
    headers.push('x-cache', options.xCache);
    return {
      status: 304,
      headers,
      body: undefined,
      headBody: undefined,
      xCache: options.xCache,
      repeatedNames: stored.repeatedNames,
    };
  }
  const headers = stored.headers.slice();
  if (options.withAge) headers.push('age', ageSeconds(stored, options.now));
  headers.push('x-cache', options.xCache);
  // 204 and 304 never carry a body or Content-Length (RFC 9110 §8.6).
  if (stored.status !== 204 && stored.status !== 304) {
    headers.push('content-length', String(stored.body.length));
  }
  const bodyless = stored.status === 204 || stored.status === 304;
  return {
    status: stored.status,
    headers,
    body: options.head || bodyless ? undefined : stored.body,
    headBody: bodyless ? undefined : stored.body,
    xCache: options.xCache,
    repeatedNames: stored.repeatedNames,
  };
}

function ageSeconds(stored: StoredResponse, now: number): string {
  return String(Math.floor(currentAgeMs(stored.info, now) / 1000));
}
