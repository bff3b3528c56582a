/**
 * A Cluster losing a master: keys in its slots fail fast while the rest of the keyspace
 * keeps working, and once the cluster promotes the master's replica the same cache
 * serves every slot again, without a restart. A private cluster, since we kill a node.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RedisCache } from '../../src/index.js';
import { keySlot } from '../../src/stores/redis/slots.js';
import { type RedisCluster, startCluster } from '../harness/redis.js';
import { waitFor } from '../harness/tools.js';

let cluster: RedisCluster;
let cache: RedisCache;

beforeAll(async () => {
  cluster = await startCluster();
  cache = new RedisCache({
    cluster: { nodes: cluster.startupNodes },
    prefix: 'cf',
    failOpen: false,
  });
  await cache.start();
}, 60_000);

afterAll(async () => {
  await cache?.stop();
  await cluster?.stop();
});

it('fails fast on a dead master’s slots, serves the others, and recovers after failover', async () => {
  const masters = await cluster.masters();
  const victim = masters[0]!;
  const inSlots = (key: string) =>
    victim.slots.some(([lo, hi]) => keySlot(`cf:${key}`) >= lo && keySlot(`cf:${key}`) <= hi);
  const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
  const lost = keys.find(inSlots)!;
  const kept = keys.find((k) => !inSlots(k))!;
  await cache.set(lost, 'a');
  await cache.set(kept, 'b');

  const node = cluster.nodes.find((n) => n.port === victim.port)!;
  await node.kill();

  const t0 = performance.now();
  await expect(cache.get(lost)).rejects.toMatchObject({ name: 'CacheError' });
  // Far above the 1 s command timeout, well before the failover would answer it.
  expect(performance.now() - t0).toBeLessThan(5_000);
  expect((await cache.get(kept))?.toString()).toBe('b');

  // cluster-node-timeout is 2 s in the harness: the replica takes over a few seconds later.
  await waitFor(
    'the cache to write to the promoted replica',
    async () => {
      await cache.set(lost, 'again');
      return true;
    },
    { timeoutMs: 20_000, intervalMs: 200 },
  );
  expect((await cache.get(lost))?.toString()).toBe('again');
  expect((await cluster.masters()).some((m) => m.port === victim.port)).toBe(false);
}, 40_000);
