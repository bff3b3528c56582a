import { describe, expect, it } from 'vitest';
import { GLOB_VECTORS } from '../../test/vectors/glob.js';
import { compileGlob, escapeGlob } from './glob.js';

describe('compileGlob', () => {
  it.each(GLOB_VECTORS)('%j against %j is %s, as Redis answers', (pattern, key, expected) => {
    expect(compileGlob(pattern).test(key)).toBe(expected);
  });

  it('stays linear on patterns that make naive backtracking explode', () => {
    // Naive backtracking needs on the order of 5000^50 steps here, so it would never finish;
    // a linear matcher takes about a millisecond. The bound is far from both, so a loaded
    // machine cannot make it flake.
    const key = 'a'.repeat(5000);
    const start = performance.now();
    expect(compileGlob(`${'*a'.repeat(50)}b`).test(key)).toBe(false);
    expect(performance.now() - start).toBeLessThan(10_000);
  });
});

describe('escapeGlob', () => {
  it.each(['plain', 'a*b', 'x?y', '[set]', 'back\\slash', '*?[]\\', 'é*'])(
    'makes %j match only itself',
    (text) => {
      const glob = compileGlob(escapeGlob(text));
      expect(glob.test(text)).toBe(true);
      expect(glob.test(`${text}x`)).toBe(false);
      if (text.length > 1) expect(glob.test(text.slice(1))).toBe(false);
    },
  );

  it('keeps a prefix from widening the pattern that follows it', () => {
    const glob = compileGlob(`${escapeGlob('tenant[1]*')}:*`);
    expect(glob.test('tenant[1]*:key')).toBe(true);
    expect(glob.test('tenant1x:key')).toBe(false);
  });
});
