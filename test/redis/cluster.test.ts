/**
 * RedisCache on a real 3-master Cluster: multi-key operations split by hash slot (no
 * CROSSSLOT), pattern operations visit every master, tags work across slots — and our
 * slot function agrees with the server's CLUSTER KEYSLOT.
 */
import { randomUUID } from 'node:crypto';
import type { Cluster } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisCache } from '../../src/index.js';
import { keySlot } from '../../src/stores/redis/slots.js';
import { eventually } from '../eventually.js';
import { connectionFor } from './util.js';

const caches: RedisCache[] = [];
afterEach(async () => {
  await Promise.all(caches.splice(0).map((c) => c.stop()));
});

async function clusterCache(): Promise<{ cache: RedisCache; client: Cluster; prefix: string }> {
  const prefix = `cl-${randomUUID()}`;
  const cache = new RedisCache({ ...connectionFor('cluster'), prefix });
  caches.push(cache);
  await cache.start();
  return { cache, client: cache.client as Cluster, prefix };
}

/** How many of `keys` each master holds, asked of each master directly. */
async function perMaster(client: Cluster, match: string): Promise<number[]> {
  return Promise.all(
    client.nodes('master').map(async (node) => {
      let cursor = '0';
      let n = 0;
      do {
        const [next, found] = await node.scan(cursor, 'MATCH', match, 'COUNT', 1000);
        cursor = next;
        n += found.length;
      } while (cursor !== '0');
      return n;
    }),
  );
}

const many = (n: number) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, `v${i}`]));

describe('redis cluster', () => {
  it('computes the same hash slot as the server', async () => {
    const { client } = await clusterCache();
    const keys = [
      '',
      'a',
      'user:1000',
      '{user1000}.following',
      'foo{}{bar}',
      'foo{{bar}}zap',
      'foo{bar}{zap}',
      'é✓',
      '{}',
      '{',
      'a}b{c',
    ];
    for (let i = 0; i < 200; i++) keys.push(`random:${randomUUID()}`);
    for (const key of keys) {
      expect(keySlot(key), key).toBe(Number(await client.cluster('KEYSLOT', key)));
    }
  });

  it('mset and mget keys spread over every master without CROSSSLOT, with and without a TTL', async () => {
    const { cache, client, prefix } = await clusterCache();
    const entries = many(300);
    await cache.mset(entries);
    const counts = await perMaster(client, `${prefix}:*`);
    expect(counts).toHaveLength(3);
    for (const n of counts) expect(n).toBeGreaterThan(0);
    const keys = Object.keys(entries);
    expect((await cache.mget(keys)).map((b) => b?.toString())).toEqual(Object.values(entries));

    // Long enough to read the TTL back on a loaded machine; then Redis expires them.
    await cache.mset(many(300), 2_000);
    expect(Number(await client.pttl(`${prefix}:k7`))).toBeGreaterThan(0);
    await eventually(async () =>
      expect((await cache.mget(keys)).every((b) => b === undefined)).toBe(true),
    );
  });

  it('keys, deletePattern and clear visit every master', async () => {
    const { cache, client, prefix } = await clusterCache();
    await cache.mset(many(300));
    await cache.mset({ 'other:1': 'x', 'other:2': 'y' });
    expect((await cache.keys('k*')).sort()).toEqual(Object.keys(many(300)).sort());
    expect(await cache.deletePattern('k*')).toBe(300);
    expect(await perMaster(client, `${prefix}:k*`)).toEqual([0, 0, 0]);
    expect((await cache.keys()).sort()).toEqual(['other:1', 'other:2']);
    await cache.clear();
    expect(await cache.keys()).toEqual([]);
  });

  it('invalidates a tag across entries in many slots', async () => {
    const { cache } = await clusterCache();
    const tagged = many(50);
    await cache.mset(tagged, undefined, { tags: ['catalog'] });
    await cache.set('untagged', 'stay');
    expect((await cache.mget(Object.keys(tagged))).every((b) => b !== undefined)).toBe(true);
    await cache.invalidateTags(['catalog']);
    expect((await cache.mget(Object.keys(tagged))).every((b) => b === undefined)).toBe(true);
    expect((await cache.get('untagged'))?.toString()).toBe('stay');
  });

  it('reports every master in health()', async () => {
    const { cache } = await clusterCache();
    const health = await cache.health();
    expect(health.status).toBe('healthy');
    expect(health.details?.mode).toBe('cluster');
    expect(health.details?.masters).toHaveLength(3);
  });
});
