/**
 * Hono and plain Fetch (`Request → Response`) adapter: `honoCache(middleware, policy)` is a
 * Hono middleware; `cachingFetch(middleware, policy, handler)` wraps any Fetch handler
 * (Hono's `app.fetch`, a Worker-style handler, …).
 *
 * A miss streams the origin's body to the client through a `TransformStream` that tees each
 * chunk to the recorder, so large bodies pass without being buffered whole. The Fetch wrapper
 * can re-run its handler, so it serves `stale-while-revalidate` at once and refreshes in the
 * background; the Hono middleware (which can run `next` only once) lets the first stale
 * request refresh while concurrent ones get the stale copy.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { CachingMiddleware } from '../http/caching-middleware.js';
import type { FlatHeaders, HeaderGetter } from '../http/headers.js';
import type { CachePolicy } from '../http/policy.js';
import type { ReadContext } from '../http/read-context.js';
import type { Recorder } from '../http/recorder.js';
import type { ReplayResponse } from '../http/replay.js';
import type { HttpCacheRoute } from '../http/route.js';

/** A Fetch handler. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** Wraps a Fetch handler with the cache: `(request) => Promise<Response>`. */
export function cachingFetch(
  middleware: CachingMiddleware,
  policy: CachePolicy,
  handler: FetchHandler,
): (request: Request) => Promise<Response> {
  const route = middleware.route(policy);
  return (request) =>
    handle(
      route,
      request,
      async (req) => handler(req),
      (ctx) => refreshInBackground(route, ctx, request, handler),
    );
}

/** A Hono middleware applying `policy`. */
export function honoCache(
  middleware: CachingMiddleware,
  policy: CachePolicy = {},
): MiddlewareHandler {
  const route = middleware.route(policy);
  return async (c: Context, next) => {
    const response = await handle(route, c.req.raw, async (req) => {
      if (req !== c.req.raw) c.req.raw = req;
      await next();
      return c.res;
    });
    // Replace the response outright: Hono's `res` setter would otherwise merge the old headers.
    c.res = undefined;
    c.res = response;
  };
}

type Origin = (request: Request) => Promise<Response>;

async function handle(
  route: HttpCacheRoute,
  request: Request,
  origin: Origin,
  refresh?: (ctx: ReadContext) => void,
): Promise<Response> {
  const url = new URL(request.url);
  const headers = request.headers;
  const header: HeaderGetter = (name) =>
    headers.get(name) ?? (name === 'host' ? url.host : undefined);
  const plan = route.begin(request.method, url.pathname + url.search, header);
  if (plan.kind === 'bypass') return withXCache(await origin(request), 'BYPASS');
  if (plan.kind === 'write') {
    const res = await origin(request);
    const pending = plan.finish(
      res.status,
      res.headers.get('location') ?? undefined,
      res.headers.get('content-location') ?? undefined,
    );
    if (pending !== undefined) await pending;
    return withXCache(res, 'BYPASS');
  }
  const ctx = plan.ctx;
  const outcome = await route.lookup(ctx, refresh && (() => refresh(ctx)));
  if (outcome.kind === 'replay') return toResponse(outcome.response);
  let forward = request;
  if (ctx.conditions !== undefined) {
    // Ask the origin for the full response so it can be stored; the recorder answers the
    // client's validators itself.
    const stripped = new Headers(headers);
    stripped.delete('if-none-match');
    stripped.delete('if-modified-since');
    forward = new Request(request, { headers: stripped });
  }
  let res: Response;
  try {
    res = await origin(forward);
  } catch (error) {
    outcome.recorder.abort();
    throw error;
  }
  return record(outcome.recorder, res);
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
  const tee = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      recorder.chunk(chunk);
      controller.enqueue(chunk);
    },
    flush() {
      recorder.end();
    },
  });
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

function refreshInBackground(
  route: HttpCacheRoute,
  ctx: ReadContext,
  request: Request,
  handler: FetchHandler,
): void {
  void (async () => {
    const outcome = await route.refresh(ctx);
    if (outcome.kind !== 'fetch') return;
    try {
      const res = record(outcome.recorder, await handler(new Request(request)));
      // Drain the body so the recorder sees it all and stores it.
      await res.arrayBuffer();
    } catch {
      outcome.recorder.abort();
    }
  })();
}

function toResponse(r: ReplayResponse): Response {
  const headers = new Headers();
  for (let i = 0; i < r.headers.length; i += 2) headers.append(r.headers[i]!, r.headers[i + 1]!);
  return new Response(r.body ?? null, { status: r.status, headers });
}

function withXCache(res: Response, value: string): Response {
  const headers = new Headers(res.headers);
  headers.set('x-cache', value);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}
