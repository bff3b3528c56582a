import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore } from '../stores/memory/memory-store.js';
import type { Store } from './store.js';
import { StoreCache } from './store-cache.js';

/** A factory held open until `resolve`; `started` resolves once it runs. */
function heldFactory(): {
  factory: () => Promise<string>;
  started: Promise<void>;
  resolve: (v: string) => void;
} {
  const gate = deferred<string>();
  const started = deferred();
  return {
    factory: () => {
      started.resolve();
      return gate.promise;
    },
    started: started.promise,
    resolve: gate.resolve,
  };
}

/** A promise plus its resolver, to hold a factory or a write open. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * A memory store whose writes (`set`) land later, as a remote backend's do: each is applied
 * on a later macrotask, or — after `holdNextSet()` — once the test lets it. Reads answer at
 * once, so they see exactly what has landed.
 */
function remoteLikeStore(): {
  store: Store;
  holdNextSet: () => { sent: Promise<void>; land: () => void };
} {
  const inner = new MemoryStore({ maxMemory: 1 << 20 });
  let hold: { sent: () => void; landed: Promise<void> } | undefined;
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop !== 'set') return typeof value === 'function' ? value.bind(target) : value;
      return (...args: Parameters<MemoryStore['set']>) => {
        const gate = hold;
        hold = undefined;
        gate?.sent();
        const when = gate?.landed ?? new Promise((r) => setImmediate(r));
        return when.then(() => target.set(...args));
      };
    },
  });
  return {
    store,
    holdNextSet: () => {
      const sent = deferred();
      const landed = deferred();
      hold = { sent: () => sent.resolve(), landed: landed.promise };
      return { sent: sent.promise, land: () => landed.resolve() };
    },
  };
}

describe('getOrSet and the writes it makes', () => {
  it('regression: getOrSet resolved before its write landed, so getJSON right after missed', async () => {
    const cache = new StoreCache(remoteLikeStore().store);
    const keys = ['a', 'b', 'c'];
    await Promise.all(keys.map((k) => cache.getOrSet(k, () => ({ k }), { tags: ['t'] })));
    for (const k of keys) expect(await cache.getJSON(k)).toEqual({ k });
  });

  it('answers a hard timeout that fires while the write lands with the computed value', async () => {
    const { store, holdNextSet } = remoteLikeStore();
    const cache = new StoreCache(store);
    const write = holdNextSet();
    // The factory answers at once; only the held write is slower than the timeout.
    expect(await cache.getOrSet('k', () => 'computed', { timeout: 20 })).toBe('computed');
    write.land();
    await write.sent;
  });
});

describe('a getOrSet caller never joins a run computed before a change this cache made', () => {
  it('regression: a caller after invalidateTags resolved joined the run whose write was still landing', async () => {
    const { store, holdNextSet } = remoteLikeStore();
    const cache = new StoreCache(store);
    const write = holdNextSet();
    const first = cache.getOrSet('k', () => 'before', { tags: ['t'] });
    await write.sent; // The run computed its value; its write has not landed.
    await cache.invalidateTags(['t']);
    let runs = 0;
    const second = cache.getOrSet(
      'k',
      () => {
        runs++;
        return 'after';
      },
      { tags: ['t'] },
    );
    write.land();
    expect(await first).toBe('before');
    expect(await second).toBe('after');
    expect(runs).toBe(1);
  });

  it('regression: a caller after delete() resolved joined the earlier run, whose write then put the value back', async () => {
    const cache = new StoreCache(new MemoryStore({ maxMemory: 1 << 20 }));
    const gate = heldFactory();
    const first = cache.getOrSet('k', gate.factory);
    await gate.started;
    await cache.delete('k');
    const second = cache.getOrSet('k', () => 'after');
    gate.resolve('before');
    expect(await first).toBe('before');
    expect(await second).toBe('after');
    expect(await cache.getJSON('k')).toBe('after');
  });

  it('regression: a run that began before set() wrote its older value over the one set', async () => {
    const cache = new StoreCache(new MemoryStore({ maxMemory: 1 << 20 }));
    const gate = heldFactory();
    const first = cache.getOrSet('k', gate.factory);
    await gate.started;
    await cache.setJSON('k', 'set');
    gate.resolve('computed');
    expect(await first).toBe('computed');
    expect(await cache.getJSON('k')).toBe('set');
    expect(await cache.getOrSet('k', () => 'again')).toBe('set');
  });

  it('clear(), deletePattern(), mset() and incr() supersede the runs of the keys they change', async () => {
    const cache = new StoreCache(new MemoryStore({ maxMemory: 1 << 20 }));
    const changes: [string, () => Promise<unknown>][] = [
      ['c', () => cache.clear()],
      ['user:1', () => cache.deletePattern('user:*')],
      ['m', () => cache.mset({ m: '"mset"' })],
      ['n', () => cache.incr('n')],
    ];
    for (const [key, change] of changes) {
      const gate = heldFactory();
      const first = cache.getOrSet(key, gate.factory);
      await gate.started;
      await change();
      const second = cache.getOrSet(key, () => 'after');
      gate.resolve('before');
      expect(await first).toBe('before');
      // mset and incr left a value: the next caller reads it instead of computing.
      const expected = key === 'm' ? 'mset' : key === 'n' ? 1 : 'after';
      expect({ key, value: await second }).toEqual({ key, value: expected });
    }
  });

  it('a run whose tags were not invalidated is still joined', async () => {
    const cache = new StoreCache(new MemoryStore({ maxMemory: 1 << 20 }));
    const gate = heldFactory();
    let runs = 0;
    const factory = () => {
      runs++;
      return gate.factory();
    };
    const first = cache.getOrSet('k', factory, { tags: ['a'] });
    await gate.started;
    await cache.invalidateTags(['b']);
    await cache.delete('other');
    const second = cache.getOrSet('k', factory, { tags: ['a'] });
    gate.resolve('v');
    expect([await first, await second]).toEqual(['v', 'v']);
    expect(runs).toBe(1);
  });
});

