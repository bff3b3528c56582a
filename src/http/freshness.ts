/**
 * Freshness and age (RFC 9111 §4.2), computed once when a response is stored and checked in
 * O(1) on each use. All times are epoch milliseconds from the middleware's injected clock.
 */
import { type Directives, deltaSecondsMs, MAX_DELTA_SECONDS } from './cache-control.js';
import { parseHttpDate } from './http-date.js';

/** What a stored response needs to answer "may I use you now?". */
export interface FreshnessInfo {
  /** When the response was received (`response_time`). */
  responseTime: number;
  /** `corrected_initial_age` (RFC 9111 §4.2.3), in ms. */
  initialAgeMs: number;
  /** Freshness lifetime in ms; 0 means stale from the start. */
  lifetimeMs: number;
  /** How long past its lifetime it may be served while one refresh runs (RFC 5861 §3). */
  swrMs: number;
  /** How long past its lifetime it may be served when the origin fails (RFC 5861 §4). */
  sieMs: number;
  /** `no-cache` (unqualified): every use needs validation (RFC 9111 §5.2.2.4). */
  noCache: boolean;
  /**
   * `must-revalidate`, `proxy-revalidate` or `s-maxage`: once stale, never served without a
   * successful revalidation, whatever the request's `max-stale` (RFC 9111 §5.2.2.2, §5.2.2.8,
   * §5.2.2.10). Absent reads as false.
   */
  mustRevalidate?: boolean;
  /** `immutable` (RFC 8246): while fresh, a client's reload does not reach the origin. */
  immutable?: boolean;
}

/** The response fields freshness depends on. */
export interface FreshnessInput {
  directives: Directives;
  /** The response's status, for heuristic freshness (RFC 9111 §4.2.2). Default 200. */
  status?: number;
  date: number | undefined;
  /**
   * Every `Expires` field line, comma-joined (a date has commas of its own, so two lines read
   * as one invalid value: stale, as §4.2.1 allows for duplicates). `undefined` when absent,
   * or when a targeted field replaces `Cache-Control` and `Expires` (RFC 9213 §2.1).
   */
  expires: string | undefined;
  /** Every `Age` field line, comma-joined; only the first member counts (§5.1). */
  age: string | undefined;
  /** `Last-Modified`, parsed; the basis of heuristic freshness (§4.2.2). */
  lastModified?: number | undefined;
  requestTime: number;
  responseTime: number;
  /** The policy's lifetime for responses that state none (a heuristic, RFC 9111 §4.2.2). */
  defaultTtlMs: number | undefined;
  /** Policy switch or default window for `stale-while-revalidate` (ms; `true` = origin's only). */
  staleWhileRevalidate: boolean | number;
  /** Policy switch or default window for `stale-if-error`. */
  staleIfError: boolean | number;
}

/**
 * Status codes that are "heuristically cacheable" (RFC 9110 §15.1): a cache may give them a
 * heuristic freshness lifetime when the origin states none.
 */
export const HEURISTICALLY_CACHEABLE: ReadonlySet<number> = new Set([
  200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501,
]);

/**
 * Heuristic freshness (RFC 9111 §4.2.2): a tenth of the time since `Last-Modified` — the
 * "typical setting" the RFC names — and at most a day, so a page unchanged for years is
 * still rechecked daily.
 */
export const HEURISTIC_FRACTION = 0.1;
export const HEURISTIC_MAX_MS = 24 * 60 * 60 * 1000;

/**
 * How long an entry with a validator (`ETag` / `Last-Modified`) is kept past its freshness
 * (and stale windows), so that it can be revalidated with a 304 instead of refetched
 * (RFC 9111 §4.3). An `ETag`-only response with no freshness at all is kept this long too.
 */
export const REVALIDATION_KEEP_MS = 60 * 60 * 1000;

