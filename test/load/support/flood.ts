/**
 * The unique-URL flood (docs/reliability.md, "Load"): `n` distinct URLs through `serve` (the
 * caching reverse proxy, over real loopback sockets) in front of a small origin, every one a
 * miss that is stored. Shared by the fast test (`flood.test.ts`) and the full run
 * (`npm run load`, `run-flood.ts`).
 *
 * The origin mixes what a real one sends, so every kind of key the library writes shows up:
 * plain cacheable responses, `Cache-Tag`s, `Vary` (a marker plus a variant), and, when
 * `writes` is on, a POST every 50 requests (invalidation: tag-version keys).
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Pool } from 'undici';
import type { Cache } from '../../../src/index.js';
import { createProxy } from '../../../src/proxy/index.js';
import { listen } from './load.js';

export interface FloodOptions {
  /** Where responses are stored (the proxy owns a URL / config, the caller owns a Cache). */
  cache: Cache | string;
  n: number;
  /** Concurrent client connections. */
  connections?: number;
  /** Bytes of each response body. */
  bodyBytes?: number;
  /** A POST every 50 requests (drops a path's entries, bumps tag versions). */
  writes?: boolean;
  /** Called every `every` requests with how many are done. */
  progress?: (done: number) => void;
  every?: number;
}

export interface FloodResult {
  done: number;
  ms: number;
  rate: number;
  statuses: Map<number, number>;
  originRequests: number;
  /** The proxy's cache's `stats()` at the end. */
  stats: ReturnType<Cache['stats']>;
}

/** The path of request `i`: 1 in 10 asks for a route that varies on `Accept`. */
export function floodPath(i: number): string {
  return i % 10 === 0 ? `/vary/${i}` : `/item/${i}?b=${i % 7}&a=1`;
}

/** Runs the flood; the proxy and origin are closed before it resolves (the cache too, if the proxy owns it). */
export async function flood(options: FloodOptions): Promise<FloodResult> {
  const { n, connections = 64, bodyBytes = 256, writes = false } = options;
  const body = Buffer.alloc(bodyBytes, 'x');
  let originRequests = 0;
  const origin = await listen((req, res) => {
    originRequests++;
    if (req.method !== 'GET') {
      req.resume();
      res.writeHead(204).end();
      return;
    }
    const path = req.url ?? '/';
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'cache-control': 'max-age=3600',
      'cache-tag': `group-${path.length % 13}`,
    };
    if (path.startsWith('/vary/')) headers.vary = 'accept';
    res.writeHead(200, headers);
    res.end(body);
  });
  const proxy = createProxy({ upstream: origin.url, cache: options.cache });
  const address = await proxy.listen(0, '127.0.0.1');
  const pool = new Pool(address.url, { connections, pipelining: 1 });
  const statuses = new Map<number, number>();
  let next = 0;
  let done = 0;
  const every = options.every ?? 10_000;
  const t0 = performance.now();
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      const write = writes && i % 50 === 49;
      const res = await pool.request({
        path: write ? `/item/${i - 7}` : floodPath(i),
        method: write ? 'POST' : 'GET',
        headers: { accept: i % 3 === 0 ? 'text/html' : 'application/json' },
        body: write ? 'x' : undefined,
      });
      await res.body.dump();
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      done++;
      if (done % every === 0) options.progress?.(done);
    }
  };
  try {
    await Promise.all(Array.from({ length: connections }, worker));
  } finally {
    await pool.close();
  }
  const ms = performance.now() - t0;
  const stats = proxy.cache.stats();
  await proxy.close(1_000);
  await origin.close();
  return { done, ms, rate: (done * 1000) / ms, statuses, originRequests, stats };
}

/** A full garbage collection (V8's `gc`, made reachable without restarting with `--expose-gc`). */
export function fullGc(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
}

/** `heapUsed` after a full collection. */
export function heapAfterGc(): number {
  fullGc();
  return process.memoryUsage().heapUsed;
}
