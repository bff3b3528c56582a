/**
 * Outbound caching for a spec's integrations: `client.call('get_current', …)` fetches an
 * operation of an `integration` block through the cache, following its plan policy
 * (operation `cache:`, `default_cache_ttl`, `fallback: cache`).
 *
 * Built on `getOrSet`, so concurrent calls for one URL make one request (across processes
 * on Redis too), and a failed call is never cached. With `fallback: cache` the last good
 * answer is kept one hour past its TTL (getOrSet's `failSafe`) and served when the API
 * fails, marked `source: 'fallback'` with its age — a caller can tell a live answer from a
 * rescued one.
 *
 * What counts as failing: a network error, a timeout, a 5xx, 408 or 429. Every other status
 * (2xx, 3xx, other 4xx) is an answer and is cached for the operation's TTL, as a shared
 * HTTP cache would cache a 404. Responses are stored as JSON (status, headers, base64 body,
 * fetch time), so every backend holds them.
 *
 * The key is the method and the full URL (query sorted) plus a hash of the per-call
 * headers: two callers sending different credentials never share an answer. Headers given
 * to the client itself (the integration's own API key) are not keyed.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { CacheError } from '../core/errors.js';
import type { Cache, Clock } from '../core/types.js';
import type { CodeAIPlan, PlanIntegration, PlanOperation } from './plan.js';

/** Options of {@link IntegrationClient}. */
export interface IntegrationClientOptions {
  /** The API's base URL; default the integration's `base_url`. */
  baseUrl?: string;
  /** Headers sent with every call (credentials of the integration); not part of the key. */
  headers?: Readonly<Record<string, string>>;
  /** The fetch to use. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** How long one call may take before it counts as a failure. Default `"10s"`. */
  timeoutMs?: number;
  /** Time source for ages; give the cache's clock in tests. Default `Date`. */
  clock?: Clock;
  /** Key prefix inside the cache. Default `"integration:"`. */
  namespace?: string;
}

/** One call's parameters. */
export interface IntegrationRequest {
  /** Values for `{name}` / `:name` placeholders of the operation path. */
  params?: Readonly<Record<string, string | number>>;
  /** Query parameters (sorted into the key). */
  query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** Per-call headers; their values are part of the cache key. */
  headers?: Readonly<Record<string, string>>;
  /** A request body (for operations that are not cached). */
  body?: string | Uint8Array;
  signal?: AbortSignal;
}

/** Where an answer came from. */
export type IntegrationSource = 'network' | 'cache' | 'fallback';

/** An integration's answer. */
export interface IntegrationResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** `network`: fetched by this call; `cache`: a fresh cached answer; `fallback`: the API failed and the last good answer was served. */
  source: IntegrationSource;
  /** How old the answer is, in ms (0 for a network answer). */
  ageMs: number;
  /** Why the API failed, when `source` is `fallback`. */
  error?: unknown;
  text(): string;
  json<T = unknown>(): T;
}

interface Stored {
  status: number;
  headers: Record<string, string>;
  body: string;
  fetchedAt: number;
}

/** A failing answer the factory rejects with, so that it is neither cached nor lost. */
class ApiFailure extends Error {
  constructor(
    readonly response: Stored | undefined,
    cause: unknown,
  ) {
    super(response ? `integration answered ${response.status}` : 'integration call failed', {
      cause,
    });
  }
}

const FAILING_STATUSES = new Set([408, 429]);

/** Cached calls to the operations of one integration. */
export class IntegrationClient {
  readonly #cache: Cache;
  readonly #integration: PlanIntegration;
  readonly #options: Required<Omit<IntegrationClientOptions, 'baseUrl'>> & { baseUrl: string };

