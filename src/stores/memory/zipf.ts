/**
 * Seeded random numbers and Zipf-distributed key traces, shared by the eviction tests and
 * `bench/` so both measure hit ratios on the same reproducible workload.
 */

/** A seeded PRNG (a 32-bit SplitMix variant) returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    z ^= z >>> 15;
    return (z >>> 0) / 4294967296;
  };
}

/** What {@link zipfTrace} generates. */
export interface ZipfTraceOptions {
  /** Distinct keys; key `i` has popularity rank `i + 1`. */
  readonly keys: number;
  /** Requests in the trace. */
  readonly requests: number;
  /** The Zipf exponent: P(rank r) ∝ 1 / r^s (0.99 is the classic web-cache skew). */
  readonly s: number;
  /** PRNG seed; the same options always give the same trace. */
  readonly seed: number;
}

/**
 * A trace of key indexes (0 = most popular) drawn from a Zipf distribution, by inverting
 * the exact cumulative distribution with a binary search (O(log keys) per request).
 */
export function zipfTrace(options: ZipfTraceOptions): Uint32Array {
  const { keys, requests, s, seed } = options;
  if (!Number.isSafeInteger(keys) || keys < 1) throw new RangeError('keys must be ≥ 1');
  if (!Number.isSafeInteger(requests) || requests < 0) {
    throw new RangeError('requests must be ≥ 0');
  }
  const cdf = new Float64Array(keys);
  let total = 0;
  for (let r = 0; r < keys; r++) {
    total += 1 / (r + 1) ** s;
    cdf[r] = total;
  }
  const random = seededRandom(seed);
  const trace = new Uint32Array(requests);
  for (let i = 0; i < requests; i++) {
    const u = random() * total;
    let lo = 0;
    let hi = keys - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    trace[i] = lo;
  }
  return trace;
}
