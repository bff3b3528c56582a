/**
 * Property: any key — empty, huge, astral, lone surrogates, control characters, NUL, CR/LF,
 * glob metacharacters, look-alikes of the prefix and of the bookkeeping keys — either works
 * and round-trips exactly on memory, Redis and tiered alike, or is refused with the same
 * `CacheError` code by all three; it never touches another key and never reaches a
 * bookkeeping key.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Cache, escapeGlob } from '../../src/index.js';
import { keyArb } from './arbitraries.js';
import { onEach, rawKeys, runs, same, type Trio, timeoutFor, useTrio } from './util.js';

const trio = useTrio();

const SENTINEL = 'sentinel';
const TAGGED = 'tagged';

/** Writes the two keys every case must leave alone. */
async function seed(t: Trio): Promise<void> {
  for (const c of t.all) {
    await c.set(SENTINEL, 'S');
    await c.set(TAGGED, 'T', undefined, { tags: ['keep'] });
  }
}

async function untouched(t: Trio, what: string): Promise<void> {
  same(await onEach(t, (c) => c.get(SENTINEL)), `${what}: sentinel`);
  expect((await t.memory.get(SENTINEL))?.toString()).toBe('S');
  expect((await t.memory.get(TAGGED))?.toString()).toBe('T');
  same(await onEach(t, (c) => c.get(TAGGED)), `${what}: tagged`);
}

/** Every Redis key the caches hold: their data keys as written, or bookkeeping (0xFF after `prefix:`). */
async function onlyOwnKeys(t: Trio, expected: readonly string[]): Promise<void> {
  for (const [cache, sep] of [
    [t.redis, `${t.namespace}r:`],
    [t.tiered, `${t.namespace}t:`],
  ] as const) {
    const seen = (await rawKeys(t.raw, t.namespace)).filter((k) =>
      k.subarray(0, Buffer.byteLength(sep)).equals(Buffer.from(sep)),
    );
    const data = seen
      .filter((k) => k[Buffer.byteLength(sep)] !== 0xff)
      .map((k) => k.toString('utf8', Buffer.byteLength(sep)))
      .sort();
    expect(data.map(short), cache.name).toEqual([...expected].sort().map(short));
  }
}

/** A key short enough for a failure message. */
function short(key: string): string {
  return key.length > 60 ? `${key.slice(0, 20)}…(${key.length} chars)` : key;
}

