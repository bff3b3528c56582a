import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../stores/memory/memory-store.js';
import { CacheError } from './errors.js';
import type { Store } from './store.js';
import { StoreCache } from './store-cache.js';
import type { CacheEvents } from './types.js';

/** A store whose backend can be switched off: every call then fails like a lost connection. */
function flakyStore(): { store: Store; down: (on: boolean) => void } {
  const inner = new MemoryStore({ maxMemory: 1 << 20 });
  let isDown = false;
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || prop === 'kind') return value;
      return (...args: unknown[]) => {
        if (isDown && prop !== 'stop' && prop !== 'start' && prop !== 'size') {
          // `peek` is synchronous by contract: a failing one throws.
          if (prop === 'peek') throw new CacheError('CONNECTION', 'backend unreachable');
          return Promise.reject(new CacheError('CONNECTION', 'backend unreachable'));
        }
        return value.apply(target, args);
      };
    },
  });
  return { store, down: (on) => (isDown = on) };
}

function collectErrors(cache: StoreCache): CacheEvents['error'][] {
  const seen: CacheEvents['error'][] = [];
  cache.on('error', (e) => seen.push(e));
  return seen;
}

describe('StoreCache when the backend fails', () => {
  it('reads fail open: a miss, an error event and a counted error', async () => {
    const { store, down } = flakyStore();
    const cache = new StoreCache(store);
    const errors = collectErrors(cache);
    await cache.set('k', 'v');
    down(true);
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.mget(['k', 'j'])).toEqual([undefined, undefined]);
    expect(await cache.exists('k')).toBe(false);
    expect(errors.map((e) => [e.operation, (e.error as CacheError).code])).toEqual([
      ['get', 'CONNECTION'],
      ['mget', 'CONNECTION'],
      ['exists', 'CONNECTION'],
    ]);
    expect(cache.stats()).toMatchObject({ errors: 3, misses: 4 });
    down(false);
    expect((await cache.get('k'))?.toString()).toBe('v');
  });

  it('with failOpen: false, reads reject with the backend error', async () => {
    const { store, down } = flakyStore();
    const cache = new StoreCache(store, { failOpen: false });
    down(true);
    await expect(cache.get('k')).rejects.toMatchObject({ code: 'CONNECTION' });
  });

  it('writes always reject, and are counted', async () => {
    const { store, down } = flakyStore();
    const cache = new StoreCache(store);
    down(true);
    await expect(cache.set('k', 'v')).rejects.toMatchObject({ code: 'CONNECTION' });
    await expect(cache.delete('k')).rejects.toMatchObject({ code: 'CONNECTION' });
    await expect(cache.incr('n')).rejects.toMatchObject({ code: 'CONNECTION' });
    expect(cache.stats().errors).toBe(3);
  });

  it('getOrSet returns the factory value when the cache is down, and reports it', async () => {
    const { store, down } = flakyStore();
    const cache = new StoreCache(store);
    const errors = collectErrors(cache);
    down(true);
    expect(await cache.getOrSet('k', () => ({ ok: true }), { tags: ['t'] })).toEqual({ ok: true });
    expect(await cache.getOrSet('k', () => 'again')).toBe('again');
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors.every((e) => e.operation === 'getOrSet')).toBe(true);
  });

  it('does not count caller mistakes as backend errors', async () => {
    const { store } = flakyStore();
    const cache = new StoreCache(store);
    await expect(cache.get('')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await cache.set('n', 'x');
    await expect(cache.incr('n')).rejects.toMatchObject({ code: 'NOT_INTEGER' });
    expect(cache.stats().errors).toBe(0);
  });
});

describe('StoreCache lifecycle', () => {
  it('initialize() applies defaultTTL before start, and names an option it cannot take', async () => {
    const { store } = flakyStore();
    const cache = new StoreCache(store);
    await cache.initialize({ defaultTTL: '1m' });
    await expect(cache.initialize({ maxMemory: 5 })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      message: expect.stringContaining('maxMemory'),
    });
    await expect(cache.initialize({ defaultTTL: -1 })).rejects.toMatchObject({
      code: 'INVALID_TTL',
    });
    await cache.start();
    await expect(cache.initialize({})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await cache.stop();
  });
});