/** The freshness lifetime the origin stated (§4.2.1), or `undefined` when it stated none. */
export function explicitLifetimeMs(
  directives: Directives,
  expires: string | undefined,
  date: number | undefined,
  responseTime: number,
): number | undefined {
  // §4.2.1: a shared cache prefers s-maxage, then max-age, then Expires − Date.
  const lifetime = deltaSecondsMs(directives, 's-maxage') ?? deltaSecondsMs(directives, 'max-age');
  if (lifetime !== undefined || expires === undefined) return lifetime;
  // §5.3: an invalid Expires ("0", a near-miss of the three date forms, several lines)
  // means already expired. Date.parse would read many of those as a date.
  const at = parseHttpDate(expires, responseTime);
  return at === undefined ? 0 : Math.max(0, at - (date ?? responseTime));
}

/** Computes the freshness of a response about to be stored. */
export function computeFreshness(input: FreshnessInput): FreshnessInfo {
  const cc = input.directives;
  let lifetimeMs = explicitLifetimeMs(cc, input.expires, input.date, input.responseTime);
  // The policy ttl stands in only where the origin said nothing (DESIGN §5).
  if (lifetimeMs === undefined) lifetimeMs = input.defaultTtlMs;
  if (lifetimeMs === undefined) lifetimeMs = heuristicLifetimeMs(input);

  // §4.2.3 age calculation.
  const dateValue = input.date ?? input.responseTime;
  const ageMs = ageValueMs(input.age) ?? 0;
  const apparentAge = Math.max(0, input.responseTime - dateValue);
  const responseDelay = Math.max(0, input.responseTime - input.requestTime);
  const initialAgeMs = Math.max(apparentAge, ageMs + responseDelay);

  // §4.2.4 / §5.2.2.2 / §5.2.2.8 / §5.2.2.10: must-revalidate, proxy-revalidate and s-maxage
  // forbid serving stale.
  const mustRevalidate =
    cc['must-revalidate'] !== undefined ||
    cc['proxy-revalidate'] !== undefined ||
    cc['s-maxage'] !== undefined;
  return {
    responseTime: input.responseTime,
    initialAgeMs,
    lifetimeMs,
    swrMs: mustRevalidate
      ? 0
      : staleWindow(cc, 'stale-while-revalidate', input.staleWhileRevalidate),
    sieMs: mustRevalidate ? 0 : staleWindow(cc, 'stale-if-error', input.staleIfError),
    noCache: cc['no-cache'] === true,
    mustRevalidate,
    immutable: cc.immutable !== undefined,
  };
}

/**
 * §4.2.2: with no explicit lifetime, a heuristically cacheable status with `Last-Modified`
 * gets {@link HEURISTIC_FRACTION} of its age, at most {@link HEURISTIC_MAX_MS}; else 0.
 */
function heuristicLifetimeMs(input: FreshnessInput): number {
  if (input.lastModified === undefined) return 0;
  if (!HEURISTICALLY_CACHEABLE.has(input.status ?? 200)) return 0;
  const since = (input.date ?? input.responseTime) - input.lastModified;
  return Math.min(HEURISTIC_MAX_MS, Math.max(0, Math.floor(since * HEURISTIC_FRACTION)));
}

/**
 * The `Age` value in ms (RFC 9111 §5.1): the first member of a list or of repeated lines;
 * `undefined` (ignored) when that is not a non-negative integer.
 */
export function ageValueMs(age: string | undefined): number | undefined {
  if (age === undefined) return undefined;
  const comma = age.indexOf(',');
  const first = (comma === -1 ? age : age.slice(0, comma)).trim();
  if (!/^\d+$/.test(first)) return undefined;
  return Math.min(Number(first), MAX_DELTA_SECONDS) * 1000;
}

function staleWindow(cc: Directives, name: string, policy: boolean | number): number {
  if (policy === false) return 0;
  const origin = deltaSecondsMs(cc, name);
  if (origin !== undefined) return origin;
  return typeof policy === 'number' ? policy : 0;
}

/** `current_age` (RFC 9111 §4.2.3) at `now`, in ms. */
export function currentAgeMs(info: FreshnessInfo, now: number): number {
  return info.initialAgeMs + Math.max(0, now - info.responseTime);
}

