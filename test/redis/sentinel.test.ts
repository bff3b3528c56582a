/**
 * RedisCache through Sentinel: it finds the master by asking the sentinels, and follows a
 * failover — after the sentinels promote the replica, the same cache instance writes to
 * the new master within a few seconds, with no restart.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RedisCache } from '../../src/index.js';
import { type RedisSentinelDeployment, startSentinel } from '../harness/redis.js';
import { waitFor } from '../harness/tools.js';

let deployment: RedisSentinelDeployment;
let cache: RedisCache;

beforeAll(async () => {
  deployment = await startSentinel();
  cache = new RedisCache({
    sentinel: {
      sentinels: deployment.sentinels.map((s) => ({ host: s.host, port: s.port })),
      name: deployment.masterName,
    },
    prefix: 'sentinel',
    failOpen: false,
  });
  await cache.start();
}, 60_000);

afterAll(async () => {
  await cache?.stop();
  await deployment?.stop();
});

it('connects through the sentinels to the master', async () => {
  await cache.set('k', 'before');
  expect((await cache.get('k'))?.toString()).toBe('before');
  expect(await deployment.master.cli('GET', 'sentinel:k')).toBe('before');
  expect((await cache.health()).details?.mode).toBe('sentinel');
});

it('keeps working after a failover, writing to the promoted replica', async () => {
  await deployment.failover();
  const t0 = Date.now();
  await waitFor(
    'a write through the cache to succeed after the failover',
    async () => {
      await cache.set('k', 'after');
      return true;
    },
    { timeoutMs: 15_000, intervalMs: 100 },
  );
  const recovered = Date.now() - t0;
  // The promoted server (the old replica) holds the new value: the cache followed it.
  await waitFor('the promoted master to hold the write', async () => {
    return (await deployment.replica.cli('GET', 'sentinel:k')) === 'after';
  });
  expect((await deployment.replica.cli('ROLE')).split('\n')[0]).toBe('master');
  expect((await cache.get('k'))?.toString()).toBe('after');
  expect(recovered).toBeLessThan(10_000);
}, 40_000);

// Regression: a refused SELECT left the cache running on database 0 (see connect-errors.test.ts).
it('refuses to run on database 0 when the master has no database 99', async () => {
  const wrong = new RedisCache({
    sentinel: {
      sentinels: deployment.sentinels.map((s) => ({ host: s.host, port: s.port })),
      name: deployment.masterName,
    },
    db: 99,
    prefix: 'sentinel99',
    connectTimeout: '500ms',
  });
  try {
    await expect(wrong.start()).rejects.toMatchObject({
      code: 'CONNECTION',
      message: expect.stringMatching(
        /refused SELECT while connecting: ERR DB index is out of range/,
      ),
    });
    await expect(wrong.set('k', 'v')).rejects.toMatchObject({ code: 'CONNECTION' });
    expect((await wrong.health()).status).toBe('unhealthy');
    for (const server of [deployment.master, deployment.replica]) {
      expect(await server.cli('--scan', '--pattern', 'sentinel99*')).toBe('');
    }
  } finally {
    await wrong.stop();
  }
});
