import { describe, expect, it } from 'vitest';
import { compileGlob } from '../../core/glob.js';
import { KeyCodec, MARK } from './keys.js';
import { keySlot } from './slots.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

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

  it('strips the prefix from found keys and hides bookkeeping, with or without a prefix', () => {
    expect(new KeyCodec('app').strip(bytes('app:user:1'))).toBe('user:1');
    expect(new KeyCodec('').strip(bytes('user:1'))).toBe('user:1');
    for (const prefix of ['app', '']) {
      const codec = new KeyCodec(prefix);
      for (const key of [codec.tag('x'), codec.clockKey, codec.lock('k')]) {
        expect(codec.strip(key)).toBeUndefined();
      }
    }
  });

  // Regression: tag versions, the clock and locks lived under `__codeai:`, outside the
  // prefix, and outlived clear().
  it('puts every bookkeeping key under the prefix, right after it the byte 0xFF', () => {
    for (const prefix of ['app', 'app:', '', 'a}b', '{x}', 'ü', '}']) {
      const codec = new KeyCodec(prefix);
      const sep = bytes(codec.sep);
      for (const key of [codec.tag('t'), codec.clockKey, codec.lock('k')]) {
        expect(key.subarray(0, sep.length).equals(sep)).toBe(true);
        expect(key[sep.length]).toBe(MARK);
        expect(codec.isBookkeeping(key)).toBe(true);
      }
    }
  });

  it('can never take a caller key for bookkeeping: UTF-8 has no 0xFF byte', () => {
    const codec = new KeyCodec('app');
    for (const key of [
      '',
      'ÿ',
      '\uffff',
      '\ud800',
      '\u{10ffff}',
      '__codeai:tag:x',
      '\xff{app:}tag:t',
    ]) {
      const redisKey = bytes(codec.key(key));
      expect(redisKey.includes(MARK), key).toBe(false);
      expect(codec.isBookkeeping(redisKey), key).toBe(false);
    }
  });

  it('keeps the tag keys and clock of one cache in one slot, and different caches apart', () => {
    for (const prefix of ['app', '', 'a}b', '{x}', '}', 'a{b}c{']) {
      const codec = new KeyCodec(prefix);
      const keys = [codec.tag('t'), codec.clockKey, codec.tag('other'), codec.tag('{weird}')];
      expect(new Set(keys.map(keySlot)).size, prefix).toBe(1);
    }
    expect(keySlot(new KeyCodec('app').clockKey)).not.toBe(keySlot(new KeyCodec('other').clockKey));
    const codec = new KeyCodec('app');
    expect(keySlot(codec.lock('a'))).not.toBe(keySlot(codec.lock('b')));
  });

  // Regression (found while moving bookkeeping under the prefix): ioredis's auto-pipelining
  // slots a Buffer key by its UTF-8 decoding (0xFF → U+FFFD) and its pipeline check by its
  // bytes; when the two differ a Cluster rejects the pipeline.
  it('gives every bookkeeping key the same slot as bytes and as decoded text', () => {
    for (const prefix of ['app', '', 'a}b', '{x}', '}', 'ü', 'a{b}c{']) {
      const codec = new KeyCodec(prefix);
      for (const key of [
        codec.tag('t'),
        codec.clockKey,
        codec.lock('k'),
        codec.lock('}'),
        codec.lock('{a}'),
      ]) {
        expect(keySlot(key.toString('utf8')), `${prefix} ${key.toString('latin1')}`).toBe(
          keySlot(key),
        );
      }
    }
  });

  it('refuses a prefix whose "{" is not closed', () => {
    expect(() => new KeyCodec('a{b')).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    expect(() => new KeyCodec('{')).toThrow(/"\{" without a "\}"/);
  });
});
