import { decodeEnvelope, encodeEnvelope, hasEnvelope } from './envelope.js';
import type { TagReader } from './outbox.js';
import type { MaybePromise, Store } from './store.js';

/** What a read found once the envelope is understood. */
export interface EntryState {
  /** The caller's bytes. */
  payload: Buffer;
  /** Logical expiry (ms epoch), 0 when fresh until the physical TTL. */
  freshUntil: number;
}

/** True while an entry is fresh at `now` (an entry without a logical expiry always is). */
export function isFresh(entry: Pick<EntryState, 'freshUntil'>, now: number): boolean {
  return entry.freshUntil === 0 || now < entry.freshUntil;
}

/**
 * Turns stored bytes into the caller's entry: plain bytes pass through untouched; an
 * envelope is unwrapped, and an entry whose tags were invalidated since it was written reads
 * as absent (and is deleted, best effort). Synchronous when the store is, so memory hits
 * never wait on a promise.
 */
export function readEntry(
  store: TagReader,
  key: string,
  bytes: Buffer | undefined,
  signal?: AbortSignal,
): MaybePromise<EntryState | undefined> {
  if (bytes === undefined) return undefined;
  if (!hasEnvelope(bytes)) return { payload: bytes, freshUntil: 0 };
  const env = decodeEnvelope(bytes);
  if (env === undefined) return { payload: bytes, freshUntil: 0 };
  const entry = { payload: env.payload, freshUntil: env.freshUntil };
  if (env.tags.length === 0) return entry;
  return whileTagsValid(store, key, env.tags, env.tagVersions, entry, signal);
}

/**
 * `value` while every tag still has the version the entry recorded, else `undefined`. An
 * entry whose tags were invalidated since it was written is deleted (best effort). Sync
 * when the store answers sync, with no allocation beyond the store's own on that path.
 */
export function whileTagsValid<T>(
  store: TagReader,
  key: string,
  tags: readonly string[],
  recorded: readonly number[],
  value: T,
  signal?: AbortSignal,
): MaybePromise<T | undefined> {
  const current = store.tagVersions(tags, signal);
  if (current instanceof Promise) {
    return current.then((c) => (versionsMatch(store, key, recorded, c) ? value : undefined));
  }
  return versionsMatch(store, key, recorded, current) ? value : undefined;
}

function versionsMatch(
  store: TagReader,
  key: string,
  recorded: readonly number[],
  current: readonly number[],
): boolean {
  for (let i = 0; i < current.length; i++) {
    const version = current[i] as number;
    // A negative current version is a pending invalidation (outbox.ts): nothing is valid.
    if (version !== recorded[i] || version < 0) {
      dropQuietly(store, key);
      return false;
    }
  }
  return true;
}

/** The most `exists` reads of a value from a store that can read a prefix: any usual envelope fits. */
export const HEAD_BYTES = 4096;

/**
 * {@link readEntry} for `exists`, which needs the envelope but not the payload: reads only
 * the value's head when the store can, so asking about a large value never moves it.
 */
export async function readEntryHead(
  store: Store,
  tags: TagReader,
  key: string,
  signal?: AbortSignal,
): Promise<EntryState | undefined> {
  if (store.getHead === undefined)
    return readEntry(tags, key, await store.get(key, signal), signal);
  const head = await store.getHead(key, HEAD_BYTES, signal);
  // A head that ends inside the envelope's tag list cannot be judged: read the whole value.
  if (
    head !== undefined &&
    head.length >= HEAD_BYTES &&
    hasEnvelope(head) &&
    decodeEnvelope(head) === undefined
  ) {
    return readEntry(tags, key, await store.get(key, signal), signal);
  }
  return readEntry(tags, key, head, signal);
}

/** Encodes a payload for storage, adding an envelope only when metadata requires one. */
export function writeEntry(
  payload: Buffer,
  freshUntil: number,
  tags: readonly string[] | undefined,
  versions: readonly number[] | undefined,
): Buffer {
  if (freshUntil === 0 && (tags === undefined || tags.length === 0) && !hasEnvelope(payload)) {
    return payload;
  }
  return encodeEnvelope(payload, freshUntil, tags, versions);
}

function dropQuietly(store: TagReader, key: string): void {
  // The entry is already unreadable through its tags; deleting it only frees space early,
  // so a failure here changes nothing a caller can see.
  try {
    const done = store.delete(key);
    if (done instanceof Promise) done.catch(() => {});
  } catch {}
}
