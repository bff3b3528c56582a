import diagnostics from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { MemoryCache } from '../stores/memory/memory-cache.js';
import { CacheEmitter, channelName } from './events.js';

describe('events', () => {
  it('publishes on node:diagnostics_channel with the cache name', async () => {
    const seen: unknown[] = [];
    const onHit = (message: unknown) => seen.push(message);
    diagnostics.subscribe(channelName('hit'), onHit);
    try {
      const cache = new MemoryCache();
      await cache.set('k', 'v');
      await cache.get('k');
      await cache.stop();
    } finally {
      diagnostics.unsubscribe(channelName('hit'), onHit);
    }
    expect(seen).toEqual([{ key: 'k', cache: 'memory' }]);
  });

  it('wants() is false with no listener and no subscriber, true with either', () => {
    const emitter = new CacheEmitter('memory');
    expect(emitter.wants('miss')).toBe(false);
    const listener = () => {};
    emitter.on('miss', listener);
    expect(emitter.wants('miss')).toBe(true);
    emitter.off('miss', listener);
    expect(emitter.wants('miss')).toBe(false);
    const sub = () => {};
    diagnostics.subscribe(channelName('miss'), sub);
    expect(emitter.wants('miss')).toBe(true);
    diagnostics.unsubscribe(channelName('miss'), sub);
  });

  it('a throwing listener does not break the operation or other listeners', async () => {
    const cache = new MemoryCache();
    const seen: string[] = [];
    cache.on('set', () => {
      throw new Error('listener bug');
    });
    cache.on('set', (e) => seen.push(e.key));
    await cache.set('k', 'v');
    expect(seen).toEqual(['k']);
    await cache.stop();
  });

  it('per-operation events reach listeners added and removed after the cache was built', async () => {
    const cache = new MemoryCache({ maxEntries: 1 });
    const seen: string[] = [];
    const record = (name: string) => (e: { key: string }) => seen.push(`${name} ${e.key}`);
    const listeners = {
      hit: record('hit'),
      miss: record('miss'),
      set: record('set'),
      delete: record('delete'),
      evict: record('evict'),
    } as const;
    await cache.set('a', '1');
    await cache.get('a');
    expect(seen).toEqual([]);
    for (const [name, listener] of Object.entries(listeners)) {
      cache.on(name as keyof typeof listeners, listener);
    }
    await cache.get('a');
    await cache.get('b');
    await cache.set('b', '2');
    await cache.delete('b');
    expect(seen).toEqual(['hit a', 'miss b', 'evict a', 'set b', 'delete b']);
    for (const [name, listener] of Object.entries(listeners)) {
      cache.off(name as keyof typeof listeners, listener);
    }
    await cache.set('c', '3');
    await cache.get('c');
    expect(seen).toHaveLength(5);
    await cache.stop();
  });
});
