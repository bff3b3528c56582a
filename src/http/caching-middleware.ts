/**
 * `CachingMiddleware`: an RFC 9111 shared cache in front of a route, on any `Cache` backend.
 *
 * Design
 * ------
 * The core is framework-neutral (this folder, node:http's handler included); adapters
 * (`src/adapters/`) only translate a framework's request and response, through the kernel
 * (kernel.ts), into three calls: `route.begin` classifies the request,
 * `route.lookup` answers it from storage or hands back a `Recorder`, and the adapter tees
 * the origin's response through that recorder while forwarding it unchanged.
 *
 * Storage. A response is one cache entry (entry.ts) under a primary key built from method,
 * host, path, sorted query and a hash of the policy's `varyBy` headers and of the headers
 * that poison caches when unkeyed (key.ts). When the response has its own `Vary`, the
 * primary key holds a small marker naming those fields and the response lives under a
 * secondary key (RFC 9111 §4.1), so the common case is a single read.
 *
 * Invalidation. Every entry carries the tag `path:<host><path>`, the policy's tags and the
 * origin's `Cache-Tag` values. A successful write invalidates the tags of its path, its
 * collection and a same-host `Location` / `Content-Location` (RFC 9111 §4.4). The backend's
 * tags are versions, so this is O(tags) and holds across instances with no scan. A miss takes
 * a tag snapshot before calling the origin and stores with it: a write that lands while the
 * origin is answering voids the late write-back instead of letting stale data in.
 *
 * Failure. Every cache call is caught: a failed read is a miss, a failed write is dropped,
 * and each is counted in `stats().errors` and emitted as `cacheError`. The origin answers.
 */

import type { CodeAIPlan } from '../codeai/plan.js';
import { isOutage } from '../core/breaker.js';
import { type Duration, parseBytes, parseDuration } from '../core/duration.js';
import { CacheError } from '../core/errors.js';
import type { Cache, CacheEvents, Clock } from '../core/types.js';
import { Flights } from './coalesce.js';
import { type IgnoredCookies, ignoredCookies } from './cookies.js';
import { type Decoded, decode, decodeShared } from './entry.js';
import {
  type HttpCacheEventName,
  type HttpCacheEvents,
  type HttpCacheStats,
  httpMeter,
} from './events.js';

export type { HttpCacheStats } from './events.js';

import { type HostOption, hostResolver } from './host.js';
import { routeSelector } from './kernel.js';
import { UNKEYED_RISKY_HEADERS } from './key.js';
import { type NodeHandler, type NodeOrigin, nodeHandler, planHandler } from './node-handler.js';
import { type CachePolicy, resolvePolicy, TOKEN } from './policy.js';
import type { Failed, Shared } from './recorder.js';
import { HttpCacheRoute, type RouteHost } from './route.js';
import { DEFAULT_TARGETED_FIELDS } from './targeted.js';

/** Options for {@link CachingMiddleware}. */
export interface CachingMiddlewareOptions {
  /** Largest body stored; larger responses stream through unbuffered. Default `"1mb"`. */
  maxBodySize?: number | string;
  /** How long concurrent misses wait for the first one's response. `0` disables coalescing. Default `"10s"`. */
  coalesceWait?: Duration;
  /** Prefix of every key this middleware writes, inside the cache's own prefix. Default `"http:"`. */
  namespace?: string;
  /** The time source for freshness and age; inject one in tests. Default `Date`. */
  clock?: Clock;
  /**
   * The host keys and path tags are filed under: a canonical `"host[:port]"`, or a function
   * of the request. Default: the request's own `Host`, so different names of a service
   * neither share entries nor invalidate each other's (RFC 9111 §4). Set it when one service
   * is reached under several names (an internal one and the public one, several ports).
   */
  host?: HostOption;
  /**
   * Cookie names or globs (`"_ga*"`) that never change a response, such as analytics
   * cookies: a request whose only cookies are these is cached like one without cookies, and
   * they never enter a key. Policies may add their own. Default: none.
   */
  ignoreCookies?: readonly string[];
  /**
   * Request fields of the always-keyed list (`X-Forwarded-For`, `X-Real-IP`, `Forwarded`,
   * `X-Forwarded-Host`, …: `UNKEYED_RISKY_HEADERS`) to leave out of the key. Only for an app
   * behind a front proxy that sets the field itself, overwriting what clients send, and whose
   * responses never reflect it; a forged value then reaches no response. A field a policy's
   * `varyBy` names stays keyed. Default: none.
   */
  ignoreHeaders?: readonly string[];
  /**
   * Targeted cache-control fields this cache obeys, highest priority first (RFC 9213): the
   * first one a response carries with a valid value replaces its `Cache-Control` and
   * `Expires` here (e.g. `['CodeAI-Cache-Control', 'CDN-Cache-Control']`). The fields are
   * forwarded unchanged. Default `['CDN-Cache-Control']`; `[]` obeys `Cache-Control` only.
   */
  targetedFields?: readonly string[];
}

