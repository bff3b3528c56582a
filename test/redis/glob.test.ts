/**
 * The glob vectors against real `SCAN MATCH`: each vector's key is written, then matched by
 * the server itself. Redis, the vectors and our own matcher (which the memory backend
 * uses) must give one answer, so a vector that drifted from Redis fails here.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { compileGlob, escapeGlob, RedisCache } from '../../src/index.js';
import { GLOB_VECTORS } from '../vectors/glob.js';
import { connectionFor } from './util.js';

let cache: RedisCache;
let client: Redis;
const root = `glob-${randomUUID()}:`;

beforeAll(async () => {
  cache = new RedisCache(connectionFor('standalone'));
  await cache.start();
  client = cache.client as Redis;
});
afterAll(() => cache?.stop());

async function scanMatch(match: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

it.each(GLOB_VECTORS.map((v, i) => [i, ...v] as const))(
  'vector %i: %s ~ %s is %s on the server and in our matcher',
  async (i, pattern, key, expected) => {
    // Each vector in its own escaped namespace, so only its key can match.
    const ns = `${root}${i}:`;
    await client.set(ns + key, '1');
    try {
      const matched = (await scanMatch(escapeGlob(ns) + pattern)).includes(ns + key);
      expect(matched, 'redis').toBe(expected);
      expect(compileGlob(pattern).test(key), 'compileGlob').toBe(expected);
    } finally {
      await client.del(ns + key);
    }
  },
);
