/**
 * `createProxy` in front of a {@link RawOrigin}, on the memory backend or on a private
 * redis-server, and the checks every origin-fault test ends with: nothing stored, no
 * connection left open to the origin, `close()` prompt, no socket or timer left behind.
 *
 * In-process rather than the `serve` subprocess (test/serve does that): the tests count the
 * proxy's own handles and read its cache and counters directly.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import type { HttpCacheStats } from '../../../src/http/caching-middleware.js';
import { type Proxy as CachingProxy, createProxy, type Duration } from '../../../src/index.js';
import { eventually, type SkewedClock, skewedClock } from '../../eventually.js';
import { type RedisServer, startRedis } from '../../harness/redis.js';
import { RawOrigin } from './origin-raw.js';

/** Where the proxy stores responses. */
export type Backend = 'memory' | 'redis';

export const BACKENDS: Backend[] = ['memory', 'redis'];

/** Rigs a test left open (it failed before `finish`): closed after the file's tests. */
const unfinished = new Set<() => Promise<void>>();

/**
 * A private redis-server for the file, started before its tests; after them, it is stopped
 * and any rig a failed test left open is closed.
 */
export function privateRedis(): () => string {
  let redis: RedisServer | undefined;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.all([...unfinished].map((close) => close()));
    unfinished.clear();
    await redis?.stop();
  });
  return () => {
    if (redis === undefined) throw new Error('privateRedis: the server is not started yet');
    return redis.url;
  };
}

/** A proxy, its origin and the clock its cache reads. */
export interface Rig {
  proxy: CachingProxy;
  origin: RawOrigin;
  /** `http://127.0.0.1:PORT` of the proxy. */
  url: string;
  clock: SkewedClock;
  timeoutMs: number;
  /** Keys the proxy's cache holds (every key the middleware writes lives under its prefix). */
  keys(): Promise<string[]>;
  stats(): HttpCacheStats;
  /** Resolves once no connection to the origin is open (fails after 10 s). */
  released(): Promise<void>;
  /** Every check a fault test ends with; closes the rig. */
  finish(): Promise<void>;
}

let serial = 0;

/**
 * Starts an origin and a proxy in front of it with `upstreamTimeout` = `timeoutMs`. On Redis
 * the proxy gets a prefix of its own, so rigs of one file never share entries.
 */
export async function rig(
  backend: Backend,
  redisUrl: (() => string) | undefined,
  timeoutMs: number,
  middleware: { coalesceWait?: Duration } = {},
): Promise<Rig> {
  // Handles of the worker before this rig existed (other concurrent rigs' come and go, so
  // `finish` compares only handle kinds this rig creates, once the others are closed too).
  const origin = new RawOrigin();
  await origin.listen();
  const clock = skewedClock();
  const prefix = `origin-faults-${process.pid}-${++serial}`;
  const proxy = createProxy({
    upstream: origin.url,
    upstreamTimeout: timeoutMs,
    cache:
      backend === 'memory'
        ? { type: 'memory', prefix, clock }
        : { type: 'redis', url: redisUrl!(), prefix, clock },
    middleware: { clock, ...middleware },
  });
  const { url } = await proxy.listen(0);
  const leftover = async () => {
    await proxy.close(0);
    await origin.close();
  };
  unfinished.add(leftover);
  return {
    proxy,
    origin,
    url,
    clock,
    timeoutMs,
    keys: () => proxy.cache.keys('*'),
    stats: () => proxy.stats(),
    async released() {
      // The proxy closes its upstream connections once it gave up on them: a hung origin
      // must not keep a socket (and the proxy a file descriptor) per abandoned request.
      await eventually(() => expect(origin.open).toBe(0));
    },
    async finish() {
      unfinished.delete(leftover);
      // Nothing in flight any more: close() has nothing to drain. Bounded by a generous
      // margin rather than measured tight (a loaded machine may be slow to schedule us);
      // the drain default is 10 s, so a close that waited on a stuck request would show.
      const started = performance.now();
      await proxy.close();
      expect(performance.now() - started).toBeLessThan(5_000);
      // Its pooled keep-alive connections go with it.
      await eventually(() => expect(origin.open).toBe(0));
      await origin.close();
    },
  };
}

/** Kinds of handle a rig creates (sockets, servers, timers); counted before and after. */
export function handleCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind === 'TCPSocketWrap' || kind === 'TCPServerWrap' || kind === 'Timeout') {
      counts[kind] = (counts[kind] ?? 0) + 1;
    }
  }
  return counts;
}
