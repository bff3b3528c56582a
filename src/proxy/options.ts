/** `createProxy`'s options, their defaults and their validation (errors name the option). */
import type { CodeAIPlan } from '../codeai/plan.js';
import { type Duration, parseDuration } from '../core/duration.js';
import { CacheError } from '../core/errors.js';
import type { Cache } from '../core/types.js';
import type { CacheConfig } from '../create-cache.js';
import type { CachingMiddlewareOptions } from '../http/caching-middleware.js';

/** Options for {@link createProxy}. */
export interface ProxyOptions {
  /** The origin every request goes to on a miss: `http://host:port[/base]` or `https://…`. */
  upstream: string | URL;
  /**
   * Where responses are stored: a `Cache` (the caller's: `close()` leaves it running), or a
   * URL / `createCache` config (the proxy's: started by `listen()`, stopped by `close()`).
   * Default: an embedded memory cache.
   */
  cache?: Cache | CacheConfig | string;
  /**
   * A `loadCodeAI` plan: its cached endpoints get their policies, every other path is
   * forwarded. Without one, every path is a standards-following shared cache: the origin's
   * headers alone decide what is stored and for how long (RFC 9111).
   */
  plan?: CodeAIPlan;
  /** How long to wait for the upstream's response head (and between body chunks). Default `"30s"`. */
  upstreamTimeout?: Duration;
  /** Required as `Authorization: Bearer <token>` by `/__cache/*`; without it, only loopback clients reach them. */
  adminToken?: string;
  /** Keep incoming `X-Forwarded-*` / `Forwarded` (this proxy sits behind a trusted one). Default `false`. */
  trustProxy?: boolean;
  /** Passed to the `CachingMiddleware`. */
  middleware?: CachingMiddlewareOptions;
  /** Where the proxy reports what it does (reloads, cache state changes). Default: nowhere. */
  log?: (line: string) => void;
}

/** The defaults, one line of why each. */
export const PROXY_DEFAULTS = {
  /** Long enough for a slow report page, short enough that a hung origin frees its client. */
  upstreamTimeoutMs: 30_000,
  /** Proxies in front of a proxy are opt-in: forged forwarding headers are the default threat. */
  trustProxy: false,
} as const;

/** Options with every default applied. */
export interface ResolvedProxyOptions {
  upstream: URL;
  upstreamTimeoutMs: number;
  adminToken: string | undefined;
  trustProxy: boolean;
}

/** Validates `options`; throws `CacheError` (`INVALID_ARGUMENT`) naming the option. */
export function resolveProxyOptions(options: ProxyOptions): ResolvedProxyOptions {
  if (options === null || typeof options !== 'object') {
    throw new CacheError('INVALID_ARGUMENT', 'createProxy needs an options object with upstream');
  }
  let upstream: URL;
  try {
    upstream = new URL(String(options.upstream));
  } catch {
    throw new CacheError(
      'INVALID_ARGUMENT',
      `options.upstream must be an http:// or https:// URL, got ${JSON.stringify(String(options.upstream))}`,
    );
  }
  if (upstream.protocol !== 'http:' && upstream.protocol !== 'https:') {
    throw new CacheError(
      'INVALID_ARGUMENT',
      `options.upstream must be an http:// or https:// URL, got ${JSON.stringify(upstream.href)}`,
    );
  }
  const upstreamTimeoutMs =
    options.upstreamTimeout === undefined
      ? PROXY_DEFAULTS.upstreamTimeoutMs
      : parseDuration(options.upstreamTimeout, 'options.upstreamTimeout');
  if (upstreamTimeoutMs <= 0) {
    throw new CacheError('INVALID_ARGUMENT', 'options.upstreamTimeout must be above zero');
  }
  if (
    options.adminToken !== undefined &&
    (typeof options.adminToken !== 'string' || options.adminToken === '')
  ) {
    throw new CacheError('INVALID_ARGUMENT', 'options.adminToken must be a non-empty string');
  }
  return {
    upstream,
    upstreamTimeoutMs,
    adminToken: options.adminToken,
    trustProxy: options.trustProxy ?? PROXY_DEFAULTS.trustProxy,
  };
}
