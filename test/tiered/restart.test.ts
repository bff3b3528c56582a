/**
 * A Redis restart mid-run, with TieredCaches in two real processes on a private server:
 * while Redis is down, reads are served from L1 and factories and writes land in L1 and
 * report the failure; when it is back, each instance clears its L1 (it may have missed
 * invalidations) and uses Redis again, without a restart of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../eventually.js';
import { type RedisServer, startRedis } from '../harness/redis.js';
import { startWorkers, type Worker } from './processes.js';

let server: RedisServer;
let workers: Worker[] = [];

beforeAll(async () => {
  server = await startRedis();
  workers = await startWorkers(2, {
    url: server.url,
    prefix: 'restart',
    commandTimeout: 500,
    l1: { ttl: '1h' },
  });
}, 60_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  await server?.stop();
});

describe('TieredCache across a Redis restart', () => {
  it('serves L1 while Redis is down, then clears it and uses Redis again', async () => {
    const [a, b] = workers as [Worker, Worker];
    await a.call('set', 'k', 'v1');
    // A read that overlaps the write's invalidation message stores nothing in L1 (by
    // design): let the message land, then read, so B's L1 holds the value.
    await eventually(async () =>
      expect((await b.call<{ received: number }>('bus')).received).toBeGreaterThan(0),
    );
    expect(await b.call('get', 'k')).toBe('v1');
    expect((await b.call<{ entries: number }>('stats')).entries).toBe(1);

    await server.kill();
    // Reads: L1 hits are served, misses fail open; nothing hangs (each call resolves).
    expect(await b.call('get', 'k')).toBe('v1');
    expect(await b.call('get', 'never-written')).toBe(null);
    expect(await b.call('getOrSet', 'computed', 'from-factory')).toBe('from-factory');
    // Writes land in the writer's L1 and report the failure.
    await expect(a.call('set', 'k2', 'x')).rejects.toMatchObject({
      code: expect.stringMatching(/^(CONNECTION|TIMEOUT)$/),
    });
    expect(await a.call('get', 'k2')).toBe('x');
    const resyncs = (await b.call<{ resyncs: number }>('bus')).resyncs;

    await server.restart();
    await eventually(
      async () => {
        const bus = await b.call<{ live: boolean; resyncs: number }>('bus');
        expect(bus.live).toBe(true);
        expect(bus.resyncs).toBeGreaterThan(resyncs);
      },
      { timeout: 30_000 },
    );
    // The restarted server is empty (no persistence): B's L1 copy went with the resync.
    await eventually(async () => expect(await b.call('get', 'k')).toBe(null), { timeout: 30_000 });
    await eventually(async () => expect(await a.call('get', 'k2')).toBe(null), {
      timeout: 30_000,
    });
    // Redis is used again, and coherence with it.
    await eventually(() => a.call('set', 'k', 'v3'), { timeout: 30_000 });
    await eventually(async () => expect(await b.call('get', 'k')).toBe('v3'));
    await a.call('set', 'k', 'v4');
    await eventually(async () => expect(await b.call('get', 'k')).toBe('v4'));
  }, 120_000);
});
