import { describe, expect, it } from 'vitest';
import { eventually, skewedClock } from '../eventually.js';
import type { MakeCache } from './suite.js';
import { rejectsWith, useCaches } from './util.js';

export function valueContracts(makeCache: MakeCache): void {
  const use = useCaches(makeCache);

  describe('JSON helpers', () => {
    it('round-trips JSON values, with a Date read back as its ISO string', async () => {
      const cache = await use();
      const when = new Date('2026-01-02T03:04:05.000Z');
      await cache.setJSON('doc', { n: 1, s: 'x', list: [1, null, { deep: true }], when });
      expect(await cache.getJSON('doc')).toEqual({
        n: 1,
        s: 'x',
        list: [1, null, { deep: true }],
        when: '2026-01-02T03:04:05.000Z',
      });
      expect(await cache.getJSON('missing')).toBeUndefined();
    });

    it('refuses values JSON cannot encode faithfully with SERIALIZATION', async () => {
      const cache = await use();
      const cycle: Record<string, unknown> = {};
      cycle.self = cycle;
      const bad: unknown[] = [
        10n,
        { n: 10n },
        cycle,
        Number.NaN,
        { x: Number.POSITIVE_INFINITY },
        new Map([[1, 2]]),
        { s: new Set([1]) },
        [1, undefined],
        () => 1,
        undefined,
        Symbol('s'),
      ];
      for (const value of bad) await rejectsWith(cache.setJSON('k', value), 'SERIALIZATION');
      expect(await cache.exists('k')).toBe(false);
    });

    it('reports a stored value that is not JSON as SERIALIZATION, not as a miss', async () => {
      const cache = await use();
      await cache.set('raw', '{not json');
      await rejectsWith(cache.getJSON('raw'), 'SERIALIZATION');
    });
  });

  describe('incr / decr with Redis semantics', () => {
    it('counts from 0 for a missing key and adds any safe integer', async () => {
      const cache = await use();
      expect(await cache.incr('n')).toBe(1);
      expect(await cache.incr('n', 41)).toBe(42);
      expect(await cache.decr('n')).toBe(41);
      expect(await cache.decr('n', 50)).toBe(-9);
      expect(await cache.incr('n', -1)).toBe(-10);
      expect((await cache.get('n'))?.toString()).toBe('-10');
      expect(await cache.decr('fresh')).toBe(-1);
    });

    it('accepts integers written with set', async () => {
      const cache = await use();
      await cache.set('n', '9007199254740990');
      expect(await cache.incr('n')).toBe(9007199254740991);
      await cache.set('z', '0');
      expect(await cache.incr('z')).toBe(1);
    });

    it('rejects a value that is not a canonical 64-bit integer with NOT_INTEGER', async () => {
      const cache = await use();
      for (const text of [
        'abc',
        '1.5',
        '+1',
        '01',
        ' 1',
        '1 ',
        '',
        '-0',
        '1e3',
        '9223372036854775808',
      ]) {
        await cache.set('n', text);
        await rejectsWith(cache.incr('n'), 'NOT_INTEGER');
        expect((await cache.get('n'))?.toString()).toBe(text);
      }
      await cache.setJSON('json', { a: 1 });
      await rejectsWith(cache.incr('json'), 'NOT_INTEGER');
    });

    it('rejects a result outside the signed 64-bit range and keeps the value', async () => {
      const cache = await use();
      await cache.set('max', '9223372036854775807');
      await rejectsWith(cache.incr('max'), 'OVERFLOW');
      expect((await cache.get('max'))?.toString()).toBe('9223372036854775807');
      await cache.set('min', '-9223372036854775808');
      await rejectsWith(cache.decr('min'), 'OVERFLOW');
      expect((await cache.get('min'))?.toString()).toBe('-9223372036854775808');
    });

    it('rejects increments that are not safe integers with INVALID_ARGUMENT', async () => {
      const cache = await use();
      for (const by of [1.5, Number.NaN, 2 ** 60, '1']) {
        await rejectsWith(cache.incr('n', by as number), 'INVALID_ARGUMENT');
      }
    });

    it('keeps the TTL of an existing key', async () => {
      const clock = skewedClock();
      const cache = await use({ clock });
      await cache.set('n', '5', 1_000);
      expect(await cache.incr('n')).toBe(6);
      clock.advance(2_000);
      await eventually(async () => expect(await cache.exists('n')).toBe(false));
    });

    it('is atomic under concurrent increments', async () => {
      const cache = await use();
      await Promise.all(Array.from({ length: 200 }, () => cache.incr('hits')));
      expect((await cache.get('hits'))?.toString()).toBe('200');
    });
  });

  describe('tags', () => {
    it('invalidateTags drops every entry written with any of the tags, and only those', async () => {
      const cache = await use();
      await cache.set('p1', 'a', undefined, { tags: ['products', 'p:1'] });
      await cache.set('p2', 'b', undefined, { tags: ['products'] });
      await cache.setJSON('u1', { u: 1 }, undefined, { tags: ['users'] });
      await cache.set('plain', 'c');
      await cache.invalidateTags(['products', 'nobody']);
      expect(await cache.get('p1')).toBeUndefined();
      expect(await cache.exists('p2')).toBe(false);
      expect(await cache.getJSON('u1')).toEqual({ u: 1 });
      expect((await cache.get('plain'))?.toString()).toBe('c');
    });

    it('entries written after an invalidation are valid again', async () => {
      const cache = await use();
      await cache.invalidateTags(['t']);
      await cache.set('k', 'v', undefined, { tags: ['t'] });
      expect((await cache.get('k'))?.toString()).toBe('v');
      await cache.invalidateTags(['t']);
      expect(await cache.get('k')).toBeUndefined();
    });

    it('a write carrying a snapshot taken before an invalidation is born invalid', async () => {
      const cache = await use();
      const snapshot = await cache.tagSnapshot(['posts']);
      await cache.invalidateTags(['posts']);
      await cache.set('late', 'stale', undefined, { tags: ['posts'], snapshot });
      expect(await cache.get('late')).toBeUndefined();
      const fresh = await cache.tagSnapshot(['posts']);
      await cache.set('ok', 'fresh', undefined, { tags: ['posts'], snapshot: fresh });
      expect((await cache.get('ok'))?.toString()).toBe('fresh');
    });

    it('mget honours tags', async () => {
      const cache = await use();
      await cache.mset({ a: '1', b: '2' }, undefined, { tags: ['ab'] });
      await cache.set('c', '3');
      await cache.invalidateTags(['ab']);
      expect((await cache.mget(['a', 'b', 'c'])).map((b) => b?.toString())).toEqual([
        undefined,
        undefined,
        '3',
      ]);
    });

    it('rejects empty tags with INVALID_ARGUMENT', async () => {
      const cache = await use();
      await rejectsWith(cache.invalidateTags(['']), 'INVALID_ARGUMENT');
      await rejectsWith(cache.set('k', 'v', undefined, { tags: [''] }), 'INVALID_ARGUMENT');
    });
  });
}
