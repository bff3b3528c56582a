import { describe, expect, it } from 'vitest';
import { seededRandom, zipfTrace } from './zipf.js';

describe('zipfTrace', () => {
  it('is reproducible from its seed', () => {
    const a = zipfTrace({ keys: 1000, requests: 5000, s: 0.99, seed: 1 });
    expect(zipfTrace({ keys: 1000, requests: 5000, s: 0.99, seed: 1 })).toEqual(a);
    expect(zipfTrace({ keys: 1000, requests: 5000, s: 0.99, seed: 2 })).not.toEqual(a);
  });

  it('draws key indexes in range with Zipf popularity', () => {
    const keys = 1000;
    const trace = zipfTrace({ keys, requests: 200_000, s: 0.99, seed: 3 });
    const counts = new Uint32Array(keys);
    for (const k of trace) counts[k]!++;
    expect(trace.every((k) => k < keys)).toBe(true);
    // P(rank 1) / P(rank 10) = 10^0.99 ≈ 9.77
    expect(counts[0]! / counts[9]!).toBeGreaterThan(8.3);
    expect(counts[0]! / counts[9]!).toBeLessThan(11.3);
    expect(counts[0]!).toBeGreaterThan(counts[1]!);
  });
});

describe('seededRandom', () => {
  it('yields reproducible floats in [0, 1)', () => {
    const a = seededRandom(9);
    const b = seededRandom(9);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
  });
});
