/**
 * The node:http / Connect / Express handler for a whole app from a CodeAI plan: one
 * `(req, res, next?)` that caches the plan's cached GET endpoints, holds a successful
 * write's response until the GETs it invalidates are dropped, and leaves everything else
 * alone (see src/http/plan-routes.ts for the rules).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CodeAIPlan } from '../codeai/plan.js';
import type { CachingMiddleware } from '../http/caching-middleware.js';
import type { HeaderGetter } from '../http/headers.js';
import { PlanRoutes } from '../http/plan-routes.js';
import type { HttpCacheRoute } from '../http/route.js';
import {
  holdEndUntilInvalidated,
  type NodeHandler,
  type NodeOrigin,
  nodeHandler,
} from './node-http.js';

/**
 * One handler applying `plan` through `middleware`. The response comes from `next`
 * (Connect, Express) or, for plain node:http, from `origin`.
 */
export function planHandler(
  middleware: CachingMiddleware,
  plan: CodeAIPlan,
  origin?: NodeOrigin,
): NodeHandler {
  const routes = new PlanRoutes(middleware, plan);
  // A route's node handler is built once; per-request routes are collected with it.
  const handlers = new WeakMap<HttpCacheRoute, NodeHandler>();
  const pass = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => {
    if (next !== undefined) next();
    else if (origin !== undefined) origin(req, res);
    else {
      res.statusCode = 404;
      res.end();
    }
  };
  return (req, res, next) => {
    const headers = req.headers;
    const header: HeaderGetter = (name) => {
      const v = headers[name];
      return v === undefined || typeof v === 'string' ? v : v.join(', ');
    };
    const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
    const decision = routes.decide(req.method ?? 'GET', url, header);
    if (decision.kind === 'read') {
      let handler = handlers.get(decision.route);
      if (handler === undefined) {
        handler = nodeHandler(decision.route, origin);
        handlers.set(decision.route, handler);
      }
      handler(req, res, next);
      return;
    }
    if (decision.kind === 'write') {
      res.setHeader('x-cache', 'BYPASS');
      holdEndUntilInvalidated(res, (status) => decision.finish(status));
    }
    pass(req, res, next);
  };
}
