/**
 * Reads without a private copy, for the library's own hot paths (the HTTP hit).
 *
 * `get` hands every caller a fresh `Buffer`, because a caller may write to it (DESIGN §3).
 * A reader that never writes can instead take an in-process store's bytes as they are held:
 * an immutable one-byte string, one char per byte. An enveloped entry is decoded once per
 * stored value and remembered, so a hot tagged entry costs a pointer comparison and its
 * tag-version lookups rather than a copy and a parse. The same rules as `get` apply: an
 * entry past its logical expiry, or whose tags were invalidated, reads as absent.
 *
 * `readDecoded` goes one step further for a reader that also parses what it reads (the HTTP
 * layer decoding a stored response): the parse is remembered beside the envelope's, for as
 * long as the store keeps returning the same stored string, so a hot entry is decoded once
 * however many times it is served. This is the backend's one declared fast-read capability
 * (`Cache.readDecoded`); a backend without it is read through `getMaybeSync`.
 */
import { Buffer } from 'node:buffer';
import { whileTagsValid } from './entry.js';
import { decodeEnvelope, hasEnvelopeString } from './envelope.js';
import type { TagReader } from './outbox.js';
import type { MaybePromise, Store } from './store.js';

/**
 * Bytes handed out by a shared read: a one-byte string (one char per byte) when the backend
 * keeps them in process, else the private `Buffer` a plain `get` returns. Never write to it.
 */
export type SharedBytes = string | Buffer;

/**
 * Parses what a shared read returns. Must not write to its input, must be pure (the same
 * bytes always give an equal result) and its result must be treated as immutable: one
 * decode is handed to every reader of the same stored value.
 */
export type Decoder<T> = (bytes: SharedBytes) => T;

/** A cache that can read without copying. */
export interface SharedReadable {
  readShared(key: string): SharedBytes | undefined | Promise<SharedBytes | undefined>;
}

/** Envelopes larger than this are decoded on every read (remembering them would cost more). */
const MAX_REMEMBERED_BYTES = 16 * 1024;
/** At most this many decoded envelopes (so at most 4 MiB of held strings) are remembered. */
const MAX_REMEMBERED = 256;

/** A stored payload as a one-byte string, and its logical expiry (0: fresh until the TTL). */
export interface TextEntry {
  readonly payload: string;
  readonly freshUntil: number;
}

interface DecodedEntry {
  /** The stored string this was decoded from; reused only while the store returns it. */
  readonly raw: string;
  readonly freshUntil: number;
  readonly tags: readonly string[];
  readonly versions: readonly number[];
  /** The caller's bytes: a slice of `raw`, which V8 shares rather than copies. */
  readonly payload: string;
  /** The last `readDecoded` parse of `payload`, and the decoder that made it. */
  decoder: Decoder<unknown> | undefined;
  decoded: unknown;
}

const NO_TAGS: readonly string[] = [];
const NO_VERSIONS: readonly number[] = [];

export type PeekingStore = Store & { peek(key: string): string | undefined };

/** True when `store` can hand out its bytes without a copy. */
export function canPeek(store: Store): store is PeekingStore {
  return typeof store.peek === 'function';
}

/** Zero-copy reads over one in-process store. */
export class SharedReader {
  readonly #store: Pick<PeekingStore, 'peek'>;
  readonly #tags: TagReader;
  readonly #now: () => number;
  readonly #remembered = new Map<string, DecodedEntry>();

  /** `tags` answers tag versions (the cache's outbox, which knows pending invalidations). */
  constructor(store: Pick<PeekingStore, 'peek'>, now: () => number, tags: TagReader) {
    this.#store = store;
    this.#tags = tags;
    this.#now = now;
  }

  /** The payload stored at `key`, or `undefined`; throws what the store throws. */
  read(key: string): MaybePromise<string | undefined> {
    const raw = this.#store.peek(key);
    if (raw === undefined || !hasEnvelopeString(raw)) return raw;
    const entry = this.#decoded(key, raw);
    if (entry === undefined) return raw;
    if (entry.freshUntil !== 0 && this.#now() >= entry.freshUntil) return undefined;
    if (entry.tags.length === 0) return entry.payload;
    return whileTagsValid(this.#tags, key, entry.tags, entry.versions, entry.payload);
  }

  /**
   * The stored value at `key` through `decode`, or `undefined`; the decode is remembered
   * while the store returns the same stored string. Throws what the store throws.
   */
  readDecoded<T>(key: string, decode: Decoder<T>): MaybePromise<T | undefined> {
    const raw = this.#store.peek(key);
    if (raw === undefined) return undefined;
    const entry = this.#decoded(key, raw, true);
    if (entry === undefined) return decode(raw);
    if (entry.freshUntil !== 0 && this.#now() >= entry.freshUntil) return undefined;
    if (entry.decoder !== decode) {
      entry.decoded = decode(entry.payload);
      entry.decoder = decode as Decoder<unknown>;
    }
    const value = entry.decoded as T;
    if (entry.tags.length === 0) return value;
    return whileTagsValid(this.#tags, key, entry.tags, entry.versions, value);
  }

  /**
   * getOrSet's read: the payload at `key` with its logical expiry, fresh or stale (the
   * caller decides), or `undefined` when absent or its tags were invalidated. Throws what
   * the store throws.
   */
  readEntry(key: string): MaybePromise<TextEntry | undefined> {
    const raw = this.#store.peek(key);
    if (raw === undefined) return undefined;
    if (!hasEnvelopeString(raw)) return { payload: raw, freshUntil: 0 };
    const entry = this.#decoded(key, raw);
    if (entry === undefined) return { payload: raw, freshUntil: 0 };
    if (entry.tags.length === 0) return entry;
    return whileTagsValid(this.#tags, key, entry.tags, entry.versions, entry);
  }

  /** Forgets every remembered decode. */
  clear(): void {
    this.#remembered.clear();
  }

  /** The remembered decode of `raw`; `plain` also remembers a value without an envelope. */
  #decoded(key: string, raw: string, plain = false): DecodedEntry | undefined {
    const last = this.#remembered.get(key);
    // Same string object (or same bytes): the decode still holds.
    if (last !== undefined && last.raw === raw) return last;
    const env = hasEnvelopeString(raw) ? decodeEnvelope(Buffer.from(raw, 'latin1')) : undefined;
    // A malformed envelope reads as plain bytes, as it does through `get`.
    if (env === undefined && !plain) return undefined;
    const entry: DecodedEntry =
      env === undefined
        ? {
            raw,
            freshUntil: 0,
            tags: NO_TAGS,
            versions: NO_VERSIONS,
            payload: raw,
            decoder: undefined,
            decoded: undefined,
          }
        : {
            raw,
            freshUntil: env.freshUntil,
            tags: env.tags,
            versions: env.tagVersions,
            payload: raw.slice(raw.length - env.payload.length),
            decoder: undefined,
            decoded: undefined,
          };
    if (raw.length <= MAX_REMEMBERED_BYTES) {
      // Crude but bounded: a full memo starts over rather than tracking recency on the hot path.
      if (last === undefined && this.#remembered.size >= MAX_REMEMBERED) this.#remembered.clear();
      this.#remembered.set(key, entry);
    }
    return entry;
  }
}
