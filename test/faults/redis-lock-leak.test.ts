/**
 * Two getOrSet lock leaks the paused-Redis load test (redis-pause.test.ts) found: after
 * the pause, some keys made every getOrSet wait `lock.wait` (10 s) — a lock nobody would
 * release was held in Redis.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FlightLocks, HeldFlight, Store } from '../../src/core/store.js';
import { CacheError, RedisCache, StoreCache } from '../../src/index.js';
import { MemoryStore } from '../../src/stores/memory/memory-store.js';
import { type RedisServer, startRedis } from '../harness/redis.js';

describe('regression: a lock taken, then a failed double-check read, was never released', () => {
  it('computes under the lock it took and releases it', async () => {
    const inner = new MemoryStore({ maxMemory: 1 << 20 });
    let reads = 0;
    let released = 0;
    let confirmed = 0;
    const held: HeldFlight = {
      release: async () => {
        released++;
      },
      confirm: async () => {
        confirmed++;
        return true;
      },
    };
    const flights: FlightLocks = {
      acquire: async () => held,
      waitRelease: async () => {},
    };
    // The first read (a miss) answers; the double-check after taking the lock times out,
    // as a read does when Redis pauses between the two.
    const store = new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === 'flights') return flights;
        if (prop === 'get') {
          return async (key: string) => {
            if (++reads === 2) throw new CacheError('TIMEOUT', 'the server did not answer');
            return target.get(key);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as Store;
    const cache = new StoreCache(store);
    expect(await cache.getOrSet('k', () => 'computed')).toBe('computed');
    // Before the fix the handle was dropped: never confirmed, never released (and a real
    // lock kept renewing itself for the life of the process).
    expect(confirmed).toBe(1);
    expect(released).toBe(1);
    expect((await cache.get('k'))?.toString()).toBe('"computed"');
  });
});

describe('regression: a lock SET that timed out landed when Redis resumed, held by nobody', () => {
  let server: RedisServer | undefined;
  const caches: RedisCache[] = [];
  afterEach(async () => {
    server?.resume();
    await Promise.all(caches.splice(0).map((c) => c.stop()));
    await server?.stop();
  });

  it('is released right behind it, so another process does not wait out its TTL', async () => {
    server = await startRedis();
    const make = () => {
      const c = new RedisCache({
        url: (server as RedisServer).url,
        prefix: 'ghost',
        commandTimeout: 200,
        breaker: false,
      });
      caches.push(c);
      return c;
    };
    const a = make();
    const b = make();
    await Promise.all([a.start(), b.start()]);
    server.pause();
    // A's read times out, then its SET NX on the lock times out too: both stay queued on
    // the paused server, which applies them when it resumes.
    expect(await a.getOrSet('k', () => 'a', { lock: { ttl: '15s' } })).toBe('a');
    server.resume();
    // A's write timed out too but lands as well: drop it, so B misses.
    await b.delete('k');
    // B, another process with a miss on k: before the fix it found A's lock (15 s of TTL,
    // held by nobody) and waited it out.
    const t0 = performance.now();
    expect(await b.getOrSet('k', () => 'b', { lock: { wait: '15s' } })).toMatch(/^[ab]$/);
    // Far below the 15 s a leaked lock costs, far above what a loaded machine adds.
    expect(performance.now() - t0).toBeLessThan(10_000);
  }, 30_000);
});
