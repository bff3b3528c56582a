/**
 * Model-based property: random sequences of set / get / delete / exists / mget / mset / incr /
 * decr / deletePattern / keys / setJSON / getJSON / getOrSet / tags / invalidateTags / clear
 * run against MemoryCache, RedisCache and TieredCache side by side. After every step the
 * three must have answered alike, the answer must be what a plain `Map` model predicts, and
 * the whole key space must read back as the model holds it. fast-check shrinks a failing
 * sequence to a short one.
 *
 * TTLs are either none or an hour: long enough that nothing expires during a run, so the
 * outcome never depends on time.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Cache } from '../../src/index.js';
import { redisMatchText } from './reference-glob.js';
import { type Outcome, onEach, runs, same, timeoutFor, useTrio } from './util.js';

const trio = useTrio();

/** The key space: small, with metacharacters, so patterns and collisions hit often. */
const KEYS = ['a', 'b', 'a:b', '*', '[x]', 'é', 'n'] as const;
const TAGS = ['t1', 't2', 't:*'] as const;
const PATTERNS = ['*', 'a*', '?', '[ab]', '\\*', '[x]', '\\[x\\]', 'a:*', '*b', '[^a]*', 'é', ''];

const keyArb = fc.constantFrom(...KEYS);
const tagsArb = fc.option(fc.subarray([...TAGS], { minLength: 1 }), { nil: undefined });
const ttlArb = fc.constantFrom(undefined, '1h', 3_600_000);
const valueArb = fc.oneof(
  fc.constantFrom(
    '1',
    '-3',
    '0',
    '01',
    'x',
    '',
    '{"a":1}',
    '"s"',
    '9223372036854775807',
    '-9223372036854775808',
    '9007199254740993',
    '[1,',
  ),
  fc.string({ maxLength: 4 }),
);
const jsonArb = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom('x', null, true, { a: 1 }, [1, 'b']),
);

type Op =
  | { op: 'set'; key: string; value: string; tags?: string[]; ttl?: string | number }
  | { op: 'get' | 'delete' | 'exists' | 'getJSON'; key: string }
  | { op: 'mget'; keys: string[] }
  | { op: 'mset'; entries: [string, string][]; ttl?: string | number }
  | { op: 'incr' | 'decr'; key: string; by: number }
  | { op: 'deletePattern' | 'keys'; pattern: string }
  | { op: 'setJSON' | 'getOrSet'; key: string; value: unknown; tags?: string[] }
  | { op: 'invalidateTags'; tags: string[] }
  | { op: 'clear' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record(
      { op: fc.constant('set' as const), key: keyArb, value: valueArb, tags: tagsArb, ttl: ttlArb },
      { requiredKeys: ['op', 'key', 'value'] },
    ),
    weight: 5,
  },
  {
    arbitrary: fc.record({
      op: fc.constantFrom('get' as const, 'delete' as const, 'exists' as const, 'getJSON' as const),
      key: keyArb,
    }),
    weight: 4,
  },
  fc.record({ op: fc.constant('mget' as const), keys: fc.array(keyArb, { maxLength: 4 }) }),
  fc.record(
    {
      op: fc.constant('mset' as const),
      entries: fc.array(fc.tuple(keyArb, valueArb), { maxLength: 3 }),
      ttl: ttlArb,
    },
    { requiredKeys: ['op', 'entries'] },
  ),
  {
    arbitrary: fc.record({
      op: fc.constantFrom('incr' as const, 'decr' as const),
      key: keyArb,
      by: fc.integer({ min: -3, max: 3 }),
    }),
    weight: 2,
  },
  fc.record({
    op: fc.constantFrom('deletePattern' as const, 'keys' as const),
    pattern: fc.constantFrom(...PATTERNS),
  }),
  {
    arbitrary: fc.record(
      {
        op: fc.constantFrom('setJSON' as const, 'getOrSet' as const),
        key: keyArb,
        value: jsonArb,
        tags: tagsArb,
      },
      { requiredKeys: ['op', 'key', 'value'] },
    ),
    weight: 3,
  },
  fc.record({
    op: fc.constant('invalidateTags' as const),
    tags: fc.subarray([...TAGS], { minLength: 1 }),
  }),
  { arbitrary: fc.constant({ op: 'clear' as const }), weight: 1 },
);

/** What the model holds for a key: its bytes and tags (`unknown` once a backend decided them). */
interface Entry {
  bytes: Buffer;
  tags: ReadonlySet<string> | 'unknown';
}
type Model = Map<string, Entry>;

const hex = (b: Buffer | string) => `bytes:${Buffer.from(b).toString('hex')}`;
const ok = (value: unknown): Outcome => ({ ok: true, value });
const INT64 = /^-?(0|[1-9]\d*)$/;

/** Runs one op on a cache. */
function call(cache: Cache, o: Op): Promise<unknown> {
  switch (o.op) {
    case 'set':
      return cache.set(o.key, o.value, o.ttl as never, o.tags ? { tags: o.tags } : undefined);
    case 'get':
      return cache.get(o.key);
    case 'delete':
      return cache.delete(o.key);
    case 'exists':
      return cache.exists(o.key);
    case 'getJSON':
      return cache.getJSON(o.key);
    case 'mget':
      return cache.mget(o.keys);
    case 'mset':
      return cache.mset(new Map(o.entries), o.ttl as never);
    case 'incr':
      return cache.incr(o.key, o.by);
    case 'decr':
      return cache.decr(o.key, o.by);
    case 'deletePattern':
      return cache.deletePattern(o.pattern);
    case 'keys':
      return cache.keys(o.pattern).then((k) => k.sort());
    case 'setJSON':
      return cache.setJSON(o.key, o.value, undefined, o.tags ? { tags: o.tags } : undefined);
    case 'getOrSet':
      return cache.getOrSet(o.key, () => o.value, o.tags ? { tags: o.tags } : {});
    case 'invalidateTags':
      return cache.invalidateTags(o.tags);
    case 'clear':
      return cache.clear();
  }
}

