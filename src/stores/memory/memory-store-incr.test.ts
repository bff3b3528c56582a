import { describe, expect, it } from 'vitest';
import { isCacheError } from '../../core/errors.js';
import { entryWeight, MemoryStore } from './memory-store.js';

const MAX = 2n ** 63n - 1n;
const MIN = -(2n ** 63n);

function store(extra: { maxEntries?: number } = {}) {
  const clock = { t: 0, now: () => clock.t };
  return { s: new MemoryStore({ maxMemory: 1 << 20, clock, ...extra }), clock };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isCacheError(err) ? err.code : 'not a CacheError';
  }
  return undefined;
}

describe('MemoryStore.incrBy (Redis INCRBY semantics)', () => {
  it('treats a missing key as 0 and stores the canonical decimal', () => {
    const { s } = store();
    expect(s.incrBy('n', 5n)).toBe(5n);
    expect(s.incrBy('n', -12n)).toBe(-7n);
    expect(s.get('n')?.toString()).toBe('-7');
    expect(s.incrBy('z', 0n)).toBe(0n);
    expect(s.get('z')?.toString()).toBe('0');
  });

  it('accepts exactly the forms Redis accepts', () => {
    const { s } = store();
    const accepted: [string, bigint][] = [
      ['0', 0n],
      ['7', 7n],
      ['-7', -7n],
      ['1234567890', 1234567890n],
      [MAX.toString(), MAX],
      [MIN.toString(), MIN],
    ];
    for (const [text, value] of accepted) {
      s.set('k', Buffer.from(text), undefined);
      expect(s.incrBy('k', 0n)).toBe(value);
    }
  });

  it('rejects every other form with NOT_INTEGER and leaves the value alone', () => {
    const { s } = store();
    const rejected = [
      '',
      '+1',
      '01',
      '-0',
      '-',
      ' 1',
      '1 ',
      '1.0',
      '1e3',
      '0x10',
      'abc',
      '١',
      '9223372036854775808',
      '-9223372036854775809',
      '00000000000000000001',
    ];
    for (const text of rejected) {
      s.set('k', Buffer.from(text), undefined);
      expect(
        codeOf(() => s.incrBy('k', 1n)),
        JSON.stringify(text),
      ).toBe('NOT_INTEGER');
      expect(s.get('k')?.toString()).toBe(text);
    }
    s.set('bin', Buffer.from([0x31, 0x00]), undefined);
    expect(codeOf(() => s.incrBy('bin', 1n))).toBe('NOT_INTEGER');
  });

  it('rejects a result outside int64 with OVERFLOW at both ends, value unchanged', () => {
    const { s } = store();
    s.set('hi', Buffer.from(MAX.toString()), undefined);
    expect(codeOf(() => s.incrBy('hi', 1n))).toBe('OVERFLOW');
    expect(s.get('hi')?.toString()).toBe(MAX.toString());
    s.set('lo', Buffer.from(MIN.toString()), undefined);
    expect(codeOf(() => s.incrBy('lo', -1n))).toBe('OVERFLOW');
    expect(s.get('lo')?.toString()).toBe(MIN.toString());
    expect(codeOf(() => s.incrBy('fresh', MAX + 1n))).toBe('OVERFLOW');
    expect(s.exists('fresh')).toBe(false);
    expect(s.incrBy('lo', MAX)).toBe(-1n);
  });

  it('keeps an existing TTL', () => {
    const { s, clock } = store();
    s.set('n', Buffer.from('1'), 100);
    clock.t = 60;
    expect(s.incrBy('n', 1n)).toBe(2n);
    clock.t = 100;
    expect(s.get('n')?.toString()).toBe('2');
    clock.t = 101;
    expect(s.get('n')).toBeUndefined();
  });

  it('updates the weight as the number grows', () => {
    const { s } = store();
    s.incrBy('n', 9n);
    expect(s.size().bytes).toBe(entryWeight('n', 1));
    s.incrBy('n', 1n);
    expect(s.size().bytes).toBe(entryWeight('n', 2));
    s.incrBy('n', -20n);
    expect(s.size().bytes).toBe(entryWeight('n', 3));
  });

  it('may evict other entries to make room, never the counter itself', () => {
    for (const eviction of ['tinylfu', 'lru'] as const) {
      const s = new MemoryStore({ maxMemory: 1 << 20, maxEntries: 2, eviction });
      s.set('a', Buffer.from('a'), undefined);
      s.set('b', Buffer.from('b'), undefined);
      for (let i = 0; i < 5; i++) s.get('a');
      expect(s.incrBy('n', 1n)).toBe(1n);
      expect(s.get('n')?.toString()).toBe('1');
      expect(s.size().entries).toBe(2);
    }
  });

  it('rejects a counter whose entry alone would exceed maxMemory', () => {
    const s = new MemoryStore({ maxMemory: entryWeight('n', 1) });
    expect(s.incrBy('n', 9n)).toBe(9n);
    expect(codeOf(() => s.incrBy('n', 1n))).toBe('VALUE_TOO_LARGE');
    expect(s.get('n')?.toString()).toBe('9');
  });
});
