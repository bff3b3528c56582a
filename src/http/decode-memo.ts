/**
 * Decoded entries kept per middleware, so a hot entry is parsed once rather than on every
 * hit. The cache stays the authority: a memoised entry is reused only when the bytes the
 * cache just returned are identical to the bytes it was decoded from, so invalidations,
 * overwrites and other instances' writes are seen exactly as without the memo. Bytes shared
 * by an in-process backend (a one-byte string) usually compare by identity alone.
 */
import type { SharedBytes } from '../core/shared-read.js';
import { type Decoded, decode } from './entry.js';

/** Entries larger than this are decoded every time (comparing them would cost more). */
const MAX_ENTRY_BYTES = 16 * 1024;
/** At most this many entries (so at most 4 MiB of bytes) are memoised. */
const MAX_ENTRIES = 256;

/** A small memo of decoded entries, owned by one middleware instance. */
export class DecodeMemo {
  readonly #byKey = new Map<string, { bytes: SharedBytes; decoded: Decoded }>();

  /** Decodes `bytes` read at `key`, reusing the last decode when the bytes are unchanged. */
  decode(key: string, bytes: SharedBytes | undefined): Decoded {
    if (bytes === undefined) return undefined;
    const last = this.#byKey.get(key);
    if (last !== undefined && same(last.bytes, bytes)) return last.decoded;
    const decoded = decode(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
    if (decoded !== undefined && bytes.length <= MAX_ENTRY_BYTES) {
      // Crude but bounded: a full memo starts over rather than tracking recency on the hot path.
      if (last === undefined && this.#byKey.size >= MAX_ENTRIES) this.#byKey.clear();
      this.#byKey.set(key, { bytes, decoded });
    }
    return decoded;
  }

  /** Forgets everything. */
  clear(): void {
    this.#byKey.clear();
  }
}

function same(a: SharedBytes, b: SharedBytes): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return a.length === b.length && a.equals(b);
}
