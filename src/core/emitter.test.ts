import { describe, expect, it, vi } from 'vitest';
import { CachingMiddleware } from '../http/caching-middleware.js';
import { MemoryCache } from '../stores/memory/memory-cache.js';

describe('the one emitter (core and HTTP)', () => {
  it('reports a throwing listener as a process warning, and still calls the others', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const cache = new MemoryCache();
      const mw = new CachingMiddleware(cache);
      const seen: string[] = [];
      cache.on('set', () => {
        throw new Error('core listener bug');
      });
      cache.on('set', ({ key }) => seen.push(key));
      mw.on('invalidate', () => {
        throw new Error('http listener bug');
      });
      mw.on('invalidate', ({ tags }) => seen.push(...tags));
      await cache.set('k', 'v');
      await mw.invalidateTags(['t']);
      expect(seen).toEqual(['k', 't']);
      const warnings = warn.mock.calls.map((c) => String(c[0]));
      expect(
        warnings.some((w) => w.includes('"set" listener threw') && w.includes('core listener bug')),
      ).toBe(true);
      expect(
        warnings.some((w) => w.includes('"invalidate"') && w.includes('http listener bug')),
      ).toBe(true);
      await cache.stop();
    } finally {
      warn.mockRestore();
    }
  });
});
