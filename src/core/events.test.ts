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
});
