/**
 * HTTP response caching: `CachingMiddleware` and the framework-neutral seam adapters use.
 * Frameworks live behind `codeai-cache/fastify` and `codeai-cache/hono`; nothing here loads one.
 */
export {
  CachingMiddleware,
  type CachingMiddlewareOptions,
  type HttpCacheStats,
} from './caching-middleware.js';
export {
  type HttpCacheEventName,
  type HttpCacheEvents,
  httpChannelName,
  type SkipReason,
  type XCache,
} from './events.js';
export type { HostOption, HostRequest } from './host.js';
export { UNKEYED_RISKY_HEADERS } from './key.js';
export { type NodeHandler, type NodeOrigin, planHandler } from './node-handler.js';
export { type PlanDecision, PlanRoutes } from './plan-routes.js';
export { type CachePolicy, DEFAULT_STATUSES } from './policy.js';
export type { HttpCacheRoute, Outcome, Plan } from './route.js';
