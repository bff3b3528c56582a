/**
 * Fastify adapter: a plugin whose `onRequest` hook answers hits (and classifies the request)
 * and whose `onSend` hook tees the serialized payload — string, Buffer or stream — to the
 * recorder, adding `X-Cache` before Fastify writes the head.
 *
 * ```ts
 * await app.register(fastifyCache(middleware, { ttl: '30s' }));
 * app.get('/me', { config: { cache: { ttl: '1m', varyBy: ['authorization'] } } }, handler);
 * app.get('/live', { config: { cache: false } }, handler);
 * ```
 *
 * The plugin is not encapsulated (it sets Fastify's `skip-override` symbol, as
 * `fastify-plugin` would), so its hooks cover the routes of the scope it is registered in.
 */
import { randomUUID } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onRequestHookHandler,
  onSendHookHandler,
} from 'fastify';
import type { CodeAIPlan } from '../codeai/plan.js';
import type { CachingMiddleware } from '../http/caching-middleware.js';
import { type FlatHeaders, flattenHeaders, type HeaderGetter } from '../http/headers.js';
import { PlanRoutes } from '../http/plan-routes.js';
import type { CachePolicy } from '../http/policy.js';
import type { Recorder } from '../http/recorder.js';
import type { ReplayResponse } from '../http/replay.js';
import type { HttpCacheRoute, Outcome, Plan } from '../http/route.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This route's cache policy, or `false` to leave it uncached. */
    cache?: CachePolicy | false;
  }
}

/** Marks the plugin's own background refresh requests (with a per-instance secret). */
const REFRESH_HEADER = 'x-codeai-cache-refresh';

type State =
  | { kind: 'replayed' }
  | { kind: 'write'; plan: Extract<Plan, { kind: 'write' }> }
  | { kind: 'read'; recorder: Recorder };

/** How a request is handled: its route (for reads) and its plan; undefined leaves it alone. */
type Select = (
  request: FastifyRequest,
  header: HeaderGetter,
) => { route: HttpCacheRoute | undefined; plan: Plan } | undefined;

/** A Fastify plugin applying `policy` (routes may override it with `config.cache`). */
export function fastifyCache(
  middleware: CachingMiddleware,
  policy: CachePolicy = {},
): (instance: FastifyInstance) => Promise<void> {
  const fallback = middleware.route(policy);
  const perConfig = new WeakMap<object, HttpCacheRoute | false>();
  const routeFor = (request: FastifyRequest): HttpCacheRoute | false => {
    const config = request.routeOptions.config as { cache?: CachePolicy | false } | undefined;
    if (config?.cache === undefined) return fallback;
    let route = perConfig.get(config);
    if (route === undefined) {
      route = config.cache === false ? false : middleware.route(config.cache);
      perConfig.set(config, route);
    }
    return route;
  };
  return cachePlugin((request, header) => {
    const route = routeFor(request);
    return route === false
      ? undefined
      : { route, plan: route.begin(request.method, request.url, header) };
  });
}

/**
 * A Fastify plugin applying a CodeAI plan (`loadCodeAI`) to the whole app: the plan's cached
 * GET endpoints get their policies, successful writes invalidate the GET routes the plan
 * links them to, every other route is left alone (src/http/plan-routes.ts).
 */
export function fastifyPlanCache(
  middleware: CachingMiddleware,
  plan: CodeAIPlan,
): (instance: FastifyInstance) => Promise<void> {
  const routes = new PlanRoutes(middleware, plan);
  return cachePlugin((request, header) => {
    const d = routes.decide(request.method, request.url, header);
    if (d.kind === 'pass') return undefined;
    if (d.kind === 'read') {
      return { route: d.route, plan: d.route.begin(request.method, request.url, header) };
    }
    return { route: undefined, plan: { kind: 'write', finish: (status) => d.finish(status) } };
  });
}