describe('jitter', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** A memory store that records the TTL of every write. */
  function recordingStore(): { store: Store; ttls: (number | undefined)[] } {
    const inner = new MemoryStore({ maxMemory: 1 << 20 });
    const ttls: (number | undefined)[] = [];
    const store = new Proxy(inner, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== 'set') return typeof value === 'function' ? value.bind(target) : value;
        return (...args: Parameters<MemoryStore['set']>) => {
          ttls.push(args[2]);
          return target.set(...args);
        };
      },
    });
    return { store, ttls };
  }

  it('shortens each write by a random share of the TTL, at most `jitter` of it', async () => {
    const { store, ttls } = recordingStore();
    const cache = new StoreCache(store);
    const random = vi.spyOn(Math, 'random');
    random.mockReturnValueOnce(0);
    await cache.getOrSet('a', () => 1, { ttl: 10_000, jitter: 0.2 });
    random.mockReturnValueOnce(0.999_999);
    await cache.getOrSet('b', () => 1, { ttl: 10_000, jitter: 0.2 });
    random.mockReturnValueOnce(0.5);
    // With grace the stored TTL is the jittered freshness plus the grace window.
    await cache.getOrSet('c', () => 1, { ttl: 10_000, jitter: 0.2, grace: 5_000 });
    expect(ttls).toEqual([10_000, 8_001, 9_000 + 5_000]);
  });

  it('leaves the TTL alone without jitter, and entries without a TTL without one', async () => {
    const { store, ttls } = recordingStore();
    const cache = new StoreCache(store);
    await cache.getOrSet('a', () => 1, { ttl: 10_000 });
    await cache.getOrSet('b', () => 1, { jitter: 0.5 });
    expect(ttls).toEqual([10_000, undefined]);
  });

  it('takes the cache-wide jitter as the default; a per-call jitter, 0 included, wins', async () => {
    const { store, ttls } = recordingStore();
    const cache = new StoreCache(store, { jitter: 0.5 });
    const random = vi.spyOn(Math, 'random');
    random.mockReturnValue(0.999_999);
    await cache.getOrSet('a', () => 1, { ttl: 10_000 });
    await cache.getOrSet('b', () => 1, { ttl: 10_000, jitter: 0.1 });
    await cache.getOrSet('c', () => 1, { ttl: 10_000, jitter: 0 });
    expect(ttls).toEqual([5_001, 9_001, 10_000]);
  });

  it('rejects a cache-wide jitter outside [0, 1) when the cache is made, naming it', () => {
    for (const jitter of [1, -0.1, Number.NaN, '0.1']) {
      expect(
        () => new StoreCache(new MemoryStore({ maxMemory: 1 << 20 }), { jitter } as never),
      ).toThrow(
        expect.objectContaining({
          code: 'INVALID_CONFIG',
          message: expect.stringContaining('jitter'),
        }),
      );
    }
  });

  it('rejects a jitter outside [0, 1) and a lock TTL of 0, naming the option', async () => {
    const cache = new StoreCache(new MemoryStore({ maxMemory: 1 << 20 }));
    for (const jitter of [1, -0.1, Number.NaN]) {
      await expect(cache.getOrSet('k', () => 1, { jitter })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('jitter'),
      });
    }
    await expect(cache.getOrSet('k', () => 1, { lock: { ttl: 0 } })).rejects.toMatchObject({
      message: expect.stringContaining('lock.ttl'),
    });
  });
});

describe('a hung factory', () => {
  it('gives up on a hung factory after lock.wait: the key is not wedged, the late value still lands', async () => {
    const cache = new StoreCache(new MemoryStore({ maxMemory: 1 << 20 }));
    const hung = heldFactory();
    const options = { timeout: 50, lock: { wait: 100 } } as const;
    const first = cache.getOrSet('k', hung.factory, options);
    await hung.started;
    await expect(first).rejects.toMatchObject({ code: 'TIMEOUT' });
    // Before the fix every later caller joined the hung run and timed out, forever.
    await vi.waitFor(
      async () => expect(await cache.getOrSet('k', () => 'fresh', options)).toBe('fresh'),
      { timeout: 10_000, interval: 20 },
    );
    // The given-up run still writes when it lands (as a process that stopped waiting does).
    hung.resolve('late');
    await vi.waitFor(async () => expect(await cache.getJSON('k')).toBe('late'));
  });
});
