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
 * Keeps checking that no call of the `loads` is in flight beyond the bound, for `ms` (the
 * fault's length): a hung call is caught while the fault lasts.
 */
export async function watchFor(loads: { assertNoHang(): void }[], ms: number): Promise<void> {
  const end = performance.now() + ms;
  for (;;) {
    for (const load of loads) load.assertNoHang();
    if (performance.now() >= end) return;
    await new Promise((r) => setTimeout(r, 50));
  }
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

/** A cache under test, and the prefix it was made with. */
export interface Subject {
  kind: string;
  cache: Cache;
  prefix: string;
}

/** What one cache saw through a fault, for the assertions. */
export interface SubjectResult {
  kind: string;
  load: ModelLoad;
  /** `health().status` near the end of the fault. */
  healthDuring: string;
  breakerStates: string[];
  /** What `start()` rejected with (only for a late start). */
  startError: unknown;
  /** Calls that ended during the fault, and how many of those waited a command timeout. */
  duringFault: { calls: number; slow: number };
}

/**
 * One fault under load, on several caches at once (each with its own load and prefix, on
 * one server, so one fault tests them all in the time of one): start each cache, warm it,
 * inflict `fault` for {@link FAULT_MS} while watching for hung calls, end it, and wait —
 * without recreating anything — until each cache is healthy and serves hits and
 * acknowledged writes again, its writes reaching Redis itself (a TieredCache could serve
 * hits from its L1 alone).
 *
 * With `lateStart`, the server is already down: `start()` is expected to reject, the load
 * runs on the same objects from the first call, and `fault.end` brings the server up.
 */
export async function faultUnderLoad(
  server: RedisServer,
  subjects: Subject[],
  fault: Fault,
  { lateStart = false } = {},
): Promise<SubjectResult[]> {
  const results: SubjectResult[] = [];
  for (const { kind, cache } of subjects) {
    const breakerStates: string[] = [];
    cache.on('breaker', (e) => breakerStates.push(e.state));
    let startError: unknown;
    if (lateStart)
      startError = await cache.start().then(
        () => undefined,
        (e: unknown) => e,
      );
    else await cache.start();
    const load = new ModelLoad(cache, { boundMs: BOUND_MS, slowMs: COMMAND_TIMEOUT_MS });
    results.push({
      kind,
      load,
      healthDuring: '',
      breakerStates,
      startError,
      duringFault: { calls: 0, slow: 0 },
    });
  }
  const loads = results.map((r) => r.load);
  try {
    if (lateStart) {
      await until('the load to run into the missing server', () =>
        loads.every((l) => l.counts.setsFailed > 200),
      );
    } else {
      await until('the load to warm the caches', () => loads.every((l) => l.counts.getHits > 100));
      await until('many calls in flight', () => loads.every((l) => l.inFlight >= 40));
      await fault.begin(server);
    }
    const failed = loads.map((l) => l.counts.setsFailed);
    const before = loads.map((l) => ({ calls: l.counts.calls, slow: l.counts.slowCalls }));
    await watchFor(loads, FAULT_MS);
    for (const [i, r] of results.entries()) {
      const b = before[i] as { calls: number; slow: number };
      r.duringFault = {
        calls: r.load.counts.calls - b.calls,
        slow: r.load.counts.slowCalls - b.slow,
      };
      // Writes fail loud: the fault reached the load (it was not skipped over).
      if (r.load.counts.setsFailed <= (failed[i] ?? 0)) {
        throw new Error(`${r.kind}: no write failed during the fault`);
      }
      r.healthDuring = (await (subjects[i] as Subject).cache.health()).status;
    }
    await fault.end(server);
    for (const [i, { cache, prefix }] of subjects.entries()) {
      const { load } = results[i] as SubjectResult;
      await until('health to be healthy', async () => (await cache.health()).status === 'healthy');
      const acked = load.counts.setsAcked;
      const hits = load.counts.getHits;
      await until(
        'acknowledged writes and hits again',
        () => load.counts.setsAcked > acked + 100 && load.counts.getHits > hits + 100,
      );
      await cache.set('probe', 'after');
      const stored = await server.cli('GET', `${prefix}:probe`);
      if (stored !== 'after')
        throw new Error(`Redis holds ${JSON.stringify(stored)} for the probe`);
      load.assertNoHang();
    }
    return results;
  } finally {
    await Promise.all(loads.map((l) => l.stop()));
    report(
      results.map(
        (r) =>
          `${r.kind} ${fault.name}: ${JSON.stringify(r.load.counts)} during: ${JSON.stringify(r.duringFault)}`,
      ),
    );
  }
}

/** The caches of {@link CACHE_KINDS} on `server`, each under its own prefix. */
export function allKinds(server: RedisServer, prefix: string): Subject[] {
  return Object.entries(CACHE_KINDS).map(([kind, make]) => {
    const p = `${prefix}-${kind}`;
    return { kind, prefix: p, cache: make(server.url, p) };
  });
}

/** Prints what a scenario saw when `FAULTS_REPORT` is set (the numbers in docs/reliability.md). */
export function report(lines: string[]): void {
  if (process.env.FAULTS_REPORT) for (const line of lines) console.log(line);
}

/** The server comes up where nothing listened (`lateStart`: it was killed beforehand). */
export const COME_UP: Fault = {
  name: 'unreachable at start-up, then up',
  begin: async () => {},
  end: (s) => s.restart(),
};

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
