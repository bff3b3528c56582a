/**
 * Property: any value — every byte value, the envelope's magic, empty and huge, strings with
 * lone surrogates, JSON edge cases (`-0`, large numbers, deep nesting, `__proto__` and
 * `constructor` keys), things JSON cannot hold (undefined, functions, BigInt, cycles) —
 * round-trips exactly on memory, Redis and tiered alike, or is refused with the same
 * `CacheError` code by all three; nothing reaches `Object.prototype`.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { bytesArb, stringValueArb, wellFormed } from './arbitraries.js';
import { onEach, runs, same, timeoutFor, useTrio } from './util.js';

const trio = useTrio();

const hex = (b: Uint8Array | string): string => `bytes:${Buffer.from(b).toString('hex')}`;

/** Fails when anything was added to `Object.prototype` (prototype pollution). */
function assertNoPollution(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTO_KEYS);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}
const PROTO_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();

afterEach(assertNoPollution);

/** A Uint8Array view into the middle of a bigger buffer: only the view's bytes are the value. */
const viewArb = fc
  .tuple(fc.uint8Array({ minLength: 1, maxLength: 32 }), fc.nat(8), fc.nat(8))
  .map(([inner, before, after]) => {
    const whole = new Uint8Array(before + inner.length + after).fill(0xee);
    whole.set(inner, before);
    return whole.subarray(before, before + inner.length);
  });

describe('byte and string values round-trip exactly or are refused alike', () => {
  it(
    'bytes (every byte value, envelope magic, views), with and without tags',
    async () => {
      const t = trio();
      await t.clear();
      await fc.assert(
        fc.asyncProperty(fc.oneof(bytesArb, viewArb), fc.boolean(), async (value, tagged) => {
          const options = tagged ? { tags: ['t'] } : undefined;
          const set = same(await onEach(t, (c) => c.set('k', value, undefined, options)), 'set');
          expect(set.ok).toBe(true);
          expect(same(await onEach(t, (c) => c.get('k')), 'get')).toEqual({
            ok: true,
            value: hex(value),
          });
          same(await onEach(t, (c) => c.mset({ a: value, b: 'x' })), 'mset');
          expect(same(await onEach(t, (c) => c.mget(['a', 'k', 'b'])), 'mget')).toEqual({
            ok: true,
            value: [hex(value), hex(value), hex('x')],
          });
          // The caller's array is copied: changing it later changes nothing stored.
          if (value.length > 0) {
            value[0] = (value[0]! + 1) % 256;
            expect(same(await onEach(t, (c) => c.get('a')), 'copied').ok).toBe(true);
            value[0] = (value[0]! + 255) % 256;
          }
          expect(same(await onEach(t, (c) => c.get('a')), 'a')).toEqual({
            ok: true,
            value: hex(value),
          });
        }),
        { numRuns: runs(100) },
      );
    },
    timeoutFor(60_000),
  );

  it(
    'strings: well-formed ones as their UTF-8, lone surrogates refused (INVALID_ARGUMENT)',
    async () => {
      const t = trio();
      await t.clear();
      await fc.assert(
        fc.asyncProperty(stringValueArb, async (value) => {
          const set = same(await onEach(t, (c) => c.set('s', value)), 'set');
          if (wellFormed(value)) {
            expect(set.ok).toBe(true);
            const got = await t.redis.get('s');
            expect(got?.toString('utf8')).toBe(value);
            expect(same(await onEach(t, (c) => c.get('s')), 'get')).toEqual({
              ok: true,
              value: hex(value),
            });
          } else {
            expect(set).toEqual({ ok: false, code: 'INVALID_ARGUMENT' });
            expect(same(await onEach(t, (c) => c.mset({ s2: value })), 'mset')).toEqual(set);
          }
        }),
        { numRuns: runs(100) },
      );
    },
    timeoutFor(60_000),
  );

  // Regression: a string with a lone surrogate was stored as U+FFFD and read back changed.
  it('a lone surrogate in a string value is refused, not stored as U+FFFD', async () => {
    const t = trio();
    for (const value of ['\ud800', 'a\udc00b', '\udbff']) {
      expect(same(await onEach(t, (c) => c.set('s', value)), value)).toEqual({
        ok: false,
        code: 'INVALID_ARGUMENT',
      });
    }
  });

  it('an empty value and a 4 MB value round-trip on every backend', async () => {
    const t = trio();
    const big = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    for (const value of [Buffer.alloc(0), big]) {
      same(await onEach(t, (c) => c.set('big', value)), 'set');
      const got = await Promise.all(t.all.map((c) => c.get('big')));
      for (const g of got) expect(g?.equals(value)).toBe(true);
    }
  });

  it('values that are not bytes or strings are INVALID_ARGUMENT', async () => {
    const t = trio();
    for (const value of [
      new Uint16Array([1, 2]),
      new DataView(new ArrayBuffer(2)),
      new ArrayBuffer(2),
      123,
      null,
      undefined,
      { a: 1 },
      [1, 2],
    ]) {
      expect(same(await onEach(t, (c) => c.set('x', value as never)), String(value))).toEqual({
        ok: false,
        code: 'INVALID_ARGUMENT',
      });
    }
  });
});

