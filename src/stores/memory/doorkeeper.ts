/**
 * The doorkeeper: a small Bloom filter in front of the frequency sketch (TinyLFU §3.4.2).
 *
 * Most keys in a web workload are read once and never again. Letting each of them bump
 * four sketch counters fills the counters with noise, and a large enough scan of one-off
 * keys then makes strangers look as popular as the keys that earn the hits. The
 * doorkeeper takes a key's first sighting instead (two bits); only a key seen again since
 * the last aging pass reaches the sketch. It is cleared whenever the sketch ages.
 */
export class Doorkeeper {
  #bits: Uint32Array;
  #mask: number;

  /** `words` must be a power of two; the filter holds `32 × words` bits. */
  constructor(words: number) {
    this.#bits = new Uint32Array(words);
    this.#mask = words * 32 - 1;
  }

  /** Records the key with hash `h`; true when it was (probably) already recorded. */
  put(h: number): boolean {
    const bits = this.#bits;
    const a = Math.imul(h, 0x9e3779b1) & this.#mask;
    const b = Math.imul(h ^ (h >>> 13), 0x85ebca6b) & this.#mask;
    const wordA = bits[a >>> 5]!;
    const wordB = bits[b >>> 5]!;
    const maskA = 1 << (a & 31);
    const maskB = 1 << (b & 31);
    if ((wordA & maskA) !== 0 && (wordB & maskB) !== 0) return true;
    bits[a >>> 5] = wordA | maskA;
    bits[b >>> 5] = bits[b >>> 5]! | maskB;
    return false;
  }

  /** True when the key with hash `h` was (probably) recorded since the last clear. */
  has(h: number): boolean {
    const a = Math.imul(h, 0x9e3779b1) & this.#mask;
    const b = Math.imul(h ^ (h >>> 13), 0x85ebca6b) & this.#mask;
    return (
      (this.#bits[a >>> 5]! & (1 << (a & 31))) !== 0 &&
      (this.#bits[b >>> 5]! & (1 << (b & 31))) !== 0
    );
  }

  /** Bytes held by the filter. */
  get bytes(): number {
    return this.#bits.byteLength;
  }

  clear(): void {
    this.#bits.fill(0);
  }
}
