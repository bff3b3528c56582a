import { describe, expect, it } from 'vitest';
import { createCache } from '../../create-cache.js';
import { MemoryCache } from './memory-cache.js';

describe('MemoryCache maxTags', () => {
  it('keeps its tag map bounded: past the limit every tagged entry is invalidated, others kept', async () => {
    const cache = new MemoryCache({ maxTags: 100 });
    await cache.set('tagged', 'v', undefined, { tags: ['keep-me'] });
    await cache.set('plain', 'p');
    for (let i = 0; i < 100; i++) await cache.invalidateTags([`entity:${i}`]);
    expect(await cache.get('tagged')).toEqual(Buffer.from('v'));
    await cache.invalidateTags(['entity:100']);
    expect(await cache.get('tagged')).toBeUndefined();
    expect(await cache.get('plain')).toEqual(Buffer.from('p'));
    const { details } = await cache.health();
    expect(details).toMatchObject({ tags: 0, tagResets: 1 });
    // Tagging works as before after the reset.
    await cache.set('again', 'x', undefined, { tags: ['keep-me'] });
    expect(await cache.get('again')).toEqual(Buffer.from('x'));
    await cache.invalidateTags(['keep-me']);
    expect(await cache.get('again')).toBeUndefined();
    await cache.stop();
  });

  it('takes maxTags from a memory:// URL and rejects a bad one naming it', () => {
    expect(() => createCache('memory://?maxTags=10')).not.toThrow();
    expect(() => createCache('memory://?maxTags=0')).toThrow(/maxTags/);
    expect(() => new MemoryCache({ maxTags: -3 })).toThrow(/maxTags/);
  });
});
