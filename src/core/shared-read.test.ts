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

describe('readDecoded (the declared fast-read capability)', () => {
  const counting = () => {
    const calls: string[] = [];
    const decode = (bytes: string | Buffer) => {
      const text = typeof bytes === 'string' ? bytes : bytes.toString('latin1');
      calls.push(text);
      return { text };
    };
    return { calls, decode };
  };

  it('decodes a hot entry once while the store keeps the same value, tagged or not', async () => {
    const { cache } = setup();
    const { calls, decode } = counting();
    await cache.set('plain', 'p');
    await cache.set('tagged', 't', undefined, { tags: ['x'] });
    for (const key of ['plain', 'tagged']) {
      const first = cache.readDecoded(key, decode);
      expect(first).toEqual({ text: key[0] });
      expect(cache.readDecoded(key, decode)).toBe(first);
    }
    expect(calls).toEqual(['p', 't']);
  });

  it('decodes again after an overwrite, and reads invalidated or expired entries as absent', async () => {
    const { cache, clock } = setup();
    const { calls, decode } = counting();
    await cache.set('k', 'one', undefined, { tags: ['t'] });
    cache.readDecoded('k', decode);
    await cache.set('k', 'two', undefined, { tags: ['t'] });
    expect(cache.readDecoded('k', decode)).toEqual({ text: 'two' });
    expect(calls).toEqual(['one', 'two']);
    await cache.invalidateTags(['t']);
    expect(cache.readDecoded('k', decode)).toBeUndefined();
    await cache.getOrSet('g', async () => 'v', { ttl: 1_000, grace: 60_000 });
    expect(cache.readDecoded('g', decode)).toEqual({ text: '"v"' });
    clock.t += 1_001;
    expect(cache.readDecoded('g', decode)).toBeUndefined();
  });

  it('counts as get does and rejects a stopped cache', async () => {
    const { cache } = setup();
    const { decode } = counting();
    await cache.set('k', 'v');
    cache.readDecoded('k', decode);
    cache.readDecoded('nope', decode);
    expect([cache.stats().hits, cache.stats().misses]).toEqual([1, 1]);
    await cache.stop();
    await expect(cache.readDecoded('k', decode)).rejects.toMatchObject({ code: 'STOPPED' });
  });
});
