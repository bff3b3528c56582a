import { describe, expect, it } from 'vitest';
import { compileGlob } from '../../core/glob.js';
import { KeyCodec } from './keys.js';
import { keySlot } from './slots.js';

describe('KeyCodec', () => {
  it('stores prefix:key without doubling a trailing ":"', () => {
    expect(new KeyCodec('app').key('k')).toBe('app:k');
    expect(new KeyCodec('app:').key('k')).toBe('app:k');
    expect(new KeyCodec('').key('k')).toBe('k');
  });

  it('keeps patterns inside a prefix full of glob metacharacters', () => {
    const codec = new KeyCodec('t[1]*?\\');
    const match = compileGlob(codec.pattern('*'));
    expect(match.test(codec.key('anything'))).toBe(true);
    expect(match.test('t1x:anything')).toBe(false);
    expect(match.test('t[1]*?\\Xanything')).toBe(false);
  });

  it('strips the prefix from found keys, and hides bookkeeping only without a prefix', () => {
    expect(new KeyCodec('app').strip('app:user:1')).toBe('user:1');
    expect(new KeyCodec('').strip('user:1')).toBe('user:1');
    expect(new KeyCodec('').strip('__codeai:{#}:tag:x')).toBeUndefined();
  });

  it('keeps bookkeeping out of the data namespace, tag keys of one cache in one slot', () => {
    for (const prefix of ['app', '', 'a}b', '{x}']) {
      const codec = new KeyCodec(prefix);
      const data = compileGlob(codec.pattern('*'));
      const internal = [codec.tag('t'), codec.clockKey, codec.baseKey];
      if (prefix !== '') for (const key of internal) expect(data.test(key), key).toBe(false);
      const slots = new Set([...internal, codec.tag('other'), codec.tag('{weird}')].map(keySlot));
      expect(slots.size, prefix).toBe(1);
      expect(compileGlob(codec.tagPattern).test(codec.tag('any:tag*'))).toBe(true);
      expect(compileGlob(codec.tagPattern).test(new KeyCodec(`${prefix}2`).tag('t'))).toBe(false);
    }
  });
});