/** The default `coalesceWait`: a follower never waits on a stuck origin longer than this. */
export const DEFAULT_COALESCE_WAIT_MS = 10_000;

const DEFAULTS = {
  /** Bodies above 1 MiB are not stored: they would crowd out many small hot responses. */
  maxBodySize: 1024 * 1024,
  coalesceWaitMs: DEFAULT_COALESCE_WAIT_MS,
  namespace: 'http:',
  clock: Date as Clock,
} as const;

/**
 * How a hit is read: the backend's `readDecoded` capability when it declares one (memory: in
 * the same tick, from its own bytes, the decode remembered while the entry is unchanged —
 * one promise hop costs a node:http server about a fifth of its throughput), else
 * `getMaybeSync` and a decode.
 */
function entryReader(cache: Cache): (key: string) => Decoded | Promise<Decoded> {
  if (typeof cache.readDecoded === 'function') {
    return (key) => cache.readDecoded!(key, decodeShared) as Decoded | Promise<Decoded>;
  }
  return (key) => {
    const found = cache.getMaybeSync(key);
    return found instanceof Promise ? found.then(decode) : decode(found);
  };
}

/** Validates the `targetedFields` option: field names, lowercased. */
function targetedFieldsOption(fields: readonly string[] | undefined): readonly string[] {
  if (fields === undefined) return DEFAULT_TARGETED_FIELDS;
  return fieldNamesOption(fields, 'options.targetedFields');
}

/**
 * Validates the `ignoreHeaders` option: only fields of the always-keyed list can be left
 * out (any other field never enters a key unless a policy's `varyBy` names it), so a
 * misspelt name is an error rather than an option that silently does nothing.
 */
function ignoreHeadersOption(fields: readonly string[] | undefined): ReadonlySet<string> {
  const names = fieldNamesOption(fields, 'options.ignoreHeaders');
  for (const name of names) {
    if (!UNKEYED_RISKY_HEADERS.includes(name)) {
      throw new CacheError(
        'INVALID_CONFIG',
        `options.ignoreHeaders: "${name}" is not a field the cache keys on its own (${UNKEYED_RISKY_HEADERS.join(', ')})`,
      );
    }
  }
  return new Set(names);
}

/** Validates an option that lists header field names; returns them lowercased. */
function fieldNamesOption(fields: readonly string[] | undefined, what: string): string[] {
  if (fields === undefined) return [];
  if (!Array.isArray(fields)) {
    throw new CacheError('INVALID_CONFIG', `${what} must be an array of field names`);
  }
  return fields.map((name: unknown, i) => {
    if (typeof name !== 'string' || !TOKEN.test(name)) {
      throw new CacheError(
        'INVALID_CONFIG',
        `${what}[${i}] must be a header field name, got ${JSON.stringify(name)}`,
      );
    }
    return name.toLowerCase();
  });
}

