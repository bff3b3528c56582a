/**
 * Property: `keys(pattern)` and `deletePattern(pattern)` with random globs (escapes, classes,
 * ranges, negation, unterminated brackets, trailing backslashes) list and delete exactly the
 * keys a reference matcher accepts — on memory, Redis and tiered alike — never a key outside
 * the cache's prefix (even a prefix full of glob metacharacters), never a bookkeeping key.
 *
 * The reference (reference-glob.ts) follows Redis's `stringmatchlen` independently of
 * src/core/glob.ts, so the two implementations check each other and real Redis checks both.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Cache, MemoryCache, RedisCache, TieredCache } from '../../src/index.js';
import { globArb } from './arbitraries.js';
import { redisMatch } from './reference-glob.js';
import { outcome, rawKeys, runs, same, timeoutFor } from './util.js';

const utf8 = (s: string) => Buffer.from(s, 'utf8');

const keyArb = fc.string({
  unit: fc.constantFrom('a', 'b', ':', '*', '?', '[', ']', '\\', '^', '-', 'é', '\0'),
  minLength: 1,
  maxLength: 5,
});

/** A prefix full of metacharacters: escaped, it must still match only itself. */
const WILD = 'w*?[a-z]\\';

let caches: { name: string; cache: Cache; raw?: string }[] = [];
let raw: Redis;
let namespace = '';

beforeAll(async () => {
  const url = inject('redisUrl');
  namespace = `p${randomUUID()}:`;
  raw = new Redis(url);
  caches = [
    { name: 'memory', cache: new MemoryCache() },
    {
      name: 'redis',
      cache: new RedisCache({ url, prefix: `${namespace}r` }),
      raw: `${namespace}r:`,
    },
    {
      name: 'tiered',
      cache: new TieredCache({ url, prefix: `${namespace}t` }),
      raw: `${namespace}t:`,
    },
    {
      name: 'redis, wild prefix',
      cache: new RedisCache({ url, prefix: `${namespace}${WILD}` }),
      raw: `${namespace}${WILD}:`,
    },
  ];
  await Promise.all(caches.map((c) => c.cache.start()));
  // Keys outside every prefix that a glob escaping its prefix would reach.
  await raw.mset(
    `${namespace}r`,
    'out',
    `${namespace}rr:a`,
    'out',
    `${namespace}wXa-z\\:a`,
    'out',
    `${namespace}w*?[a-z]\\a`,
    'out',
    `${namespace}outside`,
    'out',
  );
});

afterAll(async () => {
  await Promise.all(caches.map((c) => c.cache.clear().finally(() => c.cache.stop())));
  await raw.del(
    `${namespace}r`,
    `${namespace}rr:a`,
    `${namespace}wXa-z\\:a`,
    `${namespace}w*?[a-z]\\a`,
    `${namespace}outside`,
  );
  raw.disconnect();
});

const OUTSIDERS = 5;

describe('patterns: keys and deletePattern agree with a reference matcher on every backend', () => {
  it(
    'random keys and globs',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(keyArb, { minLength: 1, maxLength: 8 }),
          globArb,
          async (keys, pattern) => {
            const expected = keys.filter((k) => redisMatch(utf8(pattern), utf8(k))).sort();
            const remaining = keys.filter((k) => !expected.includes(k)).sort();
            for (const { name, cache } of caches) {
              await cache.clear();
              for (const k of keys) await cache.set(k, 'v', undefined, { tags: ['t'] });
              const listed = await outcome(async () => (await cache.keys(pattern)).sort());
              expect(listed, `${name} keys(${JSON.stringify(pattern)})`).toEqual({
                ok: true,
                value: expected,
              });
              const scanned: string[] = [];
              for await (const k of cache.scan(pattern)) scanned.push(k);
              expect(scanned.sort(), `${name} scan`).toEqual(expected);
              const deleted = await outcome(() => cache.deletePattern(pattern));
              expect(deleted, `${name} deletePattern(${JSON.stringify(pattern)})`).toEqual({
                ok: true,
                value: expected.length,
              });
              expect((await cache.keys('*')).sort(), `${name} left`).toEqual(remaining);
              // Tags still work: their bookkeeping was not deleted with the data.
              await cache.invalidateTags(['t']);
              for (const k of remaining) expect(await cache.get(k), `${name} ${k}`).toBeUndefined();
            }
            // Nothing outside the prefixes was touched.
            const outside = (await rawKeys(raw, namespace)).filter(
              (k) =>
                !caches.some((c) => c.raw && k.subarray(0, utf8(c.raw).length).equals(utf8(c.raw))),
            );
            expect(outside.length).toBe(OUTSIDERS);
          },
        ),
        { numRuns: runs(60) },
      );
    },
    timeoutFor(90_000),
  );

  it('the reference matcher and Redis agree on the shared glob vectors', async () => {
    const { GLOB_VECTORS } = await import('../vectors/glob.js');
    for (const [pattern, key, want] of GLOB_VECTORS) {
      expect(redisMatch(utf8(pattern), utf8(key)), `${pattern} ~ ${key}`).toBe(want);
    }
  });

  it('the reference matcher agrees with real Redis SCAN MATCH on random globs', async () => {
    const ns = `${namespace}ref:`;
    const escaped = ns.replace(/[*?[\]\\]/g, '\\$&');
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(keyArb, { minLength: 1, maxLength: 6 }),
        globArb,
        async (keys, pattern) => {
          await raw.mset(...keys.flatMap((k) => [ns + k, 'v']));
          const found: string[] = [];
          let cursor = '0';
          do {
            const [next, batch] = await raw.scanBuffer(
              cursor,
              'MATCH',
              utf8(escaped + pattern) as never,
              'COUNT',
              1000,
            );
            cursor = next.toString();
            for (const b of batch) found.push(b.toString('utf8', utf8(ns).length));
          } while (cursor !== '0');
          await raw.del(...keys.map((k) => ns + k));
          const want = keys.filter((k) => redisMatch(utf8(pattern), utf8(k))).sort();
          same(
            [
              { ok: true, value: found.sort() },
              { ok: true, value: want },
            ],
            `glob ${JSON.stringify(pattern)}`,
          );
        },
      ),
      { numRuns: runs(150) },
    );
  });
});