async function check(t: Trio, key: string): Promise<void> {
  const value = `v:${key.length}`;
  const what = `key ${JSON.stringify(short(key))}`;
  const set = same(await onEach(t, (c) => c.set(key, value)), `${what} set`);
  if (!set.ok) {
    expect(set.code, what).toBe('INVALID_ARGUMENT');
    // Every other single-key call refuses it the same way, before any I/O.
    const calls: ((c: Cache) => unknown)[] = [
      (c) => c.get(key),
      (c) => c.exists(key),
      (c) => c.delete(key),
      (c) => c.mget([SENTINEL, key]),
      (c) => c.mset({ [key]: 'x' }),
      (c) => c.incr(key),
      (c) => c.setJSON(key, 1),
      (c) => c.getJSON(key),
      (c) => c.getOrSet(key, () => 1),
      (c) => c.set('other', 'x', undefined, { tags: [key] }),
      (c) => c.invalidateTags([key]),
    ];
    for (const call of calls) {
      const o = same(await onEach(t, call), `${what} ${call}`);
      expect(o, `${what} ${call}`).toEqual({ ok: false, code: 'INVALID_ARGUMENT' });
    }
    await untouched(t, what);
    await onlyOwnKeys(t, [SENTINEL, TAGGED]);
    return;
  }
  const bytes = `bytes:${Buffer.from(value).toString('hex')}`;
  expect(same(await onEach(t, (c) => c.get(key)), `${what} get`)).toEqual({
    ok: true,
    value: bytes,
  });
  expect(same(await onEach(t, (c) => c.exists(key)), `${what} exists`)).toEqual({
    ok: true,
    value: true,
  });
  expect(same(await onEach(t, (c) => c.mget([key, SENTINEL])), `${what} mget`)).toEqual({
    ok: true,
    value: [bytes, `bytes:${Buffer.from('S').toString('hex')}`],
  });
  if (key !== SENTINEL && key !== TAGGED) {
    // The key read back by a literal pattern is the key itself, nothing else.
    expect(same(await onEach(t, (c) => c.keys(escapeGlob(key))), `${what} keys`)).toEqual({
      ok: true,
      value: [key],
    });
    await onlyOwnKeys(t, [SENTINEL, TAGGED, key]);
  }
  expect(same(await onEach(t, (c) => c.incr(key)), `${what} incr`)).toEqual({
    ok: false,
    code: 'NOT_INTEGER',
  });
  // The key as a tag: invalidating it drops what carries it, and only that.
  same(await onEach(t, (c) => c.set('carrier', 'C', undefined, { tags: [key] })), `${what} tag`);
  same(await onEach(t, (c) => c.invalidateTags([key])), `${what} invalidate`);
  expect(same(await onEach(t, (c) => c.get('carrier')), `${what} carrier`)).toEqual({
    ok: true,
    value: key === 'carrier' ? bytes : undefined,
  });
  if (key !== 'carrier') {
    expect(same(await onEach(t, (c) => c.get(key)), `${what} get after tag`).ok).toBe(true);
  }
  same(await onEach(t, (c) => c.delete('carrier')), `${what} drop carrier`);
  if (key !== SENTINEL && key !== TAGGED) {
    expect(same(await onEach(t, (c) => c.delete(key)), `${what} delete`)).toEqual({
      ok: true,
      value: key !== 'carrier',
    });
    expect(same(await onEach(t, (c) => c.get(key)), `${what} gone`)).toEqual({
      ok: true,
      value: undefined,
    });
    await untouched(t, what);
    await onlyOwnKeys(t, [SENTINEL, TAGGED]);
  }
}

describe('keys: any key works exactly or is refused the same way on every backend', () => {
  it(
    'random keys (empty, unicode, lone surrogates, controls, metacharacters, look-alikes)',
    async () => {
      const t = trio();
      await t.clear();
      await seed(t);
      await fc.assert(
        fc.asyncProperty(keyArb, (key) => check(t, key)),
        { numRuns: runs(150) },
      );
    },
    timeoutFor(60_000),
  );

  it('the empty key is INVALID_ARGUMENT everywhere', async () => {
    const t = trio();
    await t.clear();
    await seed(t);
    await check(t, '');
  });

  // Regression: a tag over 65,535 UTF-8 bytes (here the 1 MB key used as a tag) overflowed
  // the envelope's 16-bit length with a bare RangeError; now it is INVALID_ARGUMENT.
  it('a 1 MB key round-trips on every backend; as a tag it is refused', async () => {
    const t = trio();
    await t.clear();
    await seed(t);
    const key = 'k'.repeat(1024 * 1024);
    await check(t, key);
    expect(
      same(await onEach(t, (c) => c.set('c', 'C', undefined, { tags: [key] })), 'huge tag'),
    ).toEqual({ ok: false, code: 'INVALID_ARGUMENT' });
    const longest = 'é'.repeat(0xffff / 3 - 1);
    same(await onEach(t, (c) => c.set('c', 'C', undefined, { tags: [longest] })), 'long tag');
    same(await onEach(t, (c) => c.invalidateTags([longest])), 'invalidate long tag');
    expect(same(await onEach(t, (c) => c.get('c')), 'after')).toEqual({
      ok: true,
      value: undefined,
    });
  });

  // Regression: a key with a lone surrogate is sent to Redis as UTF-8, where the surrogate
  // becomes U+FFFD, so "\ud800" and "\ufffd" were one key on Redis and two on memory, and
  // `keys()` read it back as another string.
  it('a key with a lone surrogate is refused, so it can never alias "\\ufffd"', async () => {
    const t = trio();
    await t.clear();
    await seed(t);
    await check(t, '\ud800');
    await check(t, '\ufffd');
    await check(t, 'a\udc00');
  });
});
