import { describe, expect, it } from 'vitest';
import type { GetOrSetOptions } from '../../src/index.js';
import { eventually, skewedClock } from '../eventually.js';
import type { MakeCache } from './suite.js';
import { rejectsWith, useCaches } from './util.js';

/** A promise plus its resolvers, to hold a factory open. */
function deferred<T>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export function getOrSetContracts(makeCache: MakeCache): void {
  const use = useCaches(makeCache);

  describe('getOrSet', () => {
    it('runs the factory on a miss and not on a hit', async () => {
      const cache = await use();
      let runs = 0;
      const factory = async () => ({ n: ++runs });
      expect(await cache.getOrSet('k', factory, { ttl: '1m' })).toEqual({ n: 1 });
      expect(await cache.getOrSet('k', factory, { ttl: '1m' })).toEqual({ n: 1 });
      expect(runs).toBe(1);
      expect(await cache.getJSON('k')).toEqual({ n: 1 });
    });

    it('hands back any text exactly on a hit, fresh or stale, each caller its own copy', async () => {
      const cache = await use();
      const value = {
        ascii: 'plain',
        latin: 'café ÿ',
        cjk: '日本語',
        astral: '𝄞 🎉',
        ctl: '\u0000\u007f\u0080',
      };
      const factory = () => value;
      expect(await cache.getOrSet('plain', factory, { ttl: '1m' })).toEqual(value);
      const first = await cache.getOrSet('plain', factory, { ttl: '1m' });
      const second = await cache.getOrSet('plain', factory, { ttl: '1m' });
      expect(first).toEqual(value);
      expect(first).not.toBe(second);
      // An enveloped entry (grace keeps a logical expiry) reads back the same.
      expect(await cache.getOrSet('graced', factory, { ttl: '1m', grace: '1m' })).toEqual(value);
      expect(await cache.getOrSet('graced', factory, { ttl: '1m', grace: '1m' })).toEqual(value);
      expect(await cache.getOrSet('tagged', factory, { ttl: '1m', tags: ['t'] })).toEqual(value);
      expect(
        await cache.getOrSet('tagged', () => ({ other: 1 }), { ttl: '1m', tags: ['t'] }),
      ).toEqual(value);
    });

    it('resolves once its write has landed: getJSON right after sees every value', async () => {
      const cache = await use();
      // Many keys (on Cluster, many nodes), tagged: the write and the lock release go to
      // other connections than the read that follows.
      const keys = Array.from({ length: 20 }, (_, i) => `w${i}`);
      await Promise.all(keys.map((k) => cache.getOrSet(k, () => ({ k }), { tags: [`t${k}`] })));
      expect(await Promise.all(keys.map((k) => cache.getJSON(k)))).toEqual(
        keys.map((k) => ({ k })),
      );
    });

    it('after invalidateTags resolves, the next call computes afresh, however recent the last run', async () => {
      const cache = await use();
      for (let i = 1; i <= 20; i++) {
        expect(await cache.getOrSet('fresh', () => i, { tags: ['f'] })).toBe(i);
        await cache.invalidateTags(['f']);
      }
    });

    it('lets concurrent callers share one factory run (no stampede)', async () => {
      const cache = await use();
      let runs = 0;
      const gate = deferred<void>();
      const factory = async () => {
        runs++;
        await gate.promise;
        return 'v';
      };
      const calls = Array.from({ length: 50 }, () => cache.getOrSet('hot', factory, { ttl: '1m' }));
      await eventually(() => expect(runs).toBe(1));
      gate.resolve();
      expect(await Promise.all(calls)).toEqual(Array(50).fill('v'));
      expect(runs).toBe(1);
    });

    it('returns the same JSON shape on a miss as on a hit (a Date becomes a string)', async () => {
      const cache = await use();
      const when = new Date('2026-05-06T07:08:09.000Z');
      const miss = await cache.getOrSet('d', () => ({ when }), { ttl: '1m' });
      const hit = await cache.getOrSet('d', () => ({ when: new Date(0) }), { ttl: '1m' });
      expect(miss).toEqual({ when: '2026-05-06T07:08:09.000Z' });
      expect(hit).toEqual(miss);
    });

    it('gives every caller its own copy of the value', async () => {
      const cache = await use();
      const gate = deferred<void>();
      const factory = async () => {
        await gate.promise;
        return { list: [1] };
      };
      const [a, b] = [cache.getOrSet('c', factory), cache.getOrSet('c', factory)];
      gate.resolve();
      const [va, vb] = await Promise.all([a, b]);
      va.list.push(2);
      expect(vb.list).toEqual([1]);
      expect(await cache.getOrSet('c', factory)).toEqual({ list: [1] });
    });

    it('never caches a factory error', async () => {
      const cache = await use();
      let runs = 0;
      const failing = async () => {
        runs++;
        throw new Error('origin down');
      };
      await expect(cache.getOrSet('e', failing)).rejects.toThrow('origin down');
      await expect(cache.getOrSet('e', failing)).rejects.toThrow('origin down');
      expect(runs).toBe(2);
      expect(await cache.exists('e')).toBe(false);
      expect(await cache.getOrSet('e', () => 'ok')).toBe('ok');
    });

    it('refuses a factory value JSON cannot encode, without caching it', async () => {
      const cache = await use();
      await rejectsWith(
        cache.getOrSet('big', () => 10n),
        'SERIALIZATION',
      );
      expect(await cache.exists('big')).toBe(false);
    });

    it('returns undefined from a factory without caching it', async () => {
      const cache = await use();
      let runs = 0;
      const factory = () => {
        runs++;
        return undefined;
      };
      expect(await cache.getOrSet('u', factory)).toBeUndefined();
      expect(await cache.getOrSet('u', factory)).toBeUndefined();
      expect(runs).toBe(2);
    });

    it('expires by ttl, then runs the factory again', async () => {
      const clock = skewedClock();
      const cache = await use({ clock });
      let runs = 0;
      const factory = () => ++runs;
      await cache.getOrSet('t', factory, { ttl: 60 });
      // The memory store expires on the injected clock, Redis on its own.
      clock.advance(120);
      await eventually(async () => expect(await cache.exists('t')).toBe(false));
      expect(await cache.getOrSet('t', factory, { ttl: 60 })).toBe(2);
    });

    it('serves stale within grace while exactly one background refresh runs', async () => {
      const clock = skewedClock();
      const cache = await use({ clock });
      let runs = 0;
      const gate = deferred<void>();
      // The refreshed value must stay fresh however slow the machine is between its write and
      // the reads after it: a minute, skipped past on the clock rather than waited for.
      const options: GetOrSetOptions = { ttl: '1m', grace: '10m' };
      await cache.getOrSet('g', () => `v${++runs}`, options);
      clock.advance(120_000);
      const slow = async () => {
        runs++;
        await gate.promise;
        return `v${runs}`;
      };
      // Serves stale and starts the refresh in the background (after a lock round trip on Redis).
      expect(await cache.getOrSet('g', slow, options)).toBe('v1');
      await eventually(() => expect(runs).toBe(2));
      const stale = await Promise.all([1, 2, 3].map(() => cache.getOrSet('g', slow, options)));
      expect(stale).toEqual(['v1', 'v1', 'v1']);
      expect(runs).toBe(2);
      gate.resolve();
      // Served stale until the refresh's write lands, then fresh; never a second refresh.
      await eventually(async () => expect(await cache.getOrSet('g', slow, options)).toBe('v2'));
      expect(runs).toBe(2);
      expect(await cache.get('g')).toBeDefined();
    });

    it('fail-safe: serves the stale value when the factory throws', async () => {
      const clock = skewedClock();
      const cache = await use({ clock });
      const stale: string[] = [];
      cache.on('stale', (e) => stale.push(e.reason));
      await cache.getOrSet('f', () => 'good', { ttl: 60, failSafe: '10s' });
      clock.advance(120);
      const failing = () => Promise.reject(new Error('down'));
      expect(await cache.getOrSet('f', failing, { ttl: 60, failSafe: '10s' })).toBe('good');
      expect(stale).toEqual(['fail-safe']);
      await expect(cache.getOrSet('f', failing, { ttl: 60 })).rejects.toThrow('down');
      expect(await cache.get('f')).toBeUndefined();
    });

    it('soft timeout: returns stale while the factory finishes, which then lands', async () => {
      const clock = skewedClock();
      const cache = await use({ clock });
      // As above: the value that lands stays fresh for a minute, however slow the machine.
      const options: GetOrSetOptions = { ttl: '1m', failSafe: '10m', timeout: { soft: 30 } };
      await cache.getOrSet('s', () => 'old', options);
      clock.advance(120_000);
      const gate = deferred<void>();
      let started = false;
      const slow = async () => {
        started = true;
        await gate.promise;
        return 'new';
      };
      // `slow` is held open (once the lock is taken): only the soft timeout can answer.
      expect(await cache.getOrSet('s', slow, options)).toBe('old');
      await eventually(() => expect(started).toBe(true));
      gate.resolve();
      await eventually(async () => expect(await cache.getJSON('s')).toBe('new'));
    });

    it('hard timeout: rejects with TIMEOUT when there is nothing stale to serve', async () => {
      const cache = await use();
      const gate = deferred<void>();
      const slow = async () => {
        await gate.promise;
        return 'late';
      };
      // The factory is still held open: only the hard timeout can have answered.
      await rejectsWith(cache.getOrSet('h', slow, { timeout: 40 }), 'TIMEOUT');
      gate.resolve();
      await eventually(async () => expect(await cache.getJSON('h')).toBe('late'));
    });

    it('tags: invalidateTags makes the next call run the factory', async () => {
      const cache = await use();
      let runs = 0;
      const factory = () => ++runs;
      await cache.getOrSet('post:1', factory, { tags: ['posts'] });
      expect(await cache.getOrSet('post:1', factory, { tags: ['posts'] })).toBe(1);
      await cache.invalidateTags(['posts']);
      expect(await cache.getOrSet('post:1', factory, { tags: ['posts'] })).toBe(2);
    });

    it('an invalidation while the factory runs keeps its (stale) result out of the cache', async () => {
      const cache = await use();
      const gate = deferred<string>();
      const started = deferred<void>();
      const slow = cache.getOrSet(
        'race',
        () => {
          started.resolve();
          return gate.promise;
        },
        { tags: ['t'] },
      );
      await started.promise;
      await cache.invalidateTags(['t']);
      gate.resolve('computed-before-invalidation');
      expect(await slow).toBe('computed-before-invalidation');
      expect(await cache.getOrSet('race', () => 'fresh', { tags: ['t'] })).toBe('fresh');
    });

    it('an invalidated entry is not served as stale, even with grace', async () => {
      const cache = await use();
      await cache.getOrSet('gi', () => 'old', { ttl: 60, grace: '10s', tags: ['x'] });
      await cache.invalidateTags(['x']);
      expect(await cache.getOrSet('gi', () => 'new', { ttl: 60, grace: '10s', tags: ['x'] })).toBe(
        'new',
      );
    });

    it('honours the caller’s abort signal without cancelling the shared run', async () => {
      const cache = await use();
      const gate = deferred<string>();
      const controller = new AbortController();
      const aborted = cache.getOrSet('ab', () => gate.promise, { signal: controller.signal });
      const other = cache.getOrSet('ab', () => gate.promise);
      controller.abort();
      await rejectsWith(aborted, 'ABORTED');
      gate.resolve('done');
      expect(await other).toBe('done');
    });
  });
}
