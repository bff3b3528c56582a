import { describe, expect, it } from 'vitest';
import { deepFreeze, ObjectTier } from './object-tier.js';

/** An object tier over a plain map standing in for the byte L1. */
function tier(now = () => 0) {
  const bytes = new Map<string, string>();
  const versions = new Map<string, number>();
  const objects = new ObjectTier(
    {
      peek: (key) => bytes.get(key),
      tagVersions: (tags) => tags.map((t) => versions.get(t) ?? 0),
      now,
    },
    2,
    true,
  );
  return { bytes, objects };
}

describe('ObjectTier', () => {
  it('serves the kept object while the bytes it was parsed from are unchanged', () => {
    const { bytes, objects } = tier();
    bytes.set('k', '{"a":[1]}');
    const kept = objects.remember('k');
    expect(kept?.value).toEqual({ a: [1] });
    expect(objects.read('k')?.value).toBe(kept?.value);
    bytes.set('k', '{"a":[2]}');
    expect(objects.read('k')).toBeUndefined();
    bytes.delete('k');
    expect(objects.read('k')).toBeUndefined();
  });

  it('keeps at most its bound, dropping the oldest', () => {
    const { bytes, objects } = tier();
    for (const k of ['a', 'b', 'c']) {
      bytes.set(k, '1');
      objects.remember(k);
    }
    expect(objects.size).toBe(2);
    expect(objects.read('a')).toBeUndefined();
    expect(objects.read('c')?.value).toBe(1);
  });

  it('keeps nothing for bytes that are not JSON', () => {
    const { bytes, objects } = tier();
    bytes.set('k', 'not json');
    expect(objects.remember('k')).toBeUndefined();
  });

  it('deep-freezes what it keeps', () => {
    const value = { a: { b: [1, { c: 2 }] } };
    deepFreeze(value);
    expect(Object.isFrozen(value.a.b[1])).toBe(true);
    expect(() => {
      (value.a.b as unknown[]).push(3);
    }).toThrow(TypeError);
  });
});
