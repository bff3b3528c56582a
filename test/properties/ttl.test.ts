/**
 * Property: any TTL — 0, negative, NaN, ±Infinity, fractions, beyond `setTimeout`'s
 * 2^31 − 1 ms, duration strings valid and not, values of the wrong type — is either taken
 * (as the README documents: omitted or 0 → `defaultTTL`, fractions round up) or refused with
 * `INVALID_TTL`, identically on memory, Redis and tiered, through every call that takes one.
 * A huge TTL never makes an entry, or a getOrSet timeout, expire at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Cache,
  CacheError,
  MemoryCache,
  parseDuration,
  RedisCache,
  TieredCache,
} from '../../src/index.js';
import { ttlArb } from './arbitraries.js';
import { type Outcome, onEach, outcome, runs, same, timeoutFor, useTrio } from './util.js';

const trio = useTrio();

/** What the README promises for a TTL: milliseconds to live, `undefined` for none, or the error code. */
function documented(ttl: unknown): { ms: number | undefined } | { code: string } {
  if (ttl === undefined) return { ms: undefined };
  let ms: number;
  try {
    ms = parseDuration(ttl as never, 'ttl');
  } catch (err) {
    return { code: (err as CacheError).code };
  }
  if (ms === 0) return { ms: undefined };
  if (ms > 2 ** 53) return { code: 'INVALID_TTL' };
  return { ms: Math.ceil(ms) };
}

const LONG = 60_000;

