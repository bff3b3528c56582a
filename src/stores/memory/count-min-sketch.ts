/**
 * A count-min sketch of 4-bit counters, behind a doorkeeper, that estimates how often a
 * key was seen recently.
 *
 * W-TinyLFU only needs to compare two keys' popularity, and popularity above ~15 sightings
 * per sample period tells it nothing new, so four bits per counter suffice: eight counters
 * share one `Uint32Array` word, 16 counters (8 bytes) per expected entry. The table is cut
 * into 64-byte blocks (16 words); a key's four counters (one per row) all sit in the block
 * its hash picks, so an update touches one cache line rather than four. The estimate is
 * the minimum of the four, plus one when the doorkeeper has seen the key.
 *
 * Aging: after `10 × capacity` sightings every counter is halved in one pass (a shift and
 * mask per word) and the doorkeeper is cleared, so yesterday's favourites fade and the
 * sketch tracks recent frequency. The pass is O(table), once per 10 × capacity sightings.
 */
import { Doorkeeper } from './doorkeeper.js';

const RESET_MASK = 0x77777777;
/** The largest table we allocate: 2^22 words = 16 MiB, enough for ~2 M entries. */
const MAX_WORDS = 1 << 22;
const MIN_WORDS = 32;

/**
 * A well-mixed 32-bit hash of a string (FNV-1a over UTF-16 code units, then a murmur3
 * finalizer). `seed` salts it per cache so crafted keys cannot be made to collide.
 */
export function hashKey(key: string, seed: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < key.length; i++) {
    h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  // An int32 (not uint32) so it stays a small integer (Smi) when stored on an entry.
  return h ^ (h >>> 16);
}

/** The frequency sketch; see the file comment for its layout. */
export class CountMinSketch {
  #table = new Uint32Array(0);
  /** Blocks are 16 words (one 64-byte cache line); this masks a hash to a block number. */
  #blockMask = 0;
  #sampleSize = 0;
  #additions = 0;
  #doorkeeper = new Doorkeeper(1);
  /** The entry count the table is sized for. */
  capacity = 0;
  /**
   * Aging passes so far. Counts kept outside the sketch (held entries' own reads, see
   * tinylfu.ts) are halved when they see this move.
   */
  epoch = 0;

  constructor(expectedEntries: number) {
    this.ensureCapacity(expectedEntries);
  }

  /**
   * Grows the table to suit `expectedEntries` (never shrinks). Growing forgets the counts,
   * which is acceptable because it happens O(log n) times while a cache fills.
   */
  ensureCapacity(expectedEntries: number): void {
    const wanted = Math.min(MAX_WORDS, Math.max(MIN_WORDS, ceilPow2(expectedEntries * 2)));
    if (wanted <= this.#table.length) return;
    this.#table = new Uint32Array(wanted);
    this.#blockMask = (wanted >>> 4) - 1;
    this.capacity = wanted >>> 1;
    this.#sampleSize = 10 * this.capacity;
    this.#additions = 0;
    // As many bits as the sketch has counters × 2: ~6 bits per key seen in a sample period.
    this.#doorkeeper = new Doorkeeper(wanted);
  }

  /** Counts one sighting of the key with hash `h`. */
  increment(h: number): void {
    // A first sighting only marks the doorkeeper.
    if (!this.#doorkeeper.put(h)) return;
    if (++this.#additions >= this.#sampleSize) this.#age();
    this.#addToRows(h, 1);
  }

  /**
   * Counts one sighting kept elsewhere (a held entry's hit, counted on the entry): it only
   * advances the sample, so the sketch ages at the same pace whoever keeps the count.
   */
  tick(): void {
    if (++this.#additions >= this.#sampleSize) this.#age();
  }

  /**
   * Adds `n` sightings of the key with hash `h` at once (a held entry leaving hands its own
   * count back, so the key's history survives it). Does not advance the sample: the
   * sightings were ticked when they happened.
   */
  add(h: number, n: number): void {
    this.#doorkeeper.put(h);
    if (n > 0) this.#addToRows(h, n);
  }

  /** Adds `n` to each of the key's four counters, saturating at 15. */
  #addToRows(h: number, n: number): void {
    const table = this.#table;
    const block = (h & this.#blockMask) << 4;
    const h2 = rehash(h);
    for (let i = 0; i < 4; i++) {
      // Row i owns words i*4 … i*4+3 of the block; 2 bits pick the word, 3 the nibble.
      const bits = h2 >>> (i << 3);
      const index = block + (i << 2) + (bits & 3);
      const shift = ((bits >>> 2) & 7) << 2;
      const word = table[index]!;
      const count = Math.min(15, ((word >>> shift) & 15) + n);
      table[index] = (word & ~(15 << shift)) | (count << shift);
    }
  }

  /** Bytes held by the table and the doorkeeper. */
  get bytes(): number {
    return this.#table.byteLength + this.#doorkeeper.bytes;
  }

  /** The estimated recent count of the key with hash `h`, 0–16. */
  frequency(h: number): number {
    const table = this.#table;
    const block = (h & this.#blockMask) << 4;
    const h2 = rehash(h);
    let min = 15;
    for (let i = 0; i < 4; i++) {
      const bits = h2 >>> (i << 3);
      const count = (table[block + (i << 2) + (bits & 3)]! >>> (((bits >>> 2) & 7) << 2)) & 15;
      if (count < min) min = count;
    }
    return this.#doorkeeper.has(h) ? min + 1 : min;
  }

  /** Zeroes every counter. */
  clear(): void {
    this.#table.fill(0);
    this.#doorkeeper.clear();
    this.#additions = 0;
  }

  /** Halves every counter (the "reset" of TinyLFU). */
  #age(): void {
    const table = this.#table;
    for (let i = 0; i < table.length; i++) table[i] = (table[i]! >>> 1) & RESET_MASK;
    this.#doorkeeper.clear();
    this.#additions = 0;
    this.epoch++;
  }
}

/** A second hash, independent of the block choice; each byte places one row's counter. */
function rehash(h: number): number {
  let x = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  x = Math.imul(x ^ (x >>> 12), 0x297a2d39);
  return x ^ (x >>> 15);
}

function ceilPow2(n: number): number {
  if (!(n > 1)) return 1;
  return 2 ** Math.ceil(Math.log2(n));
}
