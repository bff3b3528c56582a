import { describe, expect, it } from 'vitest';
import { GLOB_VECTORS } from '../vectors/glob.js';
import type { MakeCache } from './suite.js';
import { rejectsWith, useCaches } from './util.js';

export function patternContracts(makeCache: MakeCache): void {
  const use = useCaches(makeCache);
  const sorted = (keys: string[]): string[] => [...keys].sort();

  describe('keys, scan, deletePattern and clear', () => {
    it('lists keys matching a glob, without the prefix', async () => {
      const cache = await use({ prefix: 'app' });
      await cache.mset({ 'user:1': 'a', 'user:2': 'b', 'order:1': 'c' });
      expect(sorted(await cache.keys('user:*'))).toEqual(['user:1', 'user:2']);
      expect(sorted(await cache.keys())).toEqual(['order:1', 'user:1', 'user:2']);
      const scanned: string[] = [];
      for await (const key of cache.scan('*:1')) scanned.push(key);
      expect(sorted(scanned)).toEqual(['order:1', 'user:1']);
    });

    it('agrees with Redis on every glob vector', async () => {
      const cache = await use({ prefix: 'glob' });
      for (const [pattern, key, expected] of GLOB_VECTORS) {
        await cache.set(key, '1');
        expect((await cache.keys(pattern)).includes(key), `${pattern} ~ ${key}`).toBe(expected);
        await cache.delete(key);
      }
    });

    it('deletePattern deletes only matches and says how many', async () => {
      const cache = await use();
      await cache.mset({ 'a:1': '1', 'a:2': '2', 'b:1': '3' });
      expect(await cache.deletePattern('a:*')).toBe(2);
      expect(await cache.deletePattern('a:*')).toBe(0);
      expect(sorted(await cache.keys('*'))).toEqual(['b:1']);
    });

    it('deletes thousands of keys by pattern', async () => {
      const cache = await use();
      const entries = Object.fromEntries(
        Array.from({ length: 5000 }, (_, i) => [`bulk:${i}`, 'x']),
      );
      await cache.mset(entries);
      await cache.set('keep', 'x');
      expect(await cache.deletePattern('bulk:*')).toBe(5000);
      expect(await cache.keys('*')).toEqual(['keep']);
    });

    it('never reaches outside a prefix that contains glob metacharacters', async () => {
      const inner = await use({ prefix: 't[1]*' });
      const outer = await use({ prefix: 't1x' });
      await inner.set('k', 'inner');
      await outer.set('k', 'outer');
      expect(await inner.keys('*')).toEqual(['k']);
      expect(await inner.deletePattern('*')).toBe(1);
      expect((await outer.get('k'))?.toString()).toBe('outer');
    });

    it('clear drops everything under its own prefix and nothing else', async () => {
      const mine = await use({ prefix: 'mine' });
      const theirs = await use({ prefix: 'theirs' });
      await mine.mset({ a: '1', b: '2' });
      await theirs.set('a', 'kept');
      await mine.clear();
      expect(await mine.keys('*')).toEqual([]);
      expect((await theirs.get('a'))?.toString()).toBe('kept');
    });

    it('does not double the separator when the prefix ends with ":"', async () => {
      const a = await use({ prefix: 'same:' });
      const b = await use({ prefix: 'same' });
      await a.set('k', 'v');
      expect(await a.keys('*')).toEqual(['k']);
      expect(await b.keys('*')).toEqual(b.name === 'memory' ? [] : ['k']);
    });

    it('rejects a non-string pattern with INVALID_ARGUMENT', async () => {
      const cache = await use();
      await rejectsWith(cache.keys(5 as unknown as string), 'INVALID_ARGUMENT');
      await rejectsWith(cache.deletePattern(undefined as unknown as string), 'INVALID_ARGUMENT');
    });
  });
}
