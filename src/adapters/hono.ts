/**
 * Hono and plain Fetch (`Request → Response`) adapter: `honoCache(middleware, policy)` is a
 * Hono middleware; `cachingFetch(middleware, policy, handler)` wraps any Fetch handler
 * (Hono's `app.fetch`, a Worker-style handler, …).
 *
 * A miss streams the origin's body to the client through a `TransformStream` that tees each
 * chunk to the recorder, so large bodies pass without being buffered whole. The Fetch wrapper
 * re-runs its handler for `stale-while-revalidate` (served at once, refreshed in the
 * background); the Hono middleware answers stale and runs the rest of the chain afterwards
 * as the refresh.
 */
import type { Transformer } from 'node:stream/web';
import type { Context, MiddlewareHandler } from 'hono';
import type { CodeAIPlan } from '../codeai/plan.js';
import type { CachingMiddleware } from '../http/caching-middleware.js';
import type { FlatHeaders, HeaderGetter } from '../http/headers.js';
import {
  BackgroundRefresh,
  type FinishWrite,
  forwardEdits,
  joinHeaders,
  type NodeHeaderRecord,
  nodeHeaderGetter,
  planSelector,
  routeSelector,
  type Selector,
} from '../http/kernel.js';
import { PlanRoutes } from '../http/plan-routes.js';
import type { CachePolicy } from '../http/policy.js';
import type { ReadContext } from '../http/read-context.js';
import type { Recorder } from '../http/recorder.js';
import type { ReplayResponse } from '../http/replay.js';
import type { HttpCacheRoute, Outcome } from '../http/route.js';

/** A Fetch handler; `env` is passed through (Hono's `app.fetch(request, env)`). */
export type FetchHandler = (request: Request, env?: unknown) => Response | Promise<Response>;

/**
 * Wraps a Fetch handler with the cache. A hit the backend answers synchronously returns a
 * `Response` directly (servers such as `@hono/node-server` then write it in the same tick);
 * anything else returns a promise.
 */
export function cachingFetch(
  middleware: CachingMiddleware,
  policy: CachePolicy,
  handler: FetchHandler,
): (request: Request, env?: unknown) => Response | Promise<Response> {
  const select = routeSelector(middleware.route(policy));
  const refresher = new BackgroundRefresh();
  return (request, env) =>
    handle(
      select,
      request,
      env,
      async (req) => handler(req, env),
      (route, ctx) =>
        refresher.start(ctx.primary, () =>
          refreshInBackground(route, ctx, request, (req) => handler(req, env)),
        ),
    ) ?? handler(request, env);
}

/** A Hono middleware applying `policy`. */
export function honoCache(
  middleware: CachingMiddleware,
  policy: CachePolicy = {},
): MiddlewareHandler {
  return honoMiddleware(routeSelector(middleware.route(policy)));
}

/**
 * A Hono middleware applying a CodeAI plan (`loadCodeAI`) to the whole app: the plan's cached
 * GET endpoints get their policies, successful writes invalidate the GET routes the plan
 * links them to, every other route is left alone (src/http/plan-routes.ts).
 */
export function honoPlanCache(middleware: CachingMiddleware, plan: CodeAIPlan): MiddlewareHandler {
  return honoMiddleware(planSelector(new PlanRoutes(middleware, plan)));
}

function honoMiddleware(select: Selector): MiddlewareHandler {
  const refresher = new BackgroundRefresh();
  return async (c: Context, next) => {
    const request = c.req.raw;
    const origin: Origin = async (req) => {
      if (req !== c.req.raw) c.req.raw = req;
      await next();
      return c.res;
    };
    // stale-while-revalidate (RFC 5861 §3): the stale copy is this middleware's answer, and
    // the rest of the chain (`next`, not yet called) runs afterwards as the refresh. Hono
    // reads `c.res` as soon as the middleware returns, so the refresh waits a macrotask,
    // then reopens the context (`finalized`) for the handler's response.
    const refresh = (route: HttpCacheRoute, ctx: ReadContext) =>
      refresher.start(ctx.primary, async () => {
        await new Promise((resolve) => setImmediate(resolve));
        const outcome = await route.refresh(ctx);
        if (outcome.kind !== 'fetch') return;
        c.res = undefined;
        c.finalized = false;
        const res = await miss(outcome, ctx, request, origin);
        // Drain the body so the recorder sees it all and stores it.
        await res.arrayBuffer();
      });
    const response = await handle(select, request, c.env, origin, refresh);
    if (response === undefined) {
      await next();
      return;
    }
    // Replace the response outright: Hono's `res` setter would otherwise merge the old headers.
    c.res = undefined;
    c.res = response;
  };
}

type Origin = (request: Request) => Promise<Response>;

/** What `@hono/node-server` passes as `env`: the node request behind the Fetch one. */
interface NodeEnv {
  incoming?: { headers?: NodeHeaderRecord };
}

/**
 * Reads request headers. On `@hono/node-server` the node request's header object is used
 * directly: materialising the Fetch `Headers` costs more than the whole cache hit.
 */
function headerGetter(request: Request, env: unknown, host: string): HeaderGetter {
  const raw = (env as NodeEnv | undefined)?.incoming?.headers;
  if (raw !== undefined && raw !== null && typeof raw === 'object') return nodeHeaderGetter(raw);
  const headers = request.headers;
  return (name) => headers.get(name) ?? (name === 'host' ? host : undefined);
}

/** Splits an absolute request URL into its authority and its origin-form target. */
function splitUrl(url: string): { host: string; target: string } {
  const scheme = url.indexOf('://');
  const start = scheme === -1 ? 0 : scheme + 3;
  const hash = url.indexOf('#', start);
  const end = hash === -1 ? url.length : hash;
  let slash = url.indexOf('/', start);
  if (slash === -1 || slash > end) slash = end;
  let target = url.slice(slash, end);
  if (target.length === 0 || target[0] === '?') target = `/${target}`;
  return { host: url.slice(start, slash), target };
}

