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
import { Buffer } from 'node:buffer';
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
import { type FlatHeaders, flattenHeaders } from '../http/headers.js';
import {
  applyEdits,
  BackgroundRefresh,
  type FinishWrite,
  forwardEdits,
  groupHeaders,
  nodeHeaderGetter,
  planSelector,
  routeSelector,
  type Selector,
  type Step,
} from '../http/kernel.js';
import { PlanRoutes } from '../http/plan-routes.js';
import type { CachePolicy } from '../http/policy.js';
import type { Recorder } from '../http/recorder.js';
import type { ReplayResponse } from '../http/replay.js';
import type { Outcome } from '../http/route.js';

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
  | { kind: 'write'; finish: FinishWrite }
  | { kind: 'read'; recorder: Recorder };

/** How a request is handled: the kernel's selector for its route config. */
type Select = (request: FastifyRequest) => Selector | undefined;

/** A Fastify plugin applying `policy` (routes may override it with `config.cache`). */
export function fastifyCache(
  middleware: CachingMiddleware,
  policy: CachePolicy = {},
): (instance: FastifyInstance) => Promise<void> {
  const fallback = routeSelector(middleware.route(policy));
  const perConfig = new WeakMap<object, Selector | undefined>();
  return cachePlugin((request) => {
    const config = request.routeOptions.config as { cache?: CachePolicy | false } | undefined;
    if (config?.cache === undefined) return fallback;
    if (perConfig.has(config)) return perConfig.get(config);
    const select =
      config.cache === false ? undefined : routeSelector(middleware.route(config.cache));
    perConfig.set(config, select);
    return select;
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
  const select = planSelector(new PlanRoutes(middleware, plan));
  return cachePlugin(() => select);
}

function cachePlugin(selectFor: Select): (instance: FastifyInstance) => Promise<void> {
  const plugin = async (instance: FastifyInstance): Promise<void> => {
    const state = new WeakMap<FastifyRequest, State>();

    // Callback-style hooks, not async ones: a hit the backend answers synchronously is then
    // written in the same tick the request arrived (a promise hop costs a fifth of the
    // throughput of a fast route), and requests we do not touch pay no promise at all.
    const onRequest: onRequestHookHandler = (request, reply, done) => {
      const select = selectFor(request);
      if (select === undefined) return done();
      const headers = request.raw.headers;
      const step: Step = select(request.method, request.url, nodeHeaderGetter(headers));
      if (step.kind !== 'read') {
        if (step.kind === 'pass') return done();
        reply.header('x-cache', 'BYPASS');
        if (step.kind === 'write') state.set(request, { kind: 'write', finish: step.finish });
        return done();
      }
      const { route, ctx } = step;
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
        applyEdits(headers, forwardEdits(ctx, outcome));
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
    // re-run skips the lookup, fetches and stores.
    const token = randomUUID();
    const refresher = new BackgroundRefresh();
    const refreshInBackground = (request: FastifyRequest, key: string) => {
      refresher.start(key, () => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(request.raw.headers)) {
          if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
        }
        headers[REFRESH_HEADER] = token;
        return instance.inject({ method: 'GET', url: request.url, headers });
      });
    };

    const onSend: onSendHookHandler<unknown> = (request, reply, payload, done) => {
      const s = state.get(request);
      if (s === undefined || s.kind === 'replayed') return done(null, payload);
      state.delete(request);
      if (s.kind === 'read') return done(null, record(s.recorder, reply, payload));
      const location = reply.getHeader('location');
      const contentLocation = reply.getHeader('content-location');
      const pending = s.finish(
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