/** What JSON reads back for `value` (`-0` becomes `0`, as JSON has no negative zero). */
function viaJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

/** A JSON value with the awkward keys and numbers mixed in. */
const jsonArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(
    -0,
    [-0],
    1e308,
    -1e308,
    5e-324,
    2 ** 53 + 2,
    Number.MAX_SAFE_INTEGER,
    null,
    '',
    '\ud800',
    { '': 1 },
    JSON.parse('{"__proto__":{"polluted":1}}'),
    JSON.parse('{"constructor":{"prototype":{"polluted":1}}}'),
    JSON.parse('{"a":{"__proto__":{"polluted":1}},"__proto__":[1]}'),
    { toString: 'x', valueOf: 1, hasOwnProperty: null },
  ),
  fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'prototype', 'a'), fc.jsonValue(), {
    maxKeys: 3,
  }),
);

/** Same JSON text: what exact means for a value that went through JSON. */
const text = (v: unknown): string => JSON.stringify(v);

describe('JSON values round-trip exactly or are refused alike, with no prototype pollution', () => {
  it(
    'setJSON / getJSON / getOrSet of random JSON values',
    async () => {
      const t = trio();
      await t.clear();
      let n = 0;
      await fc.assert(
        fc.asyncProperty(jsonArb, async (value) => {
          const key = `j${n++}`;
          const expected = viaJson(value);
          expect(same(await onEach(t, (c) => c.setJSON(key, value)), 'setJSON').ok).toBe(true);
          const read = await Promise.all(t.all.map((c) => c.getJSON(key)));
          for (const r of read) {
            expect(text(r)).toBe(text(expected));
            if (r !== null && typeof r === 'object' && !Array.isArray(r)) {
              // `__proto__` read back as an own property, never as the prototype.
              expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
            }
          }
          // getOrSet: the miss and the hit give the same JSON form.
          for (const c of t.all) {
            const miss = await c.getOrSet(`g${key}`, () => value);
            const hit = await c.getOrSet(`g${key}`, () => 'other');
            expect(text(miss)).toBe(text(expected));
            expect(text(hit)).toBe(text(expected));
          }
          assertNoPollution();
        }),
        { numRuns: runs(100) },
      );
    },
    timeoutFor(60_000),
  );

  it('-0 reads back as 0 on every backend (JSON has no negative zero)', async () => {
    const t = trio();
    for (const c of t.all) {
      await c.setJSON('z', -0);
      expect(Object.is(await c.getJSON('z'), 0)).toBe(true);
    }
  });

  it('deep nesting: 1,000 levels round-trip; 100,000 levels are SERIALIZATION, not a crash', async () => {
    const t = trio();
    const nest = (depth: number): unknown => {
      let v: unknown = 1;
      for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { d: v };
      return v;
    };
    const ok = nest(1_000);
    same(await onEach(t, (c) => c.setJSON('deep', ok)), 'deep');
    for (const c of t.all) expect(text(await c.getJSON('deep'))).toBe(text(ok));
    const deep = nest(100_000);
    const outcomes = await onEach(t, (c) => c.setJSON('deeper', deep));
    expect(same(outcomes, 'deeper')).toEqual({ ok: false, code: 'SERIALIZATION' });
    const viaGetOrSet = await onEach(t, (c) => c.getOrSet('deeper2', () => deep));
    expect(same(viaGetOrSet, 'getOrSet deeper')).toEqual({ ok: false, code: 'SERIALIZATION' });
  });

  it('what JSON cannot hold is SERIALIZATION everywhere, through setJSON and getOrSet', async () => {
    const t = trio();
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    const bad: unknown[] = [
      undefined,
      () => 1,
      10n,
      { n: 10n },
      cycle,
      [cycle],
      Number.NaN,
      Number.POSITIVE_INFINITY,
      [undefined],
      Symbol('s'),
      new Map(),
    ];
    for (const value of bad) {
      const what = String(typeof value);
      expect(same(await onEach(t, (c) => c.setJSON('bad', value)), what)).toEqual({
        ok: false,
        code: 'SERIALIZATION',
      });
      const g = same(await onEach(t, (c) => c.getOrSet('badg', () => value)), `getOrSet ${what}`);
      // getOrSet returns a factory's undefined without storing it; everything else is refused.
      if (value === undefined) expect(g).toEqual({ ok: true, value: undefined });
      else expect(g).toEqual({ ok: false, code: 'SERIALIZATION' });
      expect(same(await onEach(t, (c) => c.exists('badg')), 'stored?')).toEqual({
        ok: true,
        value: false,
      });
    }
    // null is JSON.
    same(await onEach(t, (c) => c.setJSON('null', null)), 'null');
    for (const c of t.all) expect(await c.getJSON('null')).toBeNull();
  });
});
