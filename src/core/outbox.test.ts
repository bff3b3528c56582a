import { describe, expect, it } from 'vitest';
import { ManualTimers } from '../../test/harness/manual-timers.js';
import { MemoryStore } from '../stores/memory/memory-store.js';
import { CacheError } from './errors.js';
import { CacheEmitter } from './events.js';
import { InvalidationOutbox, PENDING_VERSION, retryDelay } from './outbox.js';
import type { Store } from './store.js';
import { StoreCache } from './store-cache.js';
import type { CacheEvents } from './types.js';

/** A memory store whose tag bumps fail like an unreachable Redis while `down`. */
function bumpingStore() {
  const store = new MemoryStore({ maxMemory: 1 << 20 });
  const state = { down: true, bumps: 0 };
  const bumpTags = store.bumpTags.bind(store);
  (store as { bumpTags: Store['bumpTags'] }).bumpTags = (tags) => {
    state.bumps++;
    if (state.down) return Promise.reject(new CacheError('TIMEOUT', 'redis tags timed out'));
    return bumpTags(tags);
  };
  return { store, state };
}

function outbox(defaultTtlMs?: number) {
  const timers = new ManualTimers();
  const { store, state } = bumpingStore();
  const events = new CacheEmitter('test');
  const seen: CacheEvents['outbox'][] = [];
  events.on('outbox', (e) => seen.push(e));
  const box = new InvalidationOutbox(
    store,
    events,
    () => timers.clock,
    () => defaultTtlMs,
    timers,
  );
  return { box, store, state, timers, seen };
}

describe('InvalidationOutbox', () => {
  it('retries a queued bump with exponential backoff until it lands', async () => {
    const { box, state, timers, seen } = outbox();
    box.enqueue(['a', 'b'], new CacheError('TIMEOUT', 'x'));
    expect(box.size).toBe(2);
    expect(seen.map((e) => e.action)).toEqual(['queued']);
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      const delay = timers.nextDelay as number;
      delays.push(delay);
      await timers.advance(delay);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000]);
    expect(state.bumps).toBe(8);
    state.down = false;
    await timers.advance(timers.nextDelay as number);
    expect(box.size).toBe(0);
    expect(timers.pending).toBe(0);
    expect(seen.at(-1)).toMatchObject({ action: 'landed', tags: ['a', 'b'], pending: 0 });
  });

  it('answers the pending version for any tag list holding a pending tag, without asking the store', () => {
    const { box, store, state } = outbox();
    state.down = false;
    store.bumpTags(['c']);
    box.enqueue(['a'], undefined);
    expect(box.tagVersions(['a', 'c'])).toEqual([PENDING_VERSION, PENDING_VERSION]);
    expect(box.tagVersions(['c'])).toEqual(store.tagVersions(['c']));
  });

  it('drops a bump once the longest TTL of a tagged write has passed since it was queued', async () => {
    const { box, state, timers, seen } = outbox();
    box.noteTaggedWrite(3_000);
    box.noteTaggedWrite(10_000);
    box.noteTaggedWrite(1_000);
    box.enqueue(['a'], undefined);
    await timers.advance(9_000);
    expect(box.size).toBe(1);
    await timers.advance(6_000); // The next retry after 10 s finds nothing left to protect.
    expect(box.size).toBe(0);
    expect(seen.at(-1)).toMatchObject({ action: 'dropped', tags: ['a'] });
    const bumps = state.bumps;
    await timers.advance(60_000);
    expect(state.bumps).toBe(bumps);
  });

  it('keeps retrying when an entry was written without a TTL, or nothing bounds the tags', async () => {
    const { box, timers } = outbox();
    box.enqueue(['unbounded'], undefined);
    await timers.advance(24 * 3_600_000);
    expect(box.size).toBe(1);
  });

  it('uses the default TTL as the bound when no tagged write was seen', async () => {
    const { box, timers } = outbox(2_000);
    box.enqueue(['a'], undefined);
    await timers.advance(1_000);
    expect(box.size).toBe(1);
    await timers.advance(5_000);
    expect(box.size).toBe(0);
  });

  it('a tag queued again while its bump is in flight stays pending after that bump lands', async () => {
    const { box, store, state, timers } = outbox();
    state.down = false;
    let release: () => void = () => {};
    const inner = store.bumpTags.bind(store);
    (store as { bumpTags: Store['bumpTags'] }).bumpTags = (tags) =>
      new Promise<void>((resolve) => {
        release = () => {
          inner(tags);
          resolve();
        };
      });
    box.enqueue(['a'], undefined);
    await timers.advance(100); // The retry is now in flight.
    box.enqueue(['a'], undefined); // A later write failed to invalidate the same tag.
    release();
    await timers.advance(0);
    expect(box.size).toBe(1);
  });

  it('flush(via) bumps through the given view and rejects when it fails', async () => {
    const { box, state } = outbox();
    box.enqueue(['a'], undefined);
    await expect(box.flush()).rejects.toMatchObject({ code: 'TIMEOUT' });
    const bumped: string[][] = [];
    await box.flush({ bumpTags: async (tags) => void bumped.push([...tags]) });
    expect(bumped).toEqual([['a']]);
    expect(box.size).toBe(0);
    expect(state.bumps).toBe(1);
  });

  it('stop() cancels the retry timer', () => {
    const { box, timers } = outbox();
    box.enqueue(['a'], undefined);
    box.stop();
    expect(timers.pending).toBe(0);
  });

  it('retryDelay doubles from 100 ms to a 5 s cap', () => {
    expect([1, 2, 3, 7, 8, 50].map(retryDelay)).toEqual([100, 200, 400, 5_000, 5_000, 5_000]);
  });
});

