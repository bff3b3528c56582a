/**
 * The object L1 (`l1: { serialize: false }`): `getOrSet` results kept as objects, so a hit
 * costs a Map lookup and a comparison instead of a copy and a JSON parse.
 *
 * An object is only ever a view of the byte L1: each is remembered beside the exact stored
 * string it was parsed from, and served only while the byte L1 still holds that string, the
 * envelope's logical expiry has not passed and its tags still have the recorded versions.
 * So every rule of the byte L1 — its TTL (never beyond Redis's), eviction, invalidation by
 * this instance or by a message, the clear on resync — applies to objects with no code of
 * their own; the drop listener only frees memory early.
 *
 * The price is the contract's copy-on-read: every caller gets the same object. Callers must
 * not mutate it. With `freeze` (on unless NODE_ENV is `production`) objects are deep-frozen,
 * so a mutation throws in strict-mode code (every ES module) instead of corrupting the
 * value other callers see.
 */
import { Buffer } from 'node:buffer';
import { decodeEnvelope, hasEnvelopeString } from '../../core/envelope.js';
import { compileGlob } from '../../core/glob.js';
import type { MaybePromise } from '../../core/store.js';
import type { Invalidation } from './invalidation-bus.js';

interface Kept {
  /** The byte L1's stored string this was parsed from. */
  readonly raw: string;
  /** Logical expiry (ms epoch), 0 when fresh until the byte copy goes. */
  readonly freshUntil: number;
  readonly tags: readonly string[];
  readonly versions: readonly number[];
  readonly value: unknown;
}

/** What the object L1 needs: the byte L1's stored string and tag versions. */
export interface ObjectTierHost {
  peek(key: string): string | undefined;
  tagVersions(tags: readonly string[]): MaybePromise<number[]>;
  now(): number;
}

/** A bounded map of parsed `getOrSet` results, valid while their bytes are unchanged. */
export class ObjectTier {
  readonly #kept = new Map<string, Kept>();
  readonly #host: ObjectTierHost;
  readonly #max: number;
  readonly #freeze: boolean;

  constructor(host: ObjectTierHost, max: number, freeze: boolean) {
    this.#host = host;
    this.#max = max;
    this.#freeze = freeze;
  }

  get size(): number {
    return this.#kept.size;
  }

  /** The kept object for `key` (wrapped, since `undefined` cannot be kept), or `undefined`. */
  read(key: string): { value: unknown } | undefined {
    const kept = this.#kept.get(key);
    if (kept === undefined) return undefined;
    if (this.#host.peek(key) !== kept.raw) return undefined;
    if (kept.freshUntil !== 0 && this.#host.now() >= kept.freshUntil) return undefined;
    if (kept.tags.length === 0) return kept;
    const current = this.#host.tagVersions(kept.tags);
    // Versions not in memory: let the full path decide (it may read them from Redis).
    if (current instanceof Promise) {
      current.catch(() => {});
      return undefined;
    }
    for (let i = 0; i < current.length; i++) {
      if (current[i] !== kept.versions[i] || (current[i] as number) < 0) return undefined;
    }
    return kept;
  }

  /**
   * Parses and keeps what the byte L1 holds for `key` now (after a `getOrSet` filled it);
   * `undefined` when it holds nothing usable.
   */
  remember(key: string): { value: unknown } | undefined {
    const raw = this.#host.peek(key);
    if (raw === undefined) return undefined;
    let bytes: Buffer = Buffer.from(raw, 'latin1');
    let freshUntil = 0;
    let tags: readonly string[] = [];
    let versions: readonly number[] = [];
    if (hasEnvelopeString(raw)) {
      const env = decodeEnvelope(bytes);
      if (env !== undefined) {
        ({ freshUntil, tags } = env);
        versions = env.tagVersions;
        bytes = env.payload;
      }
    }
    if (freshUntil !== 0 && this.#host.now() >= freshUntil) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch {
      return undefined; // Not JSON: written by `set`, not by getOrSet.
    }
    if (this.#freeze) deepFreeze(value);
    const kept: Kept = { raw, freshUntil, tags, versions, value };
    this.#kept.delete(key);
    if (this.#kept.size >= this.#max) {
      const oldest = this.#kept.keys().next();
      if (!oldest.done) this.#kept.delete(oldest.value);
    }
    this.#kept.set(key, kept);
    return kept;
  }

  /** Frees what a change made unusable (they would no longer match their bytes anyway). */
  drop(change: Invalidation): void {
    if ('keys' in change) for (const key of change.keys) this.#kept.delete(key);
    else if ('pattern' in change) {
      const glob = compileGlob(change.pattern);
      for (const key of this.#kept.keys()) if (glob.test(key)) this.#kept.delete(key);
    } else if ('all' in change) this.#kept.clear();
  }
}

/** Freezes `value` and everything reachable from it. */
export function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}
