/**
 * The plan `loadCodeAI` returns: everything the middleware, the CLI and the integration
 * fetch need, as a plain JSON-serialisable object (no classes, no functions, no Maps).
 */
import type { Diagnostic } from './diagnostics.js';

/** Where the cache lives and its defaults. */
export interface PlanBackend {
  type: 'memory' | 'redis';
  /** `cache_url`, else `CACHE_URL` / `REDIS_URL` from the environment; absent for memory. */
  url?: string;
  /** Key prefix (`cache_prefix`, or `prefix` in the block form). */
  prefix?: string;
  /** TTL of cached endpoints that give none, in ms (5 minutes unless the config says). */
  defaultTtlMs: number;
}

/** What made an endpoint cached. */
export type PolicySource =
  | { kind: 'middleware'; name: string }
  | { kind: 'annotation' }
  | { kind: 'endpoint-ttl' };

/** Why a write invalidates a GET endpoint. */
export type InvalidationReason = 'same-path' | 'ancestor' | 'descendant' | 'annotation';

/** A link from a write endpoint to a GET endpoint it invalidates. */
export interface InvalidationLink {
  /** The other endpoint's id (`GET /api/v1/posts/:id`). */
  endpoint: string;
  reason: InvalidationReason;
}

/** One endpoint of the spec. */
export interface PlanEndpoint {
  /** `METHOD /full/path/:template`, unique in a plan. */
  id: string;
  method: string;
  /** The full path template with `api_prefix`, parameters written `:name`. */
  path: string;
  /** Parameter names in order. */
  params: string[];
  /** Middleware named by the endpoint, in order. */
  middleware: string[];
  /** True when responses of this endpoint are stored (GET endpoints with a cache directive). */
  cached: boolean;
  /** Freshness lifetime for responses that state none, in ms; set when cached. */
  ttlMs?: number;
  /** Lowercased request headers whose values are part of the key; set when cached. */
  varyBy?: string[];
  /** What made it cached; set when cached. */
  source?: PolicySource;
  /** Tags written with each cached response (for `invalidateTags`). */
  tags?: string[];
  /** On a GET: the write endpoints whose success invalidates it. */
  invalidatedBy: InvalidationLink[];
  /** On a write: the GET endpoints its success invalidates. */
  invalidates: InvalidationLink[];
  line: number;
  column: number;
}

/** The outbound caching policy of one integration operation. */
export interface PlanOperation {
  name: string;
  method: string;
  path?: string;
  /** Responses are cached when this is set (operation `cache:` or `default_cache_ttl`), in ms. */
  ttlMs?: number;
  line: number;
  column: number;
}

/** One integration and its operations' policies. */
export interface PlanIntegration {
  name: string;
  baseUrl?: string;
  defaultTtlMs?: number;
  /** `fallback: cache`: serve the last good answer when the API fails. */
  fallbackToCache: boolean;
  operations: PlanOperation[];
  line: number;
  column: number;
}

/** The loaded spec. */
export interface CodeAIPlan {
  /** The plan format; bumped on an incompatible change. */
  version: 1;
  file?: string;
  backend: PlanBackend;
  /** `api_prefix`, normalised: a leading `/`, no trailing `/`; `''` when absent. */
  apiPrefix: string;
  endpoints: PlanEndpoint[];
  integrations: PlanIntegration[];
  /** Warnings (a plan is only returned when there are no errors). */
  diagnostics: Diagnostic[];
}