  constructor(cache: Cache, integration: PlanIntegration, options: IntegrationClientOptions = {}) {
    const baseUrl = options.baseUrl ?? integration.baseUrl;
    if (baseUrl === undefined || !/^https?:\/\//.test(baseUrl)) {
      throw new CacheError(
        'INVALID_CONFIG',
        `options.baseUrl: integration ${integration.name} needs an http(s) base URL, got ${JSON.stringify(baseUrl)}`,
      );
    }
    this.#cache = cache;
    this.#integration = integration;
    this.#options = {
      baseUrl: baseUrl.replace(/\/+$/, ''),
      headers: options.headers ?? {},
      fetch: options.fetch ?? globalThis.fetch,
      timeoutMs: options.timeoutMs ?? 10_000,
      clock: options.clock ?? Date,
      namespace: options.namespace ?? 'integration:',
    };
  }

  /** Calls `operation`, through the cache when the plan caches it. */
  async call(operation: string, request: IntegrationRequest = {}): Promise<IntegrationResponse> {
    const op = this.#integration.operations.find((o) => o.name === operation);
    if (op === undefined) {
      throw new CacheError(
        'INVALID_ARGUMENT',
        `integration ${this.#integration.name} has no operation "${operation}"`,
      );
    }
    const url = this.#url(op, request);
    if (op.ttlMs === undefined) {
      const stored = await this.#fetch(op, url, request).catch((e: unknown) => {
        if (e instanceof ApiFailure && e.response) return e.response;
        throw e instanceof ApiFailure ? e.cause : e;
      });
      return answer(stored, 'network', 0);
    }
    const key = `${this.#options.namespace}${this.#integration.name}:${op.name}:${op.method} ${url}${headerKey(request.headers)}`;
    // Whether this call's own factory fetched: a caller that joined another's fetch is served
    // from what that one stored, so it reads as `cache`.
    let fetched = false;
    let failure: ApiFailure | undefined;
    let stored: Stored;
    try {
      stored = await this.#cache.getOrSet<Stored>(
        key,
        async () => {
          try {
            const fresh = await this.#fetch(op, url, request);
            fetched = true;
            return fresh;
          } catch (e) {
            failure = e instanceof ApiFailure ? e : new ApiFailure(undefined, e);
            throw failure;
          }
        },
        {
          ttl: op.ttlMs,
          failSafe: this.#integration.fallbackToCache,
          ...(request.signal ? { signal: request.signal } : {}),
        },
      );
    } catch (e) {
      // No last good answer to fall back on: a failing status still reaches the caller as
      // an answer; a network error as the error it was.
      if (e instanceof ApiFailure) {
        if (e.response) return answer(e.response, 'network', 0);
        throw e.cause;
      }
      throw e;
    }
    const age = Math.max(0, this.#options.clock.now() - stored.fetchedAt);
    if (failure !== undefined) return answer(stored, 'fallback', age, failure.cause ?? failure);
    return fetched ? answer(stored, 'network', 0) : answer(stored, 'cache', age);
  }

  #url(op: PlanOperation, request: IntegrationRequest): string {
    const params = request.params ?? {};
    const path = (op.path ?? '').replace(
      /\{(\w+)\}|:(\w+)/g,
      (_whole, a: string | undefined, b: string | undefined) => {
        const name = (a ?? b)!;
        const value = params[name];
        if (value === undefined) {
          throw new CacheError(
            'INVALID_ARGUMENT',
            `operation ${op.name} needs the parameter "${name}"`,
          );
        }
        return encodeURIComponent(String(value));
      },
    );
    const query = Object.entries(request.query ?? {})
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .sort();
    return `${this.#options.baseUrl}${path}${query.length ? `?${query.join('&')}` : ''}`;
  }

  async #fetch(op: PlanOperation, url: string, request: IntegrationRequest): Promise<Stored> {
    const timeout = AbortSignal.timeout(this.#options.timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
    let res: Response;
    try {
      res = await this.#options.fetch(url, {
        method: op.method,
        headers: { ...this.#options.headers, ...request.headers },
        ...(request.body !== undefined ? { body: request.body } : {}),
        signal,
      });
    } catch (e) {
      throw new ApiFailure(undefined, e);
    }
    const body = Buffer.from(await res.arrayBuffer());
    const headers: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const stored: Stored = {
      status: res.status,
      headers,
      body: body.toString('base64'),
      fetchedAt: this.#options.clock.now(),
    };
    if (res.status >= 500 || FAILING_STATUSES.has(res.status)) {
      throw new ApiFailure(stored, new Error(`${op.method} ${url} answered ${res.status}`));
    }
    return stored;
  }
}

/** A client for the integration `name` of a loaded plan. */
export function integrationClient(
  cache: Cache,
  plan: CodeAIPlan,
  name: string,
  options?: IntegrationClientOptions,
): IntegrationClient {
  const integration = plan.integrations.find((i) => i.name === name);
  if (integration === undefined) {
    throw new CacheError('INVALID_ARGUMENT', `the plan has no integration "${name}"`);
  }
  return new IntegrationClient(cache, integration, options);
}

function headerKey(headers: Readonly<Record<string, string>> | undefined): string {
  if (headers === undefined) return '';
  const entries = Object.entries(headers)
    .map(([k, v]) => `${k.toLowerCase()}\u0000${v}`)
    .sort();
  if (entries.length === 0) return '';
  return ` h:${createHash('sha256').update(entries.join('\u0001')).digest('base64url').slice(0, 22)}`;
}

function answer(
  stored: Stored,
  source: IntegrationSource,
  ageMs: number,
  error?: unknown,
): IntegrationResponse {
  const body = Buffer.from(stored.body, 'base64');
  const response: IntegrationResponse = {
    status: stored.status,
    headers: stored.headers,
    body,
    source,
    ageMs,
    text: () => body.toString('utf8'),
    json: <T>() => JSON.parse(body.toString('utf8')) as T,
  };
  if (error !== undefined) response.error = error;
  return response;
}
