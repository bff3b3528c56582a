/**
 * What the scenario table and the dead-backend tests run against: every adapter of
 * servers.ts through a `CachingMiddleware`, plus `serve` — `createProxy` (src/proxy), the
 * reverse proxy behind `codeai-cache serve`, in this process, in front of the same
 * {@link Origin} served by plain node:http on loopback.
 *
 * `serve` has no route policies: without a CodeAI plan it is a shared cache whose origin's
 * headers alone decide (RFC 9111), so rows about a policy's `ttl`, `varyBy` or
 * `ignoreCookies` are marked per target (`Scenario.skip`). The middleware's own options
 * (`ignoreCookies`, `host`, `targetedFields`, the clock, `maxBodySize`) reach it through
 * `ProxyOptions.middleware`.
 */
import { request } from 'node:http';
import type { Cache } from '../../src/core/types.js';
import {
  CachingMiddleware,
  type CachingMiddlewareOptions,
} from '../../src/http/caching-middleware.js';
import type { HttpCacheStats } from '../../src/http/events.js';
import { createProxy } from '../../src/proxy/proxy.js';
import type { Origin } from './origin.js';
import { ADAPTERS, node, POLICY } from './servers.js';

/** What a row may ask of the cache under test, whichever target holds it. */
export interface TableMiddleware {
  stats(): HttpCacheStats;
  invalidateTags(tags: readonly string[]): Promise<void>;
}

/** One running target. */
export interface Target {
  url: string;
  mw: TableMiddleware;
  /** The same origin served the same way without any cache: what its client would see. */
  bare(): Promise<string>;
  close(): Promise<void>;
}

/** Starts a target over `cache` with middleware `options`, serving `origin`. */
export type OpenTarget = (
  cache: Cache,
  options: CachingMiddlewareOptions,
  origin: Origin,
) => Promise<Target>;

/** A bare server started on first use, and its closer. */
function bareOf(start: () => Promise<{ url: string; close(): Promise<void> }>) {
  let running: Promise<{ url: string; close(): Promise<void> }> | undefined;
  return {
    bare: async () => {
      running ??= start();
      return (await running).url;
    },
    closeBare: async () => {
      if (running !== undefined) await (await running).close();
    },
  };
}

const middlewareTargets = Object.fromEntries(
  Object.entries(ADAPTERS).map(([name, start]): [string, OpenTarget] => [
    name,
    async (cache, options, origin) => {
      const mw = new CachingMiddleware(cache, options);
      const server = await start(mw, origin);
      const { bare, closeBare } = bareOf(() => start(undefined, origin));
      return {
        url: server.url,
        mw,
        bare,
        close: async () => {
          await server.close();
          await closeBare();
          mw.stop();
        },
      };
    },
  ]),
);

/** POSTs `body` as JSON and resolves with the status. */
function postJson(url: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** `createProxy` in front of the origin on plain node:http. */
const serve: OpenTarget = async (cache, options, origin) => {
  const upstream = await node(undefined, origin);
  const proxy = createProxy({
    upstream: upstream.url,
    cache,
    // The table's body-size bound (the adapters get it from their policy).
    middleware: { maxBodySize: POLICY.maxBodySize, ...options },
  });
  const { url } = await proxy.listen(0, '127.0.0.1');
  return {
    url,
    mw: {
      stats: () => proxy.stats(),
      // Through the admin route, as an operator would (loopback: no token needed).
      invalidateTags: async (tags) => {
        const status = await postJson(`${url}/__cache/invalidate`, { tags });
        if (status !== 200) throw new Error(`POST /__cache/invalidate answered ${status}`);
      },
    },
    // Without the cache, the client talks to the origin itself.
    bare: async () => upstream.url,
    close: async () => {
      await proxy.close(1_000);
      await upstream.close();
    },
  };
};

/** Every target, by name: the adapters, then `serve`. */
export const TARGETS: Record<string, OpenTarget> = { ...middlewareTargets, serve };