/** HTTP response caching for node:http, Connect and Express; see `codeai-cache/fastify` and `codeai-cache/hono`. */
export class CachingMiddleware {
  readonly #cache: Cache;
  readonly #meter = httpMeter();
  readonly #flights = new Flights<Shared | Failed>();
  readonly #maxBodySize: number;
  readonly #ignoreCookies: IgnoredCookies;
  readonly #targetedFields: readonly string[];
  readonly #ignoreHeaders: ReadonlySet<string>;
  readonly #host: RouteHost;
  /** Backend outages (timeouts, lost connections) the cache has reported; see route.ts. */
  #outages = 0;
  /** The last of those outages: what an unanswered read reports as its `cacheError`. */
  #lastOutage: unknown;
  readonly #onCacheError = (e: CacheEvents['error']): void => {
    if (!isOutage(e.error)) return;
    this.#outages++;
    this.#lastOutage = e.error;
  };

  constructor(cache: Cache, options: CachingMiddlewareOptions = {}) {
    if (cache === null || typeof cache !== 'object' || typeof cache.get !== 'function') {
      throw new CacheError(
        'INVALID_ARGUMENT',
        'CachingMiddleware needs a Cache as its first argument',
      );
    }
    this.#cache = cache;
    this.#maxBodySize =
      options.maxBodySize === undefined
        ? DEFAULTS.maxBodySize
        : parseBytes(options.maxBodySize, 'options.maxBodySize');
    const coalesceWaitMs =
      options.coalesceWait === undefined
        ? DEFAULTS.coalesceWaitMs
        : parseDuration(options.coalesceWait, 'options.coalesceWait');
    const namespace = options.namespace ?? DEFAULTS.namespace;
    if (typeof namespace !== 'string') {
      throw new CacheError('INVALID_ARGUMENT', 'options.namespace must be a string');
    }
    const clock = options.clock ?? DEFAULTS.clock;
    if (typeof clock?.now !== 'function') {
      throw new CacheError('INVALID_ARGUMENT', 'options.clock must have a now() method');
    }
    const hostOf = hostResolver(options.host);
    this.#ignoreCookies = ignoredCookies(
      options.ignoreCookies,
      'options.ignoreCookies',
      'INVALID_CONFIG',
    );
    this.#targetedFields = targetedFieldsOption(options.targetedFields);
    this.#ignoreHeaders = ignoreHeadersOption(options.ignoreHeaders);
    const meter = this.#meter;
    const flights = this.#flights;
    const host: RouteHost = {
      cache,
      read: entryReader(cache),
      flights,
      meter,
      namespace,
      coalesceWaitMs,
      hostOf,
      now: () => clock.now(),
      cacheError: (operation, key, error) => {
        meter.count('errors');
        meter.events.emit(
          'cacheError',
          key === undefined ? { operation, error } : { operation, key, error },
        );
      },
      invalidate: (tags) => this.invalidateTags(tags),
      outages: () => this.#outages,
      lastOutage: () => this.#lastOutage,
    };
    this.#host = host;
    // A read that fails open resolves as a miss: the error event is how we learn it failed.
    cache.on('error', this.#onCacheError);
  }

  /**
   * A node:http / Connect / Express handler `(req, res, next?)` applying `policy`. The
   * response comes from `next` (Connect, Express) or, for plain node:http, from `origin`.
   */
  handler(policy: CachePolicy = {}, origin?: NodeOrigin): NodeHandler {
    return nodeHandler(routeSelector(this.route(policy)), origin);
  }

  /** One node:http / Connect / Express handler for a whole app from a `loadCodeAI` plan (plan-routes.ts). */
  forPlan(plan: CodeAIPlan, origin?: NodeOrigin): NodeHandler {
    return planHandler(this, plan, origin);
  }

  /** The framework-neutral flow for `policy`: what the adapters drive. */
  route(policy: CachePolicy = {}): HttpCacheRoute {
    return new HttpCacheRoute(
      this.#host,
      resolvePolicy(policy, {
        maxBodySize: this.#maxBodySize,
        ignoreCookies: this.#ignoreCookies,
        targetedFields: this.#targetedFields,
        ignoreHeaders: this.#ignoreHeaders,
      }),
    );
  }

  /**
   * Drops every stored response carrying any of `tags` (`Cache-Tag` values, policy tags or
   * `path:<host><path>`), on every instance sharing the cache. Never rejects: a cache
   * failure is counted and emitted as `cacheError`; one where the backend did not answer
   * is also kept in the cache's outbox and retried (`invalidateTags(tags, { retry: true })`).
   */
  async invalidateTags(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    this.#flights.detach(tags);
    this.#meter.count('invalidations');
    try {
      // retry: an invalidation Redis does not take now is kept and retried, and the cache
      // bypasses the tags' entries until it lands — a write's invalidation is never lost.
      await this.#cache.invalidateTags(tags, { retry: true });
      this.#meter.events.emit('invalidate', { tags });
    } catch (error) {
      this.#host.cacheError('invalidateTags', undefined, error);
    }
  }

  /** A copy of the counters. */
  stats(): HttpCacheStats {
    return this.#meter.snapshot();
  }

  /** Listens to an event. */
  on<E extends HttpCacheEventName>(
    event: E,
    listener: (payload: HttpCacheEvents[E]) => void,
  ): this {
    this.#meter.events.on(event, listener);
    return this;
  }

  /** Stops listening to an event. */
  off<E extends HttpCacheEventName>(
    event: E,
    listener: (payload: HttpCacheEvents[E]) => void,
  ): this {
    this.#meter.events.off(event, listener);
    return this;
  }

  /** Releases waiting requests (they go to the origin). The cache itself is the caller's to stop. */
  stop(): void {
    this.#flights.clear();
    this.#cache.off('error', this.#onCacheError);
  }
}