describe('TTLs: taken as documented or INVALID_TTL, the same on every backend', () => {
  it(
    'set / setJSON / mset / getOrSet with random TTLs',
    async () => {
      const t = trio();
      await t.clear();
      let n = 0;
      await fc.assert(
        fc.asyncProperty(ttlArb, async (ttl) => {
          const key = `k${n++}`;
          const want = documented(ttl);
          const calls: [string, (c: Cache) => unknown][] = [
            ['set', (c) => c.set(key, 'v', ttl as never)],
            ['setJSON', (c) => c.setJSON(`${key}j`, 1, ttl as never)],
            ['mset', (c) => c.mset({ [`${key}m`]: 'v' }, ttl as never)],
            ['getOrSet', (c) => c.getOrSet(`${key}g`, () => 1, { ttl: ttl as never })],
          ];
          for (const [name, call] of calls) {
            const o = same(await onEach(t, call), `${name}(${String(ttl)})`);
            if ('code' in want) expect(o, name).toEqual({ ok: false, code: want.code });
            else expect(o.ok, name).toBe(true);
          }
          if ('code' in want) {
            expect(same(await onEach(t, (c) => c.exists(key)), 'refused')).toEqual({
              ok: true,
              value: false,
            });
            return;
          }
          // A TTL long enough that the entry cannot expire while we look must not have.
          if (want.ms === undefined || want.ms >= LONG) {
            for (const k of [key, `${key}j`, `${key}m`, `${key}g`]) {
              expect(same(await onEach(t, (c) => c.exists(k)), `exists ${k}`)).toEqual({
                ok: true,
                value: true,
              });
            }
            // Redis holds the TTL asked for (none, or at least the asked TTL minus the time spent).
            const pttl = await t.raw.pttl(`${t.namespace}r:${key}`);
            if (want.ms === undefined) expect(pttl).toBe(-1);
            else {
              expect(pttl).toBeGreaterThan(want.ms - LONG);
              expect(pttl).toBeLessThanOrEqual(want.ms);
            }
          }
        }),
        { numRuns: runs(100) },
      );
    },
    timeoutFor(60_000),
  );

  it('the cache option defaultTTL takes the same values on every backend', () => {
    fc.assert(
      fc.property(ttlArb, (ttl) => {
        const outcomes: Outcome[] = [];
        for (const make of [
          () => new MemoryCache({ defaultTTL: ttl as never }),
          () => new RedisCache({ url: 'redis://127.0.0.1:1', defaultTTL: ttl as never }),
          () => new TieredCache({ url: 'redis://127.0.0.1:1', defaultTTL: ttl as never }),
        ]) {
          try {
            make();
            outcomes.push({ ok: true, value: undefined });
          } catch (err) {
            outcomes.push(
              err instanceof CacheError
                ? { ok: false, code: err.code }
                : { ok: false, code: 'UNTYPED', message: String(err) },
            );
          }
        }
        same(outcomes, `defaultTTL ${String(ttl)}`);
      }),
      { numRuns: runs(200) },
    );
  });

  // Regression (shrunk counterexample [null]): RedisCache and TieredCache took `defaultTTL:
  // null` as "omitted" while MemoryCache refused it.
  it('defaultTTL: null is INVALID_TTL on every backend', () => {
    for (const make of [
      () => new MemoryCache({ defaultTTL: null as never }),
      () => new RedisCache({ url: 'redis://127.0.0.1:1', defaultTTL: null as never }),
      () => new TieredCache({ url: 'redis://127.0.0.1:1', defaultTTL: null as never }),
    ]) {
      expect(make).toThrow(expect.objectContaining({ code: 'INVALID_TTL' }));
    }
  });

  // Regression (shrunk counterexample ["timeout", 0]): a 0 ms timer raced the factory, so
  // memory answered 1 and Redis rejected with TIMEOUT. 0 now means no timeout.
  it('getOrSet timeout: 0 means no timeout on every backend', async () => {
    const t = trio();
    for (const timeout of [0, '0s', { soft: 0, hard: 0 }] as const) {
      const outcomes = await onEach(t, async (c) => {
        await c.delete('zero');
        return c.getOrSet(
          'zero',
          async () => {
            await sleep(20);
            return 1;
          },
          { timeout },
        );
      });
      expect(same(outcomes, JSON.stringify(timeout))).toEqual({ ok: true, value: 1 });
    }
  });

  // Regression (shrunk counterexample ["timeout", null]): a null timeout, lock or options
  // object was read as an object and threw a bare TypeError.
  it('getOrSet refuses null options with a CacheError on every backend', async () => {
    const t = trio();
    for (const [options, code] of [
      [{ timeout: null }, 'INVALID_TTL'],
      [{ timeout: true }, 'INVALID_TTL'],
      [{ lock: null }, 'INVALID_ARGUMENT'],
      [{ lock: 5 }, 'INVALID_ARGUMENT'],
      [null, 'INVALID_ARGUMENT'],
    ] as const) {
      const o = same(
        await onEach(t, (c) => c.getOrSet('nul', () => 1, options as never)),
        JSON.stringify(options),
      );
      expect(o).toEqual({ ok: false, code });
    }
  });

  // Timer overflow: Node fires a setTimeout longer than 2^31 − 1 ms after 1 ms. Waiting 50 ms
  // here gives such a timer ample time to fire; a correct cache has no timer due for days.
  it('an entry with a TTL beyond 2^31 − 1 ms does not vanish at once', async () => {
    const t = trio();
    for (const ttl of [2 ** 31, 2 ** 32 + 5, '30d', '1000d', 2 ** 53] as const) {
      same(await onEach(t, (c) => c.set('huge', 'v', ttl)), `set ${ttl}`);
      await sleep(50);
      expect(same(await onEach(t, (c) => c.get('huge')), `get ${ttl}`)).toEqual({
        ok: true,
        value: `bytes:${Buffer.from('v').toString('hex')}`,
      });
    }
  });

  // Regression: getOrSet armed its timeout with a bare setTimeout, so `timeout: '30d'` fired
  // after 1 ms and rejected a 50 ms factory with TIMEOUT.
  it('a getOrSet timeout beyond 2^31 − 1 ms does not fire at once', async () => {
    const t = trio();
    for (const c of t.all) {
      for (const timeout of ['30d', 2 ** 32, { hard: '100d' }] as const) {
        const o = await outcome(() =>
          c.getOrSet(
            `slow${JSON.stringify(timeout)}`,
            async () => {
              await sleep(50);
              return 'done';
            },
            { timeout },
          ),
        );
        expect(o, `${c.name} ${JSON.stringify(timeout)}`).toEqual({ ok: true, value: 'done' });
      }
    }
  });

  it('grace, failSafe and timeout options take the same values on every backend', async () => {
    const t = trio();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          'grace',
          'failSafe',
          'timeout',
          'timeout.soft',
          'timeout.hard',
          'lock',
          'lock.ttl',
          'lock.wait',
          'options',
        ),
        ttlArb,
        async (option, value) => {
          const [outer, inner] = option.split('.');
          const options =
            option === 'options'
              ? value
              : inner === undefined
                ? { [outer!]: value }
                : { [outer!]: { [inner]: value } };
          const outcomes = await onEach(t, (c) => c.getOrSet('opt', () => 1, options as never));
          const want = documented(value);
          if (
            option.startsWith('timeout') &&
            'ms' in want &&
            want.ms !== undefined &&
            want.ms < LONG
          ) {
            // A short timeout may fire before a backend answers: time decides, not the value.
            for (const o of outcomes) {
              expect([
                JSON.stringify({ ok: true, value: 1 }),
                '{"ok":false,"code":"TIMEOUT"}',
              ]).toContain(JSON.stringify(o));
            }
          } else {
            const o = same(outcomes, `${option} ${String(value)}`);
            if (!o.ok) expect(['INVALID_TTL', 'INVALID_ARGUMENT']).toContain(o.code);
          }
          await Promise.all(t.all.map((c) => c.delete('opt')));
        },
      ),
      { numRuns: runs(100) },
    );
  });
});
