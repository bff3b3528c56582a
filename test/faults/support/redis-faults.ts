/**
 * What the Redis fault tests share: the caches under test (a RedisCache and a TieredCache,
 * built the same way on a private server), their timeouts, and the bound every call must
 * end within.
 */
import { type Cache, RedisCache, type RedisCacheOptions, TieredCache } from '../../../src/index.js';
import type { RedisServer } from '../../harness/redis.js';
import { ModelLoad, until } from './redis-load.js';

/** Short, so an outage costs the suite little; every bound below is a multiple of it. */
export const COMMAND_TIMEOUT_MS = 200;

/**
 * The longest one call may take during a fault. The slowest call the README allows is a
 * getOrSet miss while the breaker is still closed: its read, lock, lock check and write each
 * wait one `commandTimeout` (plus the sweep's tenth) — 4 × 220 ms — plus a margin of 1.5 s
 * for a loaded 2-core machine (other test files run beside this one). A call that waited
 * for Redis to come back would take as long as the fault lasts, and the faults below last
 * longer than this bound.
 */
export const BOUND_MS = 5 * (COMMAND_TIMEOUT_MS * 1.1) + 1_500;

/** The cache options every fault test uses: the short timeout, a short breaker cool-down. */
export function faultOptions(url: string, prefix: string): RedisCacheOptions {
  return {
    url,
    prefix,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: 500,
    breaker: { threshold: 5, cooldown: '300ms' },
  };
}

/** The cache kinds each scenario runs on. */
export const CACHE_KINDS = {
  RedisCache: (url: string, prefix: string): Cache => new RedisCache(faultOptions(url, prefix)),
  TieredCache: (url: string, prefix: string): Cache =>
    new TieredCache({ ...faultOptions(url, prefix), l1: { ttl: '1m' } }),
} as const;

/**
 * Keeps checking that no call of `load` is in flight beyond the bound, for `ms` (the
 * fault's length): a hung call is caught while the fault lasts.
 */
export async function watchFor(load: ModelLoad, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    load.assertNoHang();
    await new Promise((r) => setTimeout(r, 50));
  }
  load.assertNoHang();
}

/** A fault to inflict on a running server, and how to end it. */
export interface Fault {
  name: string;
  begin(server: RedisServer): Promise<void>;
  end(server: RedisServer): Promise<void>;
}

/** SIGKILL, then a restart on the same port (empty: no persistence). */
export const KILL: Fault = {
  name: 'killed (SIGKILL) and restarted',
  begin: (s) => s.kill(),
  end: (s) => s.restart(),
};

/** SIGSTOP, then SIGCONT: connections stay open and nothing answers meanwhile. */
export const PAUSE: Fault = {
  name: 'paused (SIGSTOP) and continued',
  begin: async (s) => s.pause(),
  end: async (s) => s.resume(),
};

/** How long a fault lasts: longer than the bound, so a call that waits it out is caught. */
export const FAULT_MS = BOUND_MS + 700;

/** What one outage scenario saw, for the assertions and the report. */
export interface OutageResult {
  load: ModelLoad;
  healthDuring: string;
  breakerStates: string[];
}

/**
 * One outage under load: warm the cache, inflict `fault` for {@link FAULT_MS} with the
 * load running (watching for hung calls), end it, and wait — without recreating the cache —
 * until it is healthy and serving Redis hits and acknowledged writes again.
 */
export async function outageUnderLoad(
  server: RedisServer,
  cache: Cache,
  prefix: string,
  fault: Fault,
): Promise<OutageResult> {
  const breakerStates: string[] = [];
  cache.on('breaker', (e) => breakerStates.push(e.state));
  const load = new ModelLoad(cache, { boundMs: BOUND_MS });
  try {
    await until('the load to warm the cache', () => load.counts.getHits > 100);
    await until('many calls in flight', () => load.inFlight >= 40);
    await fault.begin(server);
    const failed = load.counts.setsFailed;
    await watchFor(load, FAULT_MS);
    // Writes fail loud: the outage was seen by the load (not just skipped over).
    if (load.counts.setsFailed <= failed) throw new Error('no write failed during the outage');
    const healthDuring = (await cache.health()).status;
    await fault.end(server);
    await until(
      'health to be healthy again',
      async () => (await cache.health()).status === 'healthy',
    );
    const acked = load.counts.setsAcked;
    const hits = load.counts.getHits;
    await until(
      'acknowledged writes and hits again',
      () => load.counts.setsAcked > acked + 100 && load.counts.getHits > hits + 100,
    );
    // The writes reach Redis itself (a TieredCache could serve hits from its L1 alone).
    await cache.set('probe', 'after');
    const stored = await server.cli('GET', `${prefix}:probe`);
    if (stored !== 'after') throw new Error(`Redis holds ${JSON.stringify(stored)} for the probe`);
    load.assertNoHang();
    return { load, healthDuring, breakerStates };
  } finally {
    await load.stop();
  }
}

/**
 * A cache whose Redis is not there yet (`server` was started and killed: its port is known
 * and nothing listens on it): `start()` rejects with CONNECTION, the load runs against the
 * same object with every call bounded, then the server comes up and the cache — not
 * recreated — starts using it.
 */
export async function lateStartUnderLoad(
  server: RedisServer,
  cache: Cache,
  prefix: string,
): Promise<{ load: ModelLoad; startError: unknown; healthBefore: string }> {
  const startError = await cache.start().then(
    () => undefined,
    (error: unknown) => error,
  );
  const load = new ModelLoad(cache, { boundMs: BOUND_MS });
  try {
    await until('the load to run into the missing server', () => load.counts.setsFailed > 200);
    await watchFor(load, FAULT_MS);
    const healthBefore = (await cache.health()).status;
    await server.restart();
    await until('health to be healthy', async () => (await cache.health()).status === 'healthy');
    const acked = load.counts.setsAcked;
    const hits = load.counts.getHits;
    await until(
      'acknowledged writes and hits',
      () => load.counts.setsAcked > acked + 100 && load.counts.getHits > hits + 100,
    );
    await cache.set('probe', 'after');
    const stored = await server.cli('GET', `${prefix}:probe`);
    if (stored !== 'after') throw new Error(`Redis holds ${JSON.stringify(stored)} for the probe`);
    load.assertNoHang();
    return { load, startError, healthBefore };
  } finally {
    await load.stop();
  }
}

/** Server arguments for the out-of-memory fault: a bound, and writes refused at it. */
export const OOM_ARGS = ['--maxmemory', '16mb', '--maxmemory-policy', 'noeviction'];

/** Out of memory: a key behind the cache's back fills `OOM_ARGS`' bound; deleting it frees it. */
export const OUT_OF_MEMORY: Fault = {
  name: 'out of memory (noeviction)',
  begin: async (s) => {
    await s.cli('SETRANGE', 'filler', String(16 << 20), 'x');
  },
  end: async (s) => {
    await s.cli('DEL', 'filler');
  },
};
