import { describe, expect, it } from 'vitest';
import type { Duration } from '../../src/index.js';
import { eventually, skewedClock } from '../eventually.js';
import type { MakeCache } from './suite.js';
import { rejectsWith, useCaches } from './util.js';

export function basicContracts(makeCache: MakeCache): void {
  const use = useCaches(makeCache);

  describe('get / set / delete / exists', () => {
    it('misses a key never written', async () => {
      const cache = await use();
      expect(await cache.get('nope')).toBeUndefined();
      expect(await cache.exists('nope')).toBe(false);
    });

    it('reads back a string as its UTF-8 bytes', async () => {
      const cache = await use();
      await cache.set('greeting', 'héllo ✓');
      const value = await cache.get('greeting');
      expect(Buffer.isBuffer(value)).toBe(true);
      expect(value?.toString('utf8')).toBe('héllo ✓');
      expect(await cache.exists('greeting')).toBe(true);
    });

    it('stores binary exactly, including bytes that look like its own envelope', async () => {
      const cache = await use();
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const lookalike = Buffer.concat([
        Buffer.from([0x00, 0xc7, 0xca, 0xe1, 1]),
        Buffer.alloc(40, 7),
      ]);
      await cache.set('all', all);
      await cache.set('lookalike', lookalike);
      expect((await cache.get('all'))?.equals(all)).toBe(true);
      expect((await cache.get('lookalike'))?.equals(lookalike)).toBe(true);
    });

    it('never lets a caller mutate the cached value through a reference', async () => {
      const cache = await use();
      const input = new Uint8Array([1, 2, 3]);
      await cache.set('k', input);
      input[0] = 99;
      const first = await cache.get('k');
      expect([...(first ?? [])]).toEqual([1, 2, 3]);
      first![1] = 42;
      expect([...((await cache.get('k')) ?? [])]).toEqual([1, 2, 3]);
    });

    it('overwrites, and delete says whether something was deleted', async () => {
      const cache = await use();
      await cache.set('k', 'a');
      await cache.set('k', 'b');
      expect((await cache.get('k'))?.toString()).toBe('b');
      expect(await cache.delete('k')).toBe(true);
      expect(await cache.delete('k')).toBe(false);
      expect(await cache.get('k')).toBeUndefined();
    });

    it('expires entries after their TTL (number of ms and duration strings)', async () => {
      // Memory expires on the injected clock at once; Redis on its own clock, polled. A TTL
      // of a second leaves a loaded machine ample time for the check before it runs out.
      const clock = skewedClock();
      const cache = await use({ clock });
      await cache.set('short', 'x', 1_000);
      await cache.set('string-ttl', 'x', '1s');
      await cache.set('long', 'x', '1m');
      expect(await cache.exists('short')).toBe(true);
      clock.advance(2_000);
      await eventually(async () => expect(await cache.get('short')).toBeUndefined());
      await eventually(async () => expect(await cache.exists('string-ttl')).toBe(false));
      expect(await cache.exists('long')).toBe(true);
    });

    it('applies defaultTTL when the TTL is omitted or 0, and per-call TTLs over it', async () => {
      const clock = skewedClock();
      const cache = await use({ defaultTTL: 60, clock });
      await cache.set('omitted', 'x');
      await cache.set('zero', 'x', 0);
      await cache.set('explicit', 'x', '1m');
      clock.advance(150);
      await eventually(async () => expect(await cache.exists('omitted')).toBe(false));
      await eventually(async () => expect(await cache.exists('zero')).toBe(false));
      expect(await cache.exists('explicit')).toBe(true);
    });

    it('keeps entries without any TTL when there is no default', async () => {
      const clock = skewedClock();
      const cache = await use({ clock });
      await cache.set('forever', 'x');
      clock.advance(365 * 86_400_000);
      expect(await cache.exists('forever')).toBe(true);
    });
  });

  describe('bad input is a CacheError before any I/O', () => {
    it('rejects empty, non-string and ill-formed keys with INVALID_ARGUMENT', async () => {
      const cache = await use();
      const bad = ['', 'a\uD800', '\uDC00b', 1, undefined, null, {}, ['a']] as unknown as string[];
      for (const key of bad) {
        await rejectsWith(cache.get(key), 'INVALID_ARGUMENT');
        await rejectsWith(cache.set(key, 'v'), 'INVALID_ARGUMENT');
        await rejectsWith(cache.delete(key), 'INVALID_ARGUMENT');
        await rejectsWith(cache.exists(key), 'INVALID_ARGUMENT');
        await rejectsWith(cache.incr(key), 'INVALID_ARGUMENT');
        await rejectsWith(
          cache.getOrSet(key, () => 1),
          'INVALID_ARGUMENT',
        );
      }
      await rejectsWith(cache.mget(['ok', '']), 'INVALID_ARGUMENT');
      await rejectsWith(cache.mset({ '': 'v' }), 'INVALID_ARGUMENT');
    });

    it('rejects NaN, negative, infinite and unparseable TTLs with INVALID_TTL', async () => {
      const cache = await use();
      // `'-3s'` compiles (a template literal admits the sign); the others only from JavaScript.
      const ttls = [Number.NaN, -1, Number.POSITIVE_INFINITY, 'soon', '5 weeks', '-3s'];
      for (const ttl of ttls as Duration[]) {
        await rejectsWith(cache.set('k', 'v', ttl), 'INVALID_TTL');
        await rejectsWith(
          cache.getOrSet('k', () => 1, { ttl }),
          'INVALID_TTL',
        );
        await rejectsWith(cache.mset({ k: 'v' }, ttl), 'INVALID_TTL');
      }
      expect(await cache.exists('k')).toBe(false);
    });

    it('rejects values that are neither bytes nor strings with INVALID_ARGUMENT', async () => {
      const cache = await use();
      for (const value of [1, {}, null, undefined, true]) {
        await rejectsWith(cache.set('k', value as unknown as string), 'INVALID_ARGUMENT');
      }
    });

    it('rejects an already-aborted signal with ABORTED', async () => {
      const cache = await use();
      const signal = AbortSignal.abort();
      await rejectsWith(cache.get('k', { signal }), 'ABORTED');
      await rejectsWith(cache.set('k', 'v', undefined, { signal }), 'ABORTED');
      await rejectsWith(
        cache.getOrSet('k', () => 1, { signal }),
        'ABORTED',
      );
    });

    it('rejects calls after stop() with STOPPED', async () => {
      const cache = await makeCache();
      await cache.stop();
      await rejectsWith(cache.get('k'), 'STOPPED');
      await rejectsWith(cache.set('k', 'v'), 'STOPPED');
      await cache.stop();
    });
  });

  describe('bulk operations', () => {
    it('mget answers in the order asked, with undefined for misses', async () => {
      const cache = await use();
      await cache.mset(
        new Map([
          ['a', '1'],
          ['c', '3'],
        ]),
      );
      const got = await cache.mget(['c', 'b', 'a', 'c']);
      expect(got.map((b) => b?.toString())).toEqual(['3', undefined, '1', '3']);
      expect(await cache.mget([])).toEqual([]);
    });

    it('mset takes a plain object and a TTL for every entry', async () => {
      const clock = skewedClock();
      const cache = await use({ clock });
      await cache.mset({ x: '1', y: new Uint8Array([2]) }, 1_000);
      expect((await cache.get('x'))?.toString()).toBe('1');
      clock.advance(2_000);
      await eventually(async () =>
        expect(await cache.mget(['x', 'y'])).toEqual([undefined, undefined]),
      );
    });
  });

  describe('health, stats and events', () => {
    it('reports healthy once started', async () => {
      const cache = await use();
      expect((await cache.health()).status).toBe('healthy');
    });

    it('counts hits, misses, sets and deletes', async () => {
      const cache = await use();
      await cache.set('a', '1');
      await cache.get('a');
      await cache.get('b');
      await cache.delete('a');
      const stats = cache.stats();
      expect(stats).toMatchObject({ hits: 1, misses: 1, sets: 1, deletes: 1, errors: 0 });
    });

    it('emits typed events for hits, misses, sets and deletes', async () => {
      const cache = await use();
      const seen: string[] = [];
      cache.on('hit', (e) => seen.push(`hit:${e.key}`));
      cache.on('miss', (e) => seen.push(`miss:${e.key}`));
      cache.on('set', (e) => seen.push(`set:${e.key}`));
      cache.once('delete', (e) => seen.push(`delete:${e.key}`));
      await cache.set('a', '1');
      await cache.get('a');
      await cache.get('b');
      await cache.delete('a');
      await cache.set('a', '1');
      await cache.delete('a');
      expect(seen).toEqual(['set:a', 'hit:a', 'miss:b', 'delete:a', 'set:a']);
    });
  });
}