/** The cache in front of `origin`; `undefined` when the selector leaves the request alone. */
function handle(
  select: Selector,
  request: Request,
  env: unknown,
  origin: Origin,
  refresh?: (route: HttpCacheRoute, ctx: ReadContext) => void,
): Response | Promise<Response> | undefined {
  const { host, target } = splitUrl(request.url);
  const step = select(request.method, target, headerGetter(request, env, host));
  if (step.kind === 'pass') return undefined;
  if (step.kind === 'bypass') return origin(request).then((res) => withXCache(res, 'BYPASS'));
  if (step.kind === 'write') return write(step.finish, request, origin);
  const { route, ctx } = step;
  const outcome = route.lookup(ctx, refresh && (() => refresh(route, ctx)));
  if (outcome instanceof Promise) return outcome.then((o) => answer(o, ctx, request, origin));
  return answer(outcome, ctx, request, origin);
}

async function write(finish: FinishWrite, request: Request, origin: Origin): Promise<Response> {
  const res = await origin(request);
  const pending = finish(
    res.status,
    res.headers.get('location') ?? undefined,
    res.headers.get('content-location') ?? undefined,
  );
  if (pending !== undefined) await pending;
  return withXCache(res, 'BYPASS');
}

function answer(
  outcome: Outcome,
  ctx: ReadContext,
  request: Request,
  origin: Origin,
): Response | Promise<Response> {
  if (outcome.kind === 'replay') return toResponse(outcome.response);
  return miss(outcome, ctx, request, origin);
}

type Fetching = Extract<Outcome, { kind: 'fetch' }>;

/** The request the origin sees for a miss, with the kernel's edits (kernel.ts `forwardEdits`). */
function forwarded(request: Request, ctx: ReadContext, outcome: Fetching): Request {
  const edits = forwardEdits(ctx, outcome);
  if (edits === undefined) return request;
  const headers = new Headers(request.headers);
  for (const name of edits.remove) headers.delete(name);
  for (let i = 0; i < edits.set.length; i += 2) headers.set(edits.set[i]!, edits.set[i + 1]!);
  return new Request(request, { headers });
}

async function miss(
  outcome: Fetching,
  ctx: ReadContext,
  request: Request,
  origin: Origin,
): Promise<Response> {
  const recorder = outcome.recorder;
  let res: Response;
  try {
    res = await origin(forwarded(request, ctx, outcome));
  } catch (error) {
    // A stale must-revalidate entry may not stand in for an unreachable origin: 504.
    const gateway = recorder.originFailed();
    if (gateway !== undefined) return toResponse(gateway);
    throw error;
  }
  return record(recorder, res);
}

/** Tees an origin response through the recorder. */
function record(recorder: Recorder, res: Response): Response {
  const flat: FlatHeaders = [];
  for (const [name, value] of res.headers) {
    if (name !== 'set-cookie') flat.push(name, value);
  }
  for (const cookie of res.headers.getSetCookie()) flat.push('set-cookie', cookie);
  const action = recorder.head(res.status, flat);
  if (action.replace !== undefined) {
    // Record the origin's body without sending it; the replacement goes out instead.
    void drain(res, recorder);
    return toResponse(action.replace);
  }
  const out = new Headers(res.headers);
  out.set('x-cache', action.xCache);
  if (res.body === null) {
    recorder.end();
    return new Response(null, { status: res.status, statusText: res.statusText, headers: out });
  }
  // `cancel` (WHATWG Streams, node ≥ 20) is not in this TypeScript lib's `Transformer` yet.
  const transformer: Transformer<Uint8Array, Uint8Array> & {
    cancel(): void;
  } = {
    transform(chunk, controller) {
      recorder.chunk(chunk);
      controller.enqueue(chunk);
    },
    flush() {
      recorder.end();
    },
    // The origin's body stream failed mid-way (or the client cancelled): never stored, and
    // the recorder decides so now, settling any requests coalesced onto this one.
    cancel() {
      recorder.abort();
    },
  };
  const tee = new TransformStream(transformer);
  return new Response(res.body.pipeThrough(tee), {
    status: res.status,
    statusText: res.statusText,
    headers: out,
  });
}

async function drain(res: Response, recorder: Recorder): Promise<void> {
  try {
    if (res.body !== null) {
      for await (const chunk of res.body) recorder.chunk(chunk);
    }
    recorder.end();
  } catch {
    recorder.abort();
  }
}

async function refreshInBackground(
  route: HttpCacheRoute,
  ctx: ReadContext,
  request: Request,
  handler: (request: Request) => Response | Promise<Response>,
): Promise<void> {
  const outcome = await route.refresh(ctx);
  if (outcome.kind !== 'fetch') return;
  try {
    const res = record(
      outcome.recorder,
      await handler(new Request(forwarded(request, ctx, outcome))),
    );
    // Drain the body so the recorder sees it all and stores it.
    await res.arrayBuffer();
  } catch {
    outcome.recorder.abort();
  }
}

/**
 * A stored response as a Fetch `Response`. Headers go in as a plain record (repeated fields
 * joined with ", ", RFC 9110 §5.3; `Set-Cookie` is never stored), which `@hono/node-server`
 * writes without building a `Headers` object.
 */
function toResponse(r: ReplayResponse): Response {
  return new Response(r.body ?? null, { status: r.status, headers: joinHeaders(r.headers) });
}

function withXCache(res: Response, value: string): Response {
  const headers = new Headers(res.headers);
  headers.set('x-cache', value);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}
