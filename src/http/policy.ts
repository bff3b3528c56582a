/**
 * Route policies: what the origin leaves unsaid, the policy supplies. Validated once when a
 * handler is built, so the per-request path reads only resolved fields.
 */
import { type Duration, parseBytes, parseDuration } from '../core/duration.js';
import { CacheError } from '../core/errors.js';
import { type IgnoredCookies, ignoredCookies } from './cookies.js';
import { UNKEYED_RISKY_HEADERS } from './key.js';
import { DEFAULT_TARGETED_FIELDS } from './targeted.js';

/** A route's caching policy (DESIGN §5). */
export interface CachePolicy {
  /**
   * Freshness lifetime for responses that state none (no `s-maxage`, `max-age` or
   * `Expires`), of the `statuses` below (never a 5xx). The origin's own freshness wins.
   * Omitted: such responses get heuristic freshness from `Last-Modified` (RFC 9111 §4.2.2),
   * or are stored stale to be revalidated when they have a validator, or are not stored.
   */
  ttl?: Duration;
  /**
   * Request headers whose values select different entries (hashed into the key), and
   * `cookie:<name>` for single cookies. Requests carrying credentials (`Authorization`, or a
   * `Cookie` with a cookie not in `ignoreCookies`) are only cached per user when this names
   * them: `authorization`, `cookie` (every cookie but the ignored ones, in any order) or
   * `cookie:<name>` (only those cookies select the response; the others are declared not to
   * matter). Otherwise only explicitly `public` / `s-maxage` responses serve them.
   */
  varyBy?: readonly string[];
  /**
   * Cookie names or globs (`"_ga*"`) that never change this route's responses; added to the
   * middleware's `ignoreCookies`. A request whose only cookies are ignored is cookieless here.
   */
  ignoreCookies?: readonly string[];
  /** Tags written with every entry of this route, for `invalidateTags`. */
  tags?: readonly string[];
  /**
   * Statuses the policy `ttl` (and the storing of a response with a validator but no
   * freshness) applies to. Default: the heuristically cacheable ones below 500 except 206.
   * When omitted, a response with explicit freshness (`max-age`, `s-maxage`, `Expires`) is
   * stored whatever its status (RFC 9111 §3); when given, only these statuses are ever stored.
   */
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

/**
 * Statuses the policy ttl applies to by default: RFC 9110 §15.1's heuristically cacheable
 * codes, minus 5xx and 206 (a partial response is never stored here).
 */
export const DEFAULT_STATUSES: readonly number[] = [
  200, 203, 204, 300, 301, 308, 404, 405, 410, 414,
];

/** A policy with every option resolved. */
export interface ResolvedPolicy {
  ttlMs: number | undefined;
  /** The header names of `varyBy`, lowercase (`cookie:<name>` entries are in `keyCookies`). */
  varyBy: readonly string[];
  /**
   * `varyBy` plus the risky unkeyed headers, deduplicated: the fields the primary key hashes
   * (`cookie`, when present, as its non-ignored cookies sorted by name).
   */
  keyHeaders: readonly string[];
  /** The cookie names of `varyBy`'s `cookie:<name>` entries, sorted and deduplicated. */
  keyCookies: readonly string[];
  /** `Authorization` selects entries, so requests carrying it are cacheable. */
  authorizationKeyed: boolean;
  /** Cookies select entries (`cookie` or some `cookie:<name>`), so requests carrying them are cacheable. */
  cookiesKeyed: boolean;
  /** The middleware's and the policy's `ignoreCookies`. */
  ignoreCookies: IgnoredCookies;
  tags: readonly string[];
  statuses: ReadonlySet<number>;
  /** `statuses` was given: it then limits explicitly fresh responses too. */
  statusesGiven: boolean;
  /** Targeted cache-control fields this cache obeys, lowercase, first wins (RFC 9213). */
  targetedFields: readonly string[];
  staleWhileRevalidate: boolean | number;
  staleIfError: boolean | number;
  invalidate: boolean;
  maxBodySize: number;
}

/** What the middleware contributes to every policy it resolves. */
export interface PolicyDefaults {
  maxBodySize: number;
  ignoreCookies: IgnoredCookies;
  /** The middleware's `targetedFields`, lowercase. Default: `CDN-Cache-Control`. */
  targetedFields?: readonly string[];
  /** The middleware's `ignoreHeaders`, lowercase: risky fields left out of the key. */
  ignoreHeaders?: ReadonlySet<string>;
}

/** An HTTP token (RFC 9110 §5.6.2): what header and cookie names are made of. */
export const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Validates and resolves a policy; errors name the offending option. */
export function resolvePolicy(policy: CachePolicy, defaults: PolicyDefaults): ResolvedPolicy {
  if (policy === null || typeof policy !== 'object') {
    throw new CacheError('INVALID_ARGUMENT', 'policy must be an object such as { ttl: "30s" }');
  }
  const ttlMs = policy.ttl === undefined ? undefined : parseDuration(policy.ttl, 'policy.ttl');
  const varyBy: string[] = [];
  const keyCookies = new Set<string>();
  for (const [i, name] of (policy.varyBy ?? []).entries()) {
    // `cookie:<name>`: the prefix is case-insensitive like a header name, the cookie name is
    // case-sensitive (RFC 6265 §5.3 compares names exactly).
    const cookie = typeof name === 'string' ? /^cookie:(.*)$/i.exec(name) : null;
    if (cookie !== null && TOKEN.test(cookie[1]!)) {
      keyCookies.add(cookie[1]!);
      continue;
    }
    if (typeof name !== 'string' || !TOKEN.test(name)) {
      throw new CacheError(
        'INVALID_ARGUMENT',
        `policy.varyBy[${i}] must be a header name or "cookie:<name>", got ${JSON.stringify(name)}`,
      );
    }
    varyBy.push(name.toLowerCase());
  }
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
  const risky = UNKEYED_RISKY_HEADERS.filter((h) => defaults.ignoreHeaders?.has(h) !== true);
  const keyHeaders = [...new Set([...varyBy, ...risky])];
  return {
    ttlMs: ttlMs === 0 ? undefined : ttlMs,
    varyBy,
    keyHeaders,
    keyCookies: [...keyCookies].sort(),
    authorizationKeyed: varyBy.includes('authorization'),
    cookiesKeyed: varyBy.includes('cookie') || keyCookies.size > 0,
    ignoreCookies: defaults.ignoreCookies.with(
      ignoredCookies(policy.ignoreCookies, 'policy.ignoreCookies', 'INVALID_ARGUMENT'),
    ),
    tags: [...(policy.tags ?? [])],
    statuses: new Set(statuses),
    statusesGiven: policy.statuses !== undefined,
    targetedFields: defaults.targetedFields ?? DEFAULT_TARGETED_FIELDS,
    staleWhileRevalidate: staleOption(policy.staleWhileRevalidate, 'policy.staleWhileRevalidate'),
    staleIfError: staleOption(policy.staleIfError, 'policy.staleIfError'),
    invalidate: policy.invalidate ?? true,
    maxBodySize:
      policy.maxBodySize === undefined
        ? defaults.maxBodySize
        : parseBytes(policy.maxBodySize, 'policy.maxBodySize'),
  };
}

function staleOption(value: boolean | Duration | undefined, what: string): boolean | number {
  if (value === undefined || value === true) return true;
  if (value === false) return false;
  return parseDuration(value, what);
}
