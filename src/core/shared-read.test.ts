import { describe, expect, it } from 'vitest';
import { MemoryCache } from '../stores/memory/memory-cache.js';
import { encodeEnvelope } from './envelope.js';

function setup() {
  const clock = { t: 1_000_000, now: () => clock.t };
  const cache = new MemoryCache({ maxMemory: '1mb', clock });
  return { cache, clock };
}

const bytesOf = (v: string | Buffer | undefined): Buffer | undefined =>
  v === undefined ? undefined : typeof v === 'string' ? Buffer.from(v, 'latin1') : v;

describe('readShared (zero-copy reads for the HTTP hit path)', () => {
  it('answers what get answers, synchronously, as one-byte strings on the memory backend', async () => {
    const { cache } = setup();
    const binary = Buffer.from([0, 1, 2, 200, 255]);
    await cache.set('plain', 'héllo');
    await cache.set('binary', binary);
    await cache.set('tagged', 'tagged value', undefined, { tags: ['t1'] });
    // A value that itself starts with the envelope magic is stored wrapped.
    const lookalike = encodeEnvelope(Buffer.from('inner'), 0);
    await cache.set('lookalike', lookalike);
    for (const key of ['plain', 'binary', 'tagged', 'lookalike', 'absent']) {
      const shared = cache.readShared(key);
      expect(shared instanceof Promise).toBe(false);
      expect(typeof shared === 'string' || shared === undefined).toBe(true);
      expect(bytesOf(shared as string | undefined)).toEqual(await cache.get(key));
    }
  });

  it('follows an overwrite of an entry it has already decoded', async () => {
    const { cache } = setup();
    await cache.set('k', 'one', undefined, { tags: ['t'] });
    expect(cache.readShared('k')).toBe('one');
    expect(cache.readShared('k')).toBe('one');
    await cache.set('k', 'two', undefined, { tags: ['t'] });
    expect(cache.readShared('k')).toBe('two');
  });

  it('reads an invalidated tagged entry as absent, even after it was remembered', async () => {
    const { cache } = setup();
    await cache.set('k', 'v', undefined, { tags: ['a', 'b'] });
    expect(cache.readShared('k')).toBe('v');
    await cache.invalidateTags(['b']);
    expect(cache.readShared('k')).toBeUndefined();
    expect(await cache.exists('k')).toBe(false);
  });

  it('reads an entry past its logical expiry as absent (a grace copy is not a hit)', async () => {
    const { cache, clock } = setup();
    await cache.getOrSet('k', async () => 'v', { ttl: 1_000, grace: 60_000 });
    expect(cache.readShared('k')).toBe('"v"');
    clock.t += 1_001;
    expect(cache.readShared('k')).toBeUndefined();
    expect(await cache.get('k')).toBeUndefined();
  });

  it('honours the physical TTL', async () => {
    const { cache, clock } = setup();
    await cache.set('k', 'v', 500);
    expect(cache.readShared('k')).toBe('v');
    clock.t += 501;
    expect(cache.readShared('k')).toBeUndefined();
  });

  it('counts hits and misses as get does, and rejects bad keys and a stopped cache', async () => {
    const { cache } = setup();
    await cache.set('k', 'v');
    cache.readShared('k');
    cache.readShared('nope');
    const { hits, misses } = cache.stats();
    expect([hits, misses]).toEqual([1, 1]);
    await expect(cache.readShared('')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await cache.stop();
    await expect(cache.readShared('k')).rejects.toMatchObject({ code: 'STOPPED' });
  });

  it('forgets what it remembered on clear()', async () => {
    const { cache } = setup();
    await cache.set('k', 'v', undefined, { tags: ['t'] });
    expect(cache.readShared('k')).toBe('v');
    await cache.clear();
    expect(cache.readShared('k')).toBeUndefined();
  });
});