function cachePlugin(select: Select): (instance: FastifyInstance) => Promise<void> {
  const plugin = async (instance: FastifyInstance): Promise<void> => {
    const state = new WeakMap<FastifyRequest, State>();

    // Callback-style hooks, not async ones: a hit the backend answers synchronously is then
    // written in the same tick the request arrived (a promise hop costs a fifth of the
    // throughput of a fast route), and requests we do not touch pay no promise at all.
    const onRequest: onRequestHookHandler = (request, reply, done) => {
      const headers = request.raw.headers;
      const header: HeaderGetter = (name) => {
        const v = headers[name];
        return v === undefined || typeof v === 'string' ? v : v.join(', ');
      };
      const selected = select(request, header);
      if (selected === undefined) return done();
      const { plan } = selected;
      // A read plan always comes with its route.
      const route = selected.route!;
      if (plan.kind !== 'read') {
        reply.header('x-cache', 'BYPASS');
        if (plan.kind === 'write') state.set(request, { kind: 'write', plan });
        return done();
      }
      const ctx = plan.ctx;
      const refreshing = headers[REFRESH_HEADER] === token;
      if (refreshing) delete headers[REFRESH_HEADER];
      const proceed = (outcome: Outcome) => {
        if (outcome.kind === 'replay') {
          const r = outcome.response;
          state.set(request, { kind: 'replayed' });
          reply.code(r.status).headers(groupHeaders(r.headers));
          // For HEAD, Fastify derives Content-Length from the payload and drops it itself.
          reply.send(sendable(r));
          return; // responded: done() must not be called
        }
        if (ctx.conditions !== undefined) {
          // Ask the origin for the full response so it can be stored; the recorder answers
          // the client's validators itself.
          delete headers['if-none-match'];
          delete headers['if-modified-since'];
        }
        const validators = outcome.validators;
        if (validators !== undefined) {
          // Revalidate the stored entry: a 304 from the origin refreshes it (RFC 9111 §4.3).
          for (let i = 0; i < validators.length; i += 2)
            headers[validators[i]!] = validators[i + 1];
        }
        state.set(request, { kind: 'read', recorder: outcome.recorder });
        done();
      };
      if (refreshing) {
        // Our own background refresh: skip the lookup, fetch and store.
        route.refresh(ctx).then(proceed, done);
        return;
      }
      const outcome = route.lookup(ctx, () => refreshInBackground(request, ctx.primary));
      if (outcome instanceof Promise) outcome.then(proceed, done);
      else proceed(outcome);
    };

    // stale-while-revalidate (RFC 5861 §3): the stale copy is served at once and the route
    // is re-run in the background through `inject`, marked with a per-instance token so the
    // re-run skips the lookup, fetches and stores. One refresh per key at a time.
    const token = randomUUID();
    const refreshingKeys = new Set<string>();
    const refreshInBackground = (request: FastifyRequest, key: string) => {
      if (refreshingKeys.has(key)) return;
      refreshingKeys.add(key);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.raw.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      headers[REFRESH_HEADER] = token;
      instance
        .inject({ method: 'GET', url: request.url, headers })
        .catch(() => undefined)
        .finally(() => refreshingKeys.delete(key));
    };

    const onSend: onSendHookHandler<unknown> = (request, reply, payload, done) => {
      const s = state.get(request);
      if (s === undefined || s.kind === 'replayed') return done(null, payload);
      state.delete(request);
      if (s.kind === 'read') return done(null, record(s.recorder, reply, payload));
      const location = reply.getHeader('location');
      const contentLocation = reply.getHeader('content-location');
      const pending = s.plan.finish(
        reply.statusCode,
        location === undefined ? undefined : String(location),
        contentLocation === undefined ? undefined : String(contentLocation),
      );
      if (pending === undefined) return done(null, payload);
      // Hold the response until the invalidation is done (read-your-writes).
      pending.then(() => done(null, payload));
    };

    instance.addHook('onRequest', onRequest);
    instance.addHook('onSend', onSend);
  };
  // Apply to the registering scope, as fastify-plugin would.
  (plugin as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')] = true;
  (plugin as unknown as Record<symbol, unknown>)[Symbol.for('fastify.display-name')] =
    'codeai-cache';
  return plugin;
}

function record(recorder: Recorder, reply: FastifyReply, sent: unknown): unknown {
  let payload = sent;
  if (isResponse(payload)) {
    // A Fetch Response handed to reply.send: apply its status and headers now, as Fastify
    // would after the hooks, so the recorder sees the final head.
    reply.code(payload.status);
    for (const [name, value] of payload.headers) reply.header(name, value);
    payload = payload.body;
  }
  if (isWebStream(payload)) payload = Readable.fromWeb(payload as WebReadableStream);
  const flat: FlatHeaders = flattenHeaders(reply.getHeaders() as Record<string, string>);
  const action = recorder.head(reply.statusCode, flat);
  const r = action.replace;
  if (r !== undefined) {
    for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
    reply.code(r.status).headers(groupHeaders(r.headers));
  } else {
    reply.header('x-cache', action.xCache);
  }
  if (payload === undefined || payload === null) {
    recorder.end();
    return r === undefined ? payload : sendable(r);
  }
  if (typeof payload === 'string' || payload instanceof Uint8Array) {
    recorder.chunk(typeof payload === 'string' ? Buffer.from(payload) : payload);
    recorder.end();
    return r === undefined ? payload : sendable(r);
  }
  if (isStream(payload)) {
    // Stream through without buffering the whole body; the recorder keeps what it may store.
    const tee = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        recorder.chunk(chunk);
        callback(null, chunk);
      },
      flush(callback) {
        recorder.end();
        callback();
      },
    });
    payload.once('error', (error) => {
      recorder.abort();
      tee.destroy(error);
    });
    const piped = payload.pipe(tee);
    if (r === undefined) return piped;
    // Record the origin's body without sending it; the replacement goes out instead.
    piped.resume();
    return sendable(r);
  }
  recorder.abort();
  return payload;
}

/** What Fastify should send for a replayed response (HEAD: the body, Fastify drops it). */
function sendable(r: ReplayResponse): Buffer | null {
  return r.body ?? r.headBody ?? null;
}

function isResponse(payload: unknown): payload is Response {
  return (
    typeof payload === 'object' &&
    payload !== null &&
    Object.prototype.toString.call(payload) === '[object Response]'
  );
}

function isWebStream(payload: unknown): boolean {
  return typeof (payload as { getReader?: unknown } | null)?.getReader === 'function';
}

function isStream(payload: unknown): payload is NodeJS.ReadableStream & {
  resume(): void;
  once(event: 'error', fn: (error: Error) => void): void;
} {
  return typeof (payload as { pipe?: unknown } | null)?.pipe === 'function';
}

/** Flat headers as an object, repeated names as arrays. */
function groupHeaders(flat: FlatHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!;
    const value = flat[i + 1]!;
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}
