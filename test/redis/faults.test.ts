/**
 * What a dead, paused or restarted Redis does to a RedisCache: operations fail fast with
 * CONNECTION / TIMEOUT, getOrSet still answers from its factory (and says so through
 * events), the client reconnects on its own, and a late reply never reaches the wrong
 * caller. Each test owns a private redis-server it can kill, SIGSTOP and restart.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CacheError, RedisCache } from '../../src/index.js';
import { type RedisServer, startRedis } from '../harness/redis.js';
import { waitFor } from '../harness/tools.js';

/**
 * "Fails fast": far above the 1 s default command timeout (a loaded 2-core machine cannot
 * miss it) and far below a hang or ioredis's own retrying (~10 s of reconnect backoff).
 */
const FAST_MS = 5_000;

let server: RedisServer;
const caches: RedisCache[] = [];

beforeEach(async () => {
  server = await startRedis();
});

afterEach(async () => {
  server.resume(); // A test that failed while the server was paused must not leave it so.
  await Promise.all(caches.splice(0).map((c) => c.stop()));
  await server.stop();
});

async function started(
  options: ConstructorParameters<typeof RedisCache>[0] = {},
): Promise<RedisCache> {
  const cache = new RedisCache({ url: server.url, prefix: 'faults', ...options });
  caches.push(cache);
  await cache.start();
  return cache;
}

/** Runs `op`, expecting a rejection; returns the CacheError and how long it took. */
async function timedFailure(
  op: () => Promise<unknown>,
): Promise<{ error: CacheError; ms: number }> {
  const t0 = performance.now();
  try {
    await op();
  } catch (error) {
    return { error: error as CacheError, ms: performance.now() - t0 };
  }
  throw new Error('expected the operation to fail');
}

describe('a killed server', () => {
  it('makes a get fail fast with CONNECTION or TIMEOUT when reads fail closed', async () => {
    const cache = await started({ failOpen: false });
    await cache.set('k', 'v');
    await server.kill();
    for (let i = 0; i < 5; i++) {
      const { error, ms } = await timedFailure(() => cache.get('k'));
      expect(error.name).toBe('CacheError');
      expect(['CONNECTION', 'TIMEOUT']).toContain(error.code);
      expect(ms).toBeLessThan(FAST_MS);
    }
  });

  it('reads as a miss (counted, with an error event) when reads fail open, and writes reject', async () => {
    const cache = await started();
    const errors: string[] = [];
    cache.on('error', (e) => errors.push(e.operation));
    await cache.set('k', 'v');
    await server.kill();
    expect(await cache.get('k')).toBeUndefined();
    const { error } = await timedFailure(() => cache.set('k', 'w'));
    expect(['CONNECTION', 'TIMEOUT']).toContain(error.code);
    expect(errors).toContain('get');
    expect(errors).toContain('set');
    expect(cache.stats().errors).toBeGreaterThanOrEqual(2);
  });

  it('reports the lost connection as an error event of its own', async () => {
    const cache = await started();
    const seen: unknown[] = [];
    cache.on('error', (e) => {
      if (e.operation === 'connection') seen.push(e.error);
    });
    await server.kill();
    await waitFor('a connection error event', async () => seen.length > 0, { timeoutMs: 3_000 });
    expect(seen[0]).toMatchObject({ name: 'CacheError', code: 'CONNECTION' });
  });

  it('reports unhealthy, then works again after a restart without recreating the cache', async () => {
    const cache = await started({ failOpen: false });
    await cache.set('before', '1');
    await server.kill();
    expect((await cache.health()).status).toBe('unhealthy');
    await server.restart(); // Same port, empty data (no persistence).
    await waitFor('the cache to write again', async () => {
      await cache.set('after', '2');
      return true;
    });
    expect((await cache.get('after'))?.toString()).toBe('2');
    const health = await cache.health();
    expect(health.status).toBe('healthy');
    expect(health.details?.latencyMs).toBeTypeOf('number');
  });

  it('getOrSet still returns the factory value, and reports the failure', async () => {
    const cache = await started();
    const errors: string[] = [];
    cache.on('error', (e) => errors.push(e.operation));
    await server.kill();
    const t0 = performance.now();
    expect(await cache.getOrSet('k', () => ({ fresh: true }), { ttl: '1m' })).toEqual({
      fresh: true,
    });
    expect(performance.now() - t0).toBeLessThan(FAST_MS);
    expect(errors).toContain('getOrSet');
    expect(cache.stats().errors).toBeGreaterThan(0);
  });
});

