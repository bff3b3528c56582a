import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ENTRY_OVERHEAD_BYTES, entryWeight, MemoryStore } from './memory-store.js';

describe('what maxMemory counts', () => {
  it('charges UTF-8 key bytes, value bytes and the calibrated per-entry overhead', () => {
    expect(entryWeight('key:1', 10)).toBe(5 + 10 + ENTRY_OVERHEAD_BYTES);
    expect(entryWeight('é', 0)).toBe(2 + ENTRY_OVERHEAD_BYTES);
    // Below what an entry's objects alone take on the heap, small entries looked free.
    expect(ENTRY_OVERHEAD_BYTES).toBeGreaterThanOrEqual(216);
  });

  it('holds small entries to about their bound in real heap (measured, wide margin)', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const settle = (): number => {
      for (let i = 0; i < 4; i++) gc();
      return process.memoryUsage().heapUsed;
    };
    const maxMemory = 16 * 2 ** 20;
    const value = Buffer.alloc(10, 120);
    const before = settle();
    const store = new MemoryStore({ maxMemory });
    // Twice what fits, so entries come and go as they do in a full cache.
    const writes = Math.ceil((2 * maxMemory) / entryWeight('key:0000000', value.length));
    for (let i = 0; i < writes; i++) store.set(`key:${i}`, value, undefined);
    const growth = settle() - before;
    expect(store.size().bytes).toBeLessThanOrEqual(maxMemory);
    // The benchmark measures 0.87–1.06 here; a loose band keeps this test about the bound,
    // not about the allocator of the day.
    expect(growth / maxMemory).toBeLessThan(1.2);
    expect(growth / maxMemory).toBeGreaterThan(0.5);
    expect(store.size().entries).toBeGreaterThan(0);
  });
});
