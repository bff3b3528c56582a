/**
 * Freshness and age (RFC 9111 §4.2), computed once when a response is stored and checked in
 * O(1) on each use. All times are epoch milliseconds from the middleware's injected clock.
 */
import { type Directives, deltaSecondsMs } from './cache-control.js';

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
}

/** The response fields freshness depends on. */
export interface FreshnessInput {
  directives: Directives;
  date: number | undefined;
  expires: string | undefined;
  age: string | undefined;
  requestTime: number;
  responseTime: number;
  /** The policy's lifetime for responses that state none (a heuristic, RFC 9111 §4.2.2). */
  defaultTtlMs: number | undefined;
  /** Policy switch or default window for `stale-while-revalidate` (ms; `true` = origin's only). */
  staleWhileRevalidate: boolean | number;
  /** Policy switch or default window for `stale-if-error`. */
  staleIfError: boolean | number;
}

/** Computes the freshness of a response about to be stored. */
export function computeFreshness(input: FreshnessInput): FreshnessInfo {
  const cc = input.directives;
  // §4.2.1: a shared cache prefers s-maxage, then max-age, then Expires − Date.
  let lifetimeMs = deltaSecondsMs(cc, 's-maxage') ?? deltaSecondsMs(cc, 'max-age');
  if (lifetimeMs === undefined && input.expires !== undefined) {
    const expires = Date.parse(input.expires);
    // §5.3: an invalid Expires (e.g. "0") means already expired.
    lifetimeMs = Number.isNaN(expires)
      ? 0
      : Math.max(0, expires - (input.date ?? input.responseTime));
  }
  if (lifetimeMs === undefined) lifetimeMs = input.defaultTtlMs ?? 0;

  // §4.2.3 age calculation.
  const dateValue = input.date ?? input.responseTime;
  const ageValue =
    input.age !== undefined && /^\d+$/.test(input.age) ? Number(input.age) * 1000 : 0;
  const apparentAge = Math.max(0, input.responseTime - dateValue);
  const responseDelay = Math.max(0, input.responseTime - input.requestTime);
  const initialAgeMs = Math.max(apparentAge, ageValue + responseDelay);

  // §4.2.4 / §5.2.2.2: must-revalidate, proxy-revalidate and s-maxage forbid serving stale.
  const noStale =
    cc['must-revalidate'] !== undefined ||
    cc['proxy-revalidate'] !== undefined ||
    cc['s-maxage'] !== undefined;
  return {
    responseTime: input.responseTime,
    initialAgeMs,
    lifetimeMs,
    swrMs: noStale ? 0 : staleWindow(cc, 'stale-while-revalidate', input.staleWhileRevalidate),
    sieMs: noStale ? 0 : staleWindow(cc, 'stale-if-error', input.staleIfError),
    noCache: cc['no-cache'] === true,
  };
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

/** How long the store should keep the entry: its remaining freshness plus any stale window. */
export function storageTtlMs(info: FreshnessInfo, now: number): number {
  const remaining = info.lifetimeMs - currentAgeMs(info, now);
  const staleWindow = Math.max(info.swrMs, info.sieMs);
  return Math.max(0, remaining) + (remaining > 0 || staleWindow > 0 ? staleWindow : 0);
}

/** What a request may do with a stored response. */
export type Usability = 'fresh' | 'stale-while-revalidate' | 'stale';

/** The request directives that narrow reuse (RFC 9111 §5.2.1). */
export interface RequestFreshness {
  maxAgeMs: number | undefined;
  minFreshMs: number | undefined;
  noCache: boolean;
  /** §5.2.1.7: answer from storage or with 504, never from the origin. */
  onlyIfCached: boolean;
}

/** Reads the request's `Cache-Control` narrowing directives. */
export function requestFreshness(cc: Directives): RequestFreshness {
  return {
    maxAgeMs: deltaSecondsMs(cc, 'max-age'),
    minFreshMs: deltaSecondsMs(cc, 'min-fresh'),
    noCache: cc['no-cache'] !== undefined,
    onlyIfCached: cc['only-if-cached'] !== undefined,
  };
}

/** Decides whether a stored response may be served at `now` without going to the origin. */
export function usability(info: FreshnessInfo, now: number, req?: RequestFreshness): Usability {
  if (info.noCache) return 'stale';
  const age = currentAgeMs(info, now);
  if (req !== undefined) {
    // §5.2.1.4: request no-cache; §5.2.1.1 max-age; §5.2.1.3 min-fresh.
    if (req.noCache) return 'stale';
    if (req.maxAgeMs !== undefined && age > req.maxAgeMs) return 'stale';
    if (req.minFreshMs !== undefined && info.lifetimeMs - age < req.minFreshMs) return 'stale';
  }
  if (age < info.lifetimeMs) return 'fresh';
  if (age < info.lifetimeMs + info.swrMs) return 'stale-while-revalidate';
  return 'stale';
}

/** True when a stored response may stand in for an origin error at `now` (RFC 5861 §4). */
export function usableOnError(info: FreshnessInfo, now: number): boolean {
  return currentAgeMs(info, now) < info.lifetimeMs + info.sieMs;
}