describe('a paused server (SIGSTOP: connections open, nothing answers)', () => {
  it('times out a get after commandTimeout, not after the default', async () => {
    // Longer than the 1 s default, so the lower bound (which no load can break) tells the
    // configured timeout from the default one.
    const cache = await started({ failOpen: false, commandTimeout: 2_500 });
    await cache.set('k', 'v');
    server.pause();
    const { error, ms } = await timedFailure(() => cache.get('k'));
    expect(error.code).toBe('TIMEOUT');
    expect((error.cause as Error).message).toBe('Command timed out'); // ioredis's, kept as cause
    expect(ms).toBeGreaterThanOrEqual(2_490);
    expect(ms).toBeLessThan(2_500 + FAST_MS);
    server.resume();
    expect((await cache.get('k'))?.toString()).toBe('v');
  });

  it('fails a get after the default timeout (1 s), not never', async () => {
    const cache = await started({ failOpen: false });
    server.pause();
    const { error, ms } = await timedFailure(() => cache.get('k'));
    expect(error.code).toBe('TIMEOUT');
    expect(ms).toBeGreaterThanOrEqual(990);
    expect(ms).toBeLessThan(FAST_MS);
  });

  it('never hands the reply of a timed-out command to a later caller', async () => {
    const cache = await started({ failOpen: false, commandTimeout: 100 });
    for (let round = 0; round < 20; round++) {
      await cache.mset({ a: `a${round}`, b: `b${round}` });
      server.pause();
      const late = cache.get('a');
      await expect(late).rejects.toMatchObject({ code: 'TIMEOUT' });
      server.resume();
      // The reply to the timed-out GET a arrives now; it must be dropped, not given to b.
      const [b, a] = await Promise.all([cache.get('b'), cache.get('a')]);
      expect(b?.toString()).toBe(`b${round}`);
      expect(a?.toString()).toBe(`a${round}`);
    }
  });

  it('getOrSet answers from the factory while Redis does not', async () => {
    const cache = await started({ commandTimeout: 200 });
    server.pause();
    const t0 = performance.now();
    expect(await cache.getOrSet('k', () => 'computed')).toBe('computed');
    // One read and one lock attempt, each bounded by commandTimeout (200 ms).
    expect(performance.now() - t0).toBeLessThan(FAST_MS);
  });
});

describe('an unreachable server', () => {
  it('start() rejects with CONNECTION fast, and operations before start connect lazily', async () => {
    const port = server.port;
    await server.stop();
    const cache = new RedisCache({ url: `redis://127.0.0.1:${port}`, failOpen: false });
    caches.push(cache);
    const { error, ms } = await timedFailure(() => cache.start());
    expect(error.code).toBe('CONNECTION');
    expect(ms).toBeLessThan(FAST_MS);
    const lazy = new RedisCache({ url: `redis://127.0.0.1:${port}`, failOpen: false });
    caches.push(lazy);
    const failed = await timedFailure(() => lazy.get('k'));
    expect(['CONNECTION', 'TIMEOUT']).toContain(failed.error.code);
    expect(failed.ms).toBeLessThan(FAST_MS);
    server = await startRedis(); // For afterEach.
  });

  it('connects lazily on the first operation, without start()', async () => {
    const cache = new RedisCache({ url: server.url, prefix: 'lazy' });
    caches.push(cache);
    await cache.set('k', 'v');
    expect((await cache.get('k'))?.toString()).toBe('v');
    expect(await server.cli('GET', 'lazy:k')).toBe('v');
  });

  it('does not wait out a long outage: each call fails on its own within the timeout', async () => {
    const cache = await started({ failOpen: false });
    await server.kill();
    const t0 = performance.now();
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => cache.get(`k${i}`)),
    );
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(performance.now() - t0).toBeLessThan(FAST_MS);
  });
});
