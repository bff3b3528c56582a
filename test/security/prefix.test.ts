/**
 * Prefix escape through user-controlled patterns (DESIGN §2: `deletePattern` and `keys` act
 * "only inside this cache's prefix"). An app that passes a user's input to
 * `cache.deletePattern(input)` or `cache.keys(input)` must never touch, nor learn of, a key
 * outside its prefix — whatever glob syntax the input holds (an unterminated class, a
 * trailing backslash, escapes, the other prefix spelled out), and whatever glob
 * metacharacters the prefix itself holds.
 *
 * Redis: the caches under test and a neighbour keyspace share one server (a random
 * namespace of the shared test server). Memory: each cache is its own store, so the check
 * is that the answers stay inside what the cache holds and agree with Redis's.
 */
import { describe, expect, it } from 'vitest';
import type { Cache } from '../../src/core/types.js';
import { MemoryCache } from '../../src/stores/memory/memory-cache.js';
import { namespacedCaches } from '../redis/util.js';

/** Patterns a hostile user might send. */
const HOSTILE = [
  '*',
  '**',
  '?*',
  '\\',
  '*\\',
  '\\*',
  '[',
  '[*',
  '[^]*',
  ']*',
  '[\\',
  'a[',
  '../*',
  ':*',
  '*:*',
  '\u0000*',
  'ä*',
  '[a-\u00ff]*',
  '[!a]*',
  'app2*',
  '*app2*',
  '*other*',
  '\\\\*',
  '*?'.repeat(20),
  '',
];

/** Keys a neighbour owns: near the prefix, spelling it, or holding its metacharacters. */
const NEIGHBOUR_KEYS = [
  'appx',
  'app',
  'ap:p:x',
  'app2:k',
  'other:k',
  'app\\:k',
  'ap*:k',
  'a[p]p:k',
  'app2:*',
];

/** The keys each cache under test owns. */
const OWN_KEYS = ['k', 'user:1', 'a*b', 'x[1]', 'back\\slash', 'ä', ':lead', ''];

/** Prefixes of the caches under test, metacharacters included. */
const PREFIXES = ['app', 'a*', 'a?p', '[ap]p', 'ap\\', 'app:'];

function ownKeys(): string[] {
  return OWN_KEYS.filter((k) => k !== '');
}

async function fill(cache: Cache, keys: readonly string[]): Promise<void> {
  for (const k of keys) await cache.set(k, `v:${k}`);
}

describe('prefix escape on Redis', () => {
  const makeCache = namespacedCaches('standalone');

  for (const prefix of PREFIXES) {
    it(`a cache prefixed ${JSON.stringify(prefix)}: no user pattern reaches outside the prefix`, async () => {
      // The neighbour: the namespace itself, unprefixed — every other key of the server.
      const neighbour = await makeCache({});
      const cache = await makeCache({ prefix });
      await fill(neighbour, NEIGHBOUR_KEYS);
      const mine = ownKeys();
      await fill(cache, mine);
      const own = new Set(mine);

      for (const pattern of HOSTILE) {
        const listed = await cache.keys(pattern);
        for (const k of listed)
          expect(own.has(k), `keys(${JSON.stringify(pattern)}) → ${k}`).toBe(true);
        const scanned: string[] = [];
        for await (const k of cache.scan(pattern)) scanned.push(k);
        expect(scanned.sort()).toEqual([...listed].sort());
      }
      for (const pattern of HOSTILE) await cache.deletePattern(pattern);
      // Every neighbour key outside `<prefix>:` is still there, with its value.
      const stored = `${prefix.endsWith(':') ? prefix : `${prefix}:`}`;
      for (const k of NEIGHBOUR_KEYS) {
        if (k.startsWith(stored)) continue; // inside the prefix: the cache's own keyspace
        expect((await neighbour.get(k))?.toString(), `neighbour ${k}`).toBe(`v:${k}`);
      }
      // The cache's own keys were fair game: `*` at least took them all.
      expect(await cache.keys('*')).toEqual([]);
      await cache.clear();
      for (const k of NEIGHBOUR_KEYS) {
        if (k.startsWith(stored)) continue;
        expect(await neighbour.exists(k), `neighbour ${k} after clear()`).toBe(true);
      }
    });
  }

  it('two caches whose prefixes differ only by a metacharacter never see each other', async () => {
    const star = await makeCache({ prefix: 'p*' });
    const plain = await makeCache({ prefix: 'px' });
    const q = await makeCache({ prefix: 'p?' });
    await fill(plain, ['one', 'two']);
    await fill(q, ['three']);
    await fill(star, ['four']);
    expect(await star.keys('*')).toEqual(['four']);
    expect((await q.keys('*')).sort()).toEqual(['three']);
    expect(await star.deletePattern('*')).toBe(1);
    expect(await q.deletePattern('*')).toBe(1);
    expect((await plain.keys('*')).sort()).toEqual(['one', 'two']);
  });

  it('memory agrees with Redis on every hostile pattern', async () => {
    const redis = await makeCache({ prefix: 'app' });
    const memory = new MemoryCache({ prefix: 'app' });
    await memory.start();
    try {
      const mine = ownKeys();
      await fill(redis, mine);
      await fill(memory, mine);
      for (const pattern of HOSTILE) {
        const want = (await redis.keys(pattern)).sort();
        expect((await memory.keys(pattern)).sort(), JSON.stringify(pattern)).toEqual(want);
      }
    } finally {
      await memory.stop();
    }
  });
});

describe('prefix escape on memory', () => {
  for (const prefix of PREFIXES) {
    it(`a cache prefixed ${JSON.stringify(prefix)} answers only with its own keys`, async () => {
      const cache = new MemoryCache({ prefix });
      await cache.start();
      try {
        const mine = ownKeys();
        await fill(cache, mine);
        const own = new Set(mine);
        for (const pattern of HOSTILE) {
          for (const k of await cache.keys(pattern)) expect(own.has(k)).toBe(true);
          const n = await cache.deletePattern(pattern);
          expect(n).toBeGreaterThanOrEqual(0);
        }
        expect(await cache.keys('*')).toEqual([]);
      } finally {
        await cache.stop();
      }
    });
  }
});
