/**
 * Route policies: what the origin leaves unsaid, the policy supplies. Validated once when a
 * handler is built, so the per-request path reads only resolved fields.
 */
import { type Duration, parseBytes, parseDuration } from '../core/duration.js';
import { CacheError } from '../core/errors.js';
import { UNKEYED_RISKY_HEADERS } from './key.js';

/** A route's caching policy (DESIGN §5). */
export interface CachePolicy {
  /**
   * Freshness lifetime for responses that state none (no `s-maxage`, `max-age` or
   * `Expires`). Omitted: such responses are not stored. The origin's own freshness wins.
   */
  ttl?: Duration;
  /**
   * Request headers whose values select different entries (hashed into the key). Naming
   * `authorization` here is what lets requests carrying credentials be cached, per user.
   */
  varyBy?: readonly string[];
  /** Tags written with every entry of this route, for `invalidateTags`. */
  tags?: readonly string[];
  /** Statuses that may be stored. Default: the heuristically cacheable ones below 500. */
  statuses?: readonly number[];
  /**
   * Honour the origin's `stale-while-revalidate` (`true`, the default), ignore it (`false`),
   * or also apply this window when the origin states none.
   */
  staleWhileRevalidate?: boolean | Duration;
  /** Same as `staleWhileRevalidate`, for the origin's `stale-if-error`. Default `true`. */
  staleIfError?: boolean | Duration;
  /** Successful writes through this handler invalidate their path and collection. Default `true`. */
  invalidate?: boolean;
  /** Overrides the middleware's `maxBodySize` for this route. */
  maxBodySize?: number | string;
}

/** Statuses stored by default: RFC 9110 §15.1's heuristically cacheable codes, minus 5xx. */
export const DEFAULT_STATUSES: readonly number[] = [
  200, 203, 204, 300, 301, 308, 404, 405, 410, 414,
];

/** A policy with every option resolved. */
export interface ResolvedPolicy {
  ttlMs: number | undefined;
  varyBy: readonly string[];
  /** `varyBy` plus the risky unkeyed headers, deduplicated: the fields the primary key hashes. */
  keyHeaders: readonly string[];
  authorizationKeyed: boolean;
  tags: readonly string[];
  statuses: ReadonlySet<number>;
  staleWhileRevalidate: boolean | number;
  staleIfError: boolean | number;
  invalidate: boolean;
  maxBodySize: number;
}

/** Validates and resolves a policy; errors name the offending option. */
export function resolvePolicy(policy: CachePolicy, defaultMaxBodySize: number): ResolvedPolicy {
  if (policy === null || typeof policy !== 'object') {
    throw new CacheError('INVALID_ARGUMENT', 'policy must be an object such as { ttl: "30s" }');
  }
  const ttlMs = policy.ttl === undefined ? undefined : parseDuration(policy.ttl, 'policy.ttl');
  const varyBy = (policy.varyBy ?? []).map((name, i) => {
    if (typeof name !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new CacheError(
        'INVALID_ARGUMENT',
        `policy.varyBy[${i}] must be a header name, got ${JSON.stringify(name)}`,
      );
    }
    return name.toLowerCase();
  });
  const statuses = policy.statuses ?? DEFAULT_STATUSES;
  for (const [i, status] of statuses.entries()) {
    if (!Number.isInteger(status) || status < 100 || status > 499) {
      throw new CacheError(
        'INVALID_ARGUMENT',
        `policy.statuses[${i}] must be an integer status from 100 to 499 (5xx are never stored), got ${status}`,
      );
    }
  }
  for (const [i, tag] of (policy.tags ?? []).entries()) {
    if (typeof tag !== 'string' || tag.length === 0) {
      throw new CacheError('INVALID_ARGUMENT', `policy.tags[${i}] must be a non-empty string`);
    }
  }
  const keyHeaders = [...new Set([...varyBy, ...UNKEYED_RISKY_HEADERS])];
  return {
    ttlMs: ttlMs === 0 ? undefined : ttlMs,
    varyBy,
    keyHeaders,
    authorizationKeyed: varyBy.includes('authorization'),
    tags: [...(policy.tags ?? [])],
    statuses: new Set(statuses),
    staleWhileRevalidate: staleOption(policy.staleWhileRevalidate, 'policy.staleWhileRevalidate'),
    staleIfError: staleOption(policy.staleIfError, 'policy.staleIfError'),
    invalidate: policy.invalidate ?? true,
    maxBodySize:
      policy.maxBodySize === undefined
        ? defaultMaxBodySize
        : parseBytes(policy.maxBodySize, 'policy.maxBodySize'),
  };
}

function staleOption(value: boolean | Duration | undefined, what: string): boolean | number {
  if (value === undefined || value === true) return true;
  if (value === false) return false;
  return parseDuration(value, what);
}
