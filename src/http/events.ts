/**
 * Typed events of the HTTP cache, also published on `node:diagnostics_channel` as
 * `codeai-cache:http:<event>` (only when the channel has subscribers), through the same
 * emitter as the core's events: a throwing listener is reported as a process warning.
 */
import { Emitter } from '../core/emitter.js';
import { Meter } from '../core/meter.js';
import type { NotStoredReason } from './cacheability.js';

/** What the cache did with one request. */
export type XCache = 'HIT' | 'MISS' | 'STALE' | 'BYPASS';

/** Events `CachingMiddleware` emits; listen with `middleware.on(name, fn)`. */
export interface HttpCacheEvents {
  /** A response was written to the cache. */
  store: { key: string; bytes: number; ttlMs: number; tags: readonly string[] };
  /** A response was not stored, and why: exactly one per response the recorder saw. */
  skip: { key: string; reason: SkipReason };
  /** Tags were invalidated (after a write, or by `invalidateTags`). */
  invalidate: { tags: readonly string[] };
  /** A cache operation failed; the request was answered by the origin instead. */
  cacheError: { operation: string; key?: string; error: unknown };
}

/**
 * Why a response went unstored, decided once per response by the recorder (recorder.ts):
 * - the request: `credentials` (not explicitly shared, RFC 9111 §3.5), `request-no-store`,
 *   `head`, `precondition` (a non-2xx answer to `If-Match` / `If-Unmodified-Since`, RFC
 *   9110 §13.1.1, §13.1.4: it answers that request's preconditions, not the key's);
 * - the response (cacheability.ts, RFC 9111 §3): `status`, `no-store`, `private`,
 *   `set-cookie`, `vary-star`, `no-freshness`, `too-large`, `content-range` (a 206 whose
 *   ranges are not one understood `Content-Range`, §3.3), `trailers` (a `Trailer` field, or
 *   trailer fields sent, RFC 9110 §6.5: never stored, so never replayed without them);
 * - what happened: `stale-if-error` (a stale entry stood in for a 5xx), `origin-error` (a 5xx
 *   behind a stale must-revalidate entry, answered 504, §4.3.3), `cache-error` (no tag
 *   snapshot), `aborted` (the origin failed or the client went away mid-response),
 *   `incomplete` (the body did not match its `Content-Length`), `write-after-end`,
 *   `headers-twice` (the handler wrote past `end()` or sent a second head).
 */
export type SkipReason =
  | NotStoredReason
  | 'stale-if-error'
  | 'origin-error'
  | 'cache-error'
  | 'aborted'
  | 'incomplete'
  | 'write-after-end'
  | 'headers-twice';

/** An event name of {@link HttpCacheEvents}. */
export type HttpCacheEventName = keyof HttpCacheEvents;

/** The `node:diagnostics_channel` name an HTTP cache event is published on. */
export const httpChannelName = (event: HttpCacheEventName): string => `codeai-cache:http:${event}`;

const NAMES = [
  'store',
  'skip',
  'invalidate',
  'cacheError',
] as const satisfies readonly HttpCacheEventName[];

/** The HTTP cache's events, on the library's one emitter (core/emitter.ts). */
export class HttpEvents extends Emitter<HttpCacheEvents> {
  constructor() {
    super(NAMES, httpChannelName);
  }
}

/** Counters kept by a `CachingMiddleware` since it was created (`stats()`). */
export interface HttpCacheStats {
  /** Served from the cache (including requests coalesced onto another's response). */
  hits: number;
  /** Went to the origin with a cacheable request. */
  misses: number;
  /** Served stale (stale-while-revalidate or stale-if-error). */
  stale: number;
  /**
   * Went to the origin without the cache: by method (writes included), range, or credentials
   * the key does not cover when the response was not explicitly shared.
   */
  bypass: number;
  /** Hits that waited for a concurrent miss instead of calling the origin. */
  coalesced: number;
  /** Stale entries the origin confirmed with a 304 (served from the cache as `HIT`). */
  revalidated: number;
  /** Responses written to the cache. */
  stores: number;
  /** Tag invalidations issued (after writes or through `invalidateTags`). */
  invalidations: number;
  /** Cache operations that failed; each request was answered by the origin instead. */
  errors: number;
}

/** The HTTP middleware's meter: its counters and its events, on the library's one meter class. */
export type HttpMeter = Meter<HttpCacheStats, HttpCacheEvents>;

/** Every HTTP counter at zero. */
export const ZERO_HTTP_STATS: Readonly<HttpCacheStats> = {
  hits: 0,
  misses: 0,
  stale: 0,
  bypass: 0,
  coalesced: 0,
  revalidated: 0,
  stores: 0,
  invalidations: 0,
  errors: 0,
};

/** A fresh meter for one middleware. */
export function httpMeter(): HttpMeter {
  return new Meter<HttpCacheStats, HttpCacheEvents>({ ...ZERO_HTTP_STATS }, new HttpEvents());
}