/**
 * How long the store should keep the entry: its remaining freshness plus any stale window,
 * plus {@link REVALIDATION_KEEP_MS} when it has a validator (`validatable`), so a stale entry
 * is still there to be revalidated.
 */
export function storageTtlMs(info: FreshnessInfo, now: number, validatable = false): number {
  const remaining = info.lifetimeMs - currentAgeMs(info, now);
  const staleWindow = Math.max(info.swrMs, info.sieMs);
  const kept = Math.max(0, remaining) + (remaining > 0 || staleWindow > 0 ? staleWindow : 0);
  return validatable ? Math.max(0, remaining) + Math.max(staleWindow, REVALIDATION_KEEP_MS) : kept;
}

/**
 * What a request may do with a stored response: use it (`fresh`), use it while one refresh
 * runs (`stale-while-revalidate`), use it stale because the request accepts that
 * (`max-stale`, RFC 9111 §5.2.1.2), or not without the origin (`stale`).
 */
export type Usability = 'fresh' | 'stale-while-revalidate' | 'max-stale' | 'stale';

/** The request directives that narrow or widen reuse (RFC 9111 §5.2.1). */
export interface RequestFreshness {
  maxAgeMs: number | undefined;
  minFreshMs: number | undefined;
  /**
   * §5.2.1.2: how far past its lifetime a response may be; `Infinity` for `max-stale`
   * without a value; `undefined` when absent.
   */
  maxStaleMs?: number | undefined;
  noCache: boolean;
  /** §5.2.1.7: answer from storage or with 504, never from the origin. */
  onlyIfCached: boolean;
}

/** Reads the request's `Cache-Control` directives that bear on reuse. */
export function requestFreshness(cc: Directives): RequestFreshness {
  const maxStale = cc['max-stale'];
  return {
    maxAgeMs: deltaSecondsMs(cc, 'max-age'),
    minFreshMs: deltaSecondsMs(cc, 'min-fresh'),
    maxStaleMs: maxStale === true ? Number.POSITIVE_INFINITY : deltaSecondsMs(cc, 'max-stale'),
    noCache: cc['no-cache'] !== undefined,
    onlyIfCached: cc['only-if-cached'] !== undefined,
  };
}

/** Decides whether a stored response may be served at `now` without going to the origin. */
export function usability(info: FreshnessInfo, now: number, req?: RequestFreshness): Usability {
  // §5.2.2.4: a no-cache response is never used without validation.
  if (info.noCache) return 'stale';
  const age = currentAgeMs(info, now);
  const fresh = age < info.lifetimeMs;
  if (req !== undefined) {
    // RFC 8246 §2.1: an immutable response does not change while fresh, so a client's reload
    // (request no-cache or max-age=0) is answered from storage rather than passed on.
    const reload = fresh && info.immutable === true;
    // §5.2.1.4 request no-cache; §5.2.1.1 max-age; §5.2.1.3 min-fresh.
    if (req.noCache && !reload) return 'stale';
    if (req.maxAgeMs !== undefined && age > req.maxAgeMs && !reload) return 'stale';
    if (req.minFreshMs !== undefined && info.lifetimeMs - age < req.minFreshMs) return 'stale';
  }
  if (fresh) return 'fresh';
  if (age < info.lifetimeMs + info.swrMs) return 'stale-while-revalidate';
  // §5.2.1.2 max-stale, except where the response forbids serving it stale (§5.2.2.2).
  const maxStale = req?.maxStaleMs;
  if (maxStale !== undefined && info.mustRevalidate !== true && age - info.lifetimeMs <= maxStale) {
    return 'max-stale';
  }
  return 'stale';
}

/** True when a stored response may stand in for an origin error at `now` (RFC 5861 §4). */
export function usableOnError(info: FreshnessInfo, now: number): boolean {
  return currentAgeMs(info, now) < info.lifetimeMs + info.sieMs;
}
