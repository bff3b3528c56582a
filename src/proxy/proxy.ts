/**
 * `createProxy`: a caching reverse proxy on node:http — what `codeai-cache serve` runs.
 *
 * A request under `/__cache/` is the proxy's own (admin.ts). Every other request goes
 * through a `CachingMiddleware` whose origin is the upstream (forward.ts): with a CodeAI
 * plan, its cached endpoints get their policies and every other path is forwarded
 * untouched; without one, every path is an RFC 9111 shared cache with no policy of its own
 * (no `ttl`), so the origin's headers alone decide.
 *
 * Lifecycle. `listen()` starts a cache the proxy created (a Redis that does not answer is
 * logged, not fatal: requests go to the origin and caching resumes when it returns — the
 * cache's breaker and outbox do that). `close()` stops accepting, lets in-flight requests
 * finish for at most `drain` (10 s), then cuts what is left, stops the middleware and the
 * pool, and stops the cache if the proxy created it. `reload(plan)` swaps the plan between
 * requests; a request already running finishes under the plan it started with.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CodeAIPlan } from '../codeai/plan.js';
import type { Cache } from '../core/types.js';
import { type CacheConfig, createCache } from '../create-cache.js';
import {
  CachingMiddleware,
  DEFAULT_COALESCE_WAIT_MS,
  type HttpCacheStats,
} from '../http/caching-middleware.js';
import { ZERO_HTTP_STATS } from '../http/events.js';
import { hostResolver } from '../http/host.js';
import { parseTarget, pathTag } from '../http/key.js';
import type { NodeHandler } from '../http/node-handler.js';
import { ADMIN_PREFIX, admin } from './admin.js';
import { Forwarder } from './forward.js';
import { dropUntrustedForwarding, repeatedHost } from './headers.js';
import { createMetrics, type ProxyMetrics } from './metrics.js';
import { type ProxyOptions, resolveProxyOptions } from './options.js';

/** Where a listening proxy is. */
export interface ProxyAddress {
  host: string;
  port: number;
  /** `http://HOST:PORT` */
  url: string;
}

/** A running (or ready) proxy; see {@link createProxy}. */
export interface Proxy {
  /** Starts the cache (if the proxy owns it) and listens. `port` 0 (the default) picks a free one. */
  listen(port?: number, host?: string): Promise<ProxyAddress>;
  /** Stops accepting, lets in-flight requests finish (at most `drainMs`, default 10 s), releases everything. Idempotent. */
  close(drainMs?: number): Promise<void>;
  /** Applies a new plan to the requests that arrive from now on. */
  reload(plan: CodeAIPlan | undefined): void;
  /** The cache responses are stored in. */
  readonly cache: Cache;
  /** The node:http server (listening once `listen` resolved). */
  readonly server: Server;
  /** The middleware's counters, summed over reloads. */
  stats(): HttpCacheStats;
}

