import { describe, expect, it } from 'vitest';
import { CountMinSketch, hashKey } from './count-min-sketch.js';

const h = (key: string) => hashKey(key, 12345);

describe('CountMinSketch', () => {
  it('counts sightings of a key, saturating at 16 (15 in the sketch + the doorkeeper)', () => {
    const sketch = new CountMinSketch(1024);
    expect(sketch.frequency(h('a'))).toBe(0);
    sketch.increment(h('a'));
    expect(sketch.frequency(h('a'))).toBe(1); // first sighting: doorkeeper only
    for (let i = 0; i < 5; i++) sketch.increment(h('a'));
    expect(sketch.frequency(h('a'))).toBe(6);
    for (let i = 0; i < 100; i++) sketch.increment(h('a'));
    expect(sketch.frequency(h('a'))).toBe(16);
  });

  it('keeps one-off keys from inflating the estimate of others', () => {
    const sketch = new CountMinSketch(1024);
    for (let i = 0; i < 10; i++) sketch.increment(h('popular'));
    for (let i = 0; i < 1000; i++) sketch.increment(h(`once:${i}`));
    expect(sketch.frequency(h('popular'))).toBe(10);
    const estimates = Array.from({ length: 1000 }, (_, i) => sketch.frequency(h(`once:${i}`)));
    expect(estimates.filter((f) => f > 2).length).toBeLessThan(20);
  });

  it('ages: halves the counts after 10 × capacity sightings reach the sketch', () => {
    const sketch = new CountMinSketch(1024);
    for (let i = 0; i < 20; i++) sketch.increment(h('old-favourite'));
    expect(sketch.frequency(h('old-favourite'))).toBe(16);
    // Keys seen twice get past the doorkeeper and count toward the sample.
    for (let i = 0; i < 10 * sketch.capacity; i++) {
      sketch.increment(h(`k${i}`));
      sketch.increment(h(`k${i}`));
    }
    expect(sketch.frequency(h('old-favourite'))).toBeLessThan(10);
  });

  it("takes a held key's count back at once, and ages with sightings counted elsewhere", () => {
    const sketch = new CountMinSketch(1024);
    sketch.add(h('returning'), 7);
    expect(sketch.frequency(h('returning'))).toBe(8); // 7 in the counters + the doorkeeper
    sketch.add(h('returning'), 100);
    expect(sketch.frequency(h('returning'))).toBe(16);
    expect(sketch.epoch).toBe(0);
    for (let i = 0; i < 10 * sketch.capacity; i++) sketch.tick();
    expect(sketch.epoch).toBe(1);
    expect(sketch.frequency(h('returning'))).toBe(7); // halved; the doorkeeper was cleared
  });

  it('grows when asked and forgets on clear', () => {
    const sketch = new CountMinSketch(10);
    const small = sketch.capacity;
    sketch.ensureCapacity(100_000);
    expect(sketch.capacity).toBeGreaterThanOrEqual(100_000);
    expect(sketch.capacity).toBeGreaterThan(small);
    sketch.increment(h('x'));
    sketch.increment(h('x'));
    sketch.clear();
    expect(sketch.frequency(h('x'))).toBe(0);
  });
});

describe('hashKey', () => {
  it('is deterministic per seed and salted by it', () => {
    expect(hashKey('user:1', 1)).toBe(hashKey('user:1', 1));
    expect(hashKey('user:1', 1)).not.toBe(hashKey('user:1', 2));
    expect(hashKey('user:1', 1)).not.toBe(hashKey('user:2', 1));
    expect(Number.isInteger(hashKey('é😀', 0))).toBe(true);
  });
});