describe('invalidateTags(tags, { retry: true }) on a StoreCache', () => {
  it('queues a failed bump, bypasses the tag until it lands, then serves again', async () => {
    const { store, state } = bumpingStore();
    const cache = new StoreCache(store);
    const events: CacheEvents['outbox'][] = [];
    cache.on('outbox', (e) => events.push(e));
    await cache.set('p', 'old', undefined, { tags: ['products'] });
    await cache.set('other', 'kept', undefined, { tags: ['users'] });

    expect(await cache.invalidateTags(['products'], { retry: true })).toEqual({ queued: true });
    expect(await cache.get('p')).toBeUndefined();
    expect((await cache.get('other'))?.toString()).toBe('kept');
    // A write under a pending tag is not trusted: it reads as absent until the bump lands.
    await cache.set('p2', 'during', undefined, { tags: ['products'] });
    expect(await cache.get('p2')).toBeUndefined();
    expect(await cache.health()).toMatchObject({ status: 'degraded', details: { outbox: 1 } });

    const landed = new Promise<void>((resolve) =>
      cache.on('outbox', (e) => e.action === 'landed' && resolve()),
    );
    state.down = false;
    await landed;
    expect(await cache.health()).toMatchObject({ status: 'healthy', details: { outbox: 0 } });
    await cache.set('p', 'new', undefined, { tags: ['products'] });
    expect((await cache.get('p'))?.toString()).toBe('new');
    expect(events.map((e) => e.action)).toEqual(['queued', 'landed']);
    await cache.stop();
  });

  it('without retry, a failed bump rejects and nothing is queued', async () => {
    const { store } = bumpingStore();
    const cache = new StoreCache(store);
    await expect(cache.invalidateTags(['t'])).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect((await cache.health()).details).toMatchObject({ outbox: 0 });
    await cache.stop();
  });

  it('resolves { queued: false } when the bump lands at once', async () => {
    const cache = new StoreCache(new MemoryStore({ maxMemory: 1 << 20 }));
    expect(await cache.invalidateTags(['t'], { retry: true })).toEqual({ queued: false });
    await cache.stop();
  });
});