/** Creates a caching reverse proxy in front of `options.upstream` (not listening yet). */
export function createProxy(options: ProxyOptions): Proxy {
  const resolved = resolveProxyOptions(options);
  const owned =
    options.cache === undefined || typeof options.cache === 'string' || !isCache(options.cache);
  const cache: Cache = owned
    ? createCache((options.cache as CacheConfig | string | undefined) ?? { type: 'memory' })
    : (options.cache as Cache);
  const log = options.log ?? (() => {});
  // The tag a path's entries carry, under the host the middleware files them (its `host` option).
  const hostOf = hostResolver(options.middleware?.host);
  const tagOf = (host: string | undefined, url: string) =>
    pathTag(
      hostOf((name) => (name === 'host' ? host : undefined), url),
      parseTarget(url).path,
    );
  const startedAt = Date.now();

  // Counters of replaced middlewares, so metrics stay monotonic across reloads.
  let base: HttpCacheStats = { ...ZERO_HTTP_STATS };
  let middleware: CachingMiddleware;
  let handler: NodeHandler;
  const stats = (): HttpCacheStats => {
    const now = middleware.stats();
    const out = { ...base };
    for (const k of Object.keys(out) as (keyof HttpCacheStats)[]) out[k] += now[k];
    return out;
  };
  // Set by listen(): no request arrives before it.
  let metrics: ProxyMetrics | undefined;
  const forwarder = new Forwarder({
    upstream: resolved.upstream,
    timeoutMs: resolved.upstreamTimeoutMs,
    trustProxy: resolved.trustProxy,
    onOrigin: (ms, status) => metrics?.origin(ms, status),
    // Every answer read on that connection may be another request's (forward.ts, HISTORY_MAX).
    onStray: (answered) => {
      const { method, url } = answered[answered.length - 1]!;
      const earlier = answered.length - 1;
      log(
        `upstream sent more than its Content-Length in answer to ${method} ${url}: its entry${earlier > 0 ? ` and those of the ${earlier} earlier answers on that connection are` : ' is'} dropped and the connection closed`,
      );
      void middleware.invalidateTags([...new Set(answered.map((r) => tagOf(r.host, r.url)))]);
    },
  });
  const origin = (req: IncomingMessage, res: ServerResponse) => forwarder.forward(req, res);
  // Coalesced followers wait for the leader as long as the leader may wait for the upstream
  // (and a second for its answer to reach them): with the middleware's 10 s default under a
  // longer upstream timeout, followers of a hung origin gave up on the leader at 10 s and
  // each asked the origin again, answered only after 10 s + the whole timeout.
  const middlewareOptions = {
    ...options.middleware,
    coalesceWait:
      options.middleware?.coalesceWait ??
      Math.max(DEFAULT_COALESCE_WAIT_MS, resolved.upstreamTimeoutMs + 1_000),
  };
  const build = (plan: CodeAIPlan | undefined) => {
    const mw = new CachingMiddleware(cache, middlewareOptions);
    // No plan: an empty policy, so only the origin's own freshness stores a response.
    return { mw, h: plan === undefined ? mw.handler({}, origin) : mw.forPlan(plan, origin) };
  };
  ({ mw: middleware, h: handler } = build(options.plan));

  cache.on('breaker', ({ state, error }) => {
    if (state === 'open') {
      log(
        `cache unavailable (${(error as Error | undefined)?.message ?? 'no answer'}): answering from the origin`,
      );
    } else if (state === 'closed') log('cache available again: caching resumed');
  });

  const adminHost = {
    token: resolved.adminToken,
    health: async () => {
      const report = await cache.health();
      return {
        backend: cache.name,
        status: report.status,
        ...(report.error !== undefined ? { error: report.error } : {}),
        uptime: Math.round((Date.now() - startedAt) / 1000),
        upstream: resolved.upstream.origin,
      };
    },
    metrics: () => (metrics as ProxyMetrics).render(),
    invalidate: (tags: string[]) => middleware.invalidateTags(tags),
    pathTag: (host: string, path: string) => tagOf(host, path),
  };

  let closing: Promise<void> | undefined;
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    if (url.startsWith(ADMIN_PREFIX)) {
      void admin(req, res, adminHost);
      return;
    }
    // RFC 9112 §3.2: two Host lines are refused, never resolved: the cache would file the
    // answer under one and an origin that reads the other would make it for another host.
    if (repeatedHost(req)) {
      req.resume();
      res.writeHead(400, { 'content-type': 'text/plain', connection: 'close' });
      res.end('more than one Host field\n');
      return;
    }
    if (!resolved.trustProxy) dropUntrustedForwarding(req);
    // Draining: each response closes its connection, so the drain ends when they do.
    if (closing !== undefined) res.shouldKeepAlive = false;
    const started = performance.now();
    handler(req, res);
    const m = metrics;
    if (m === undefined) return;
    m.request();
    // A memory hit has been written by now (the middleware answers it in the same tick):
    // its latency is known without a listener on the response. This is the hit path.
    if (res.writableEnded) m.total(performance.now() - started);
    else res.once('close', () => m.total(performance.now() - started));
  };
  const server = createServer({ keepAliveTimeout: 5_000 }, onRequest);
  // Answer `Expect: 100-continue` with the upstream's own 100 (or its final answer), not node's.
  server.on('checkContinue', onRequest);
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  return {
    cache,
    server,
    stats,
    async listen(port = 0, host = '127.0.0.1') {
      metrics ??= await createMetrics(stats, cache);
      if (owned) {
        try {
          await cache.start();
        } catch (err) {
          log(
            `cache not reachable yet (${(err as Error).message}): answering from the origin until it is`,
          );
        }
      }
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const address = server.address() as AddressInfo;
      const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return { host: address.address, port: address.port, url: `http://${shown}:${address.port}` };
    },
    reload(plan) {
      const next = build(plan);
      const old = middleware;
      base = stats();
      ({ mw: middleware, h: handler } = next);
      old.stop();
    },
    close(drainMs = 10_000) {
      closing ??= (async () => {
        server.close();
        // In-flight requests finish on their connections; a connection is closed as soon as
        // it is idle. Polled rather than counted per request, so a hit pays nothing for it.
        const deadline = performance.now() + drainMs;
        for (;;) {
          server.closeIdleConnections();
          const left = deadline - performance.now();
          if (left <= 0 || (await openConnections(server)) === 0) break;
          await new Promise((resolve) => setTimeout(resolve, Math.min(DRAIN_POLL_MS, left)));
        }
        server.closeAllConnections();
        middleware.stop();
        forwarder.close();
        if (owned) await cache.stop();
      })();
      return closing;
    },
  };
}

/** How often a draining proxy looks for connections that went idle. */
const DRAIN_POLL_MS = 20;

function openConnections(server: Server): Promise<number> {
  return new Promise((resolve) => server.getConnections((_err, n) => resolve(n ?? 0)));
}

function isCache(value: object): value is Cache {
  return (
    typeof (value as Partial<Cache>).get === 'function' &&
    typeof (value as Partial<Cache>).stats === 'function'
  );
}