/**
 * Applies `o` to the model and returns the outcome it predicts, or `undefined` where the
 * contract leaves the answer to the backend (the three must still agree, and the model then
 * takes what they hold).
 */
function predict(model: Model, o: Op): Outcome | undefined {
  const tagsOf = (tags?: string[]) => new Set(tags ?? []);
  switch (o.op) {
    case 'set':
      model.set(o.key, { bytes: Buffer.from(o.value), tags: tagsOf(o.tags) });
      return ok(undefined);
    case 'get': {
      const e = model.get(o.key);
      return ok(e ? hex(e.bytes) : undefined);
    }
    case 'delete':
      return ok(model.delete(o.key));
    case 'exists':
      return ok(model.has(o.key));
    case 'getJSON': {
      const e = model.get(o.key);
      if (!e) return ok(undefined);
      try {
        return ok(JSON.parse(e.bytes.toString('utf8')));
      } catch {
        return { ok: false, code: 'SERIALIZATION' };
      }
    }
    case 'mget':
      return ok(o.keys.map((k) => (model.has(k) ? hex(model.get(k)!.bytes) : undefined)));
    case 'mset':
      for (const [k, v] of new Map(o.entries))
        model.set(k, { bytes: Buffer.from(v), tags: new Set() });
      return ok(undefined);
    case 'incr':
    case 'decr': {
      const e = model.get(o.key);
      const text = e ? e.bytes.toString('utf8') : '0';
      // A tagged entry carries an envelope: not a plain counter (README, "incr / decr").
      if (e?.tags === 'unknown') return undefined;
      if (e !== undefined && (e.tags as ReadonlySet<string>).size > 0) {
        return { ok: false, code: 'NOT_INTEGER' };
      }
      if (!INT64.test(text) || BigInt(text) > 2n ** 63n - 1n || BigInt(text) < -(2n ** 63n)) {
        return { ok: false, code: 'NOT_INTEGER' };
      }
      const next = BigInt(text) + BigInt(o.op === 'incr' ? o.by : -o.by);
      if (next > 2n ** 63n - 1n || next < -(2n ** 63n)) return { ok: false, code: 'OVERFLOW' };
      model.set(o.key, { bytes: Buffer.from(String(next)), tags: e?.tags ?? new Set() });
      return ok(Number(next));
    }
    case 'deletePattern': {
      let n = 0;
      for (const k of [...model.keys()]) {
        if (redisMatchText(o.pattern, k)) {
          model.delete(k);
          n++;
        }
      }
      return ok(n);
    }
    case 'keys':
      return ok([...model.keys()].filter((k) => redisMatchText(o.pattern, k)).sort());
    case 'setJSON':
      model.set(o.key, { bytes: Buffer.from(JSON.stringify(o.value)), tags: tagsOf(o.tags) });
      return ok(undefined);
    case 'getOrSet': {
      const e = model.get(o.key);
      if (!e) {
        model.set(o.key, { bytes: Buffer.from(JSON.stringify(o.value)), tags: tagsOf(o.tags) });
        return ok(o.value);
      }
      try {
        return ok(JSON.parse(e.bytes.toString('utf8')));
      } catch {
        return undefined;
      }
    }
    case 'invalidateTags': {
      for (const [k, e] of [...model]) {
        if (e.tags !== 'unknown' && o.tags.some((t) => (e.tags as Set<string>).has(t))) {
          model.delete(k);
        }
      }
      return ok({ queued: false });
    }
    case 'clear':
      model.clear();
      return ok(undefined);
  }
}

/** Keys whose state the model cannot predict after `o`: it takes them from the backends. */
function undecided(model: Model, o: Op, predicted: Outcome | undefined): string[] {
  if (predicted === undefined && 'key' in o) return [o.key];
  if (o.op === 'invalidateTags') {
    return [...model].filter(([, e]) => e.tags === 'unknown').map(([k]) => k);
  }
  return [];
}

describe('model-based: memory, Redis and tiered agree with each other and with a Map', () => {
  it(
    'random operation sequences',
    async () => {
      const t = trio();
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 30 }), async (ops) => {
          await t.clear();
          const model: Model = new Map();
          for (const [i, o] of ops.entries()) {
            const what = `step ${i} ${JSON.stringify(o)}`;
            const got = same(await onEach(t, (c) => call(c, o)), what);
            const predicted = predict(model, o);
            if (predicted !== undefined) expect(got, what).toEqual(predicted);
            for (const k of undecided(model, o, predicted)) {
              const bytes = await t.memory.get(k);
              if (bytes === undefined) model.delete(k);
              else model.set(k, { bytes, tags: 'unknown' });
            }
            // The whole key space reads back as the model holds it, on every backend.
            const state = same(await onEach(t, (c) => c.mget(KEYS)), `${what}: state`);
            expect(state, `${what}: state`).toEqual(
              ok(KEYS.map((k) => (model.has(k) ? hex(model.get(k)!.bytes) : undefined))),
            );
          }
        }),
        { numRuns: runs(60) },
      );
    },
    timeoutFor(90_000),
  );
});
