/**
 * Writing a recorded response to the cache, guarded by the tag snapshot taken before the
 * origin was called: an invalidation of any of those tags in between makes the write born
 * invalid, so a slow read never writes back what a write just invalidated. `Cache-Tag`
 * values are only known now, so their versions are read now; the path tag — the one a write
 * racing this read bumps — is always in the early snapshot.
 */
import type { TagSnapshot } from '../core/types.js';
import { encodeResponse, encodeVaryMarker, type StoredResponse } from './entry.js';
import { variantKey } from './key.js';
import type { ReadContext } from './read-context.js';
import type { RecorderHost } from './recorder.js';

/** What to store for one request. */
export interface StoreRequest {
  response: StoredResponse;
  /** Request fields the response varies on (beyond the primary key) and their hash. */
  varyFields: string[];
  varyHash: string;
  ttlMs: number;
  /** The origin's `Cache-Tag` values. */
  cacheTags: string[];
}

/** Stores a response (and its vary marker); never rejects — failures are reported. */
export async function storeResponse(
  host: RecorderHost,
  ctx: ReadContext,
  early: TagSnapshot,
  { response, varyFields, varyHash, ttlMs, cacheTags }: StoreRequest,
): Promise<void> {
  const key = varyFields.length > 0 ? variantKey(ctx.primary, varyHash) : ctx.primary;
  try {
    let snapshot = early;
    const late = cacheTags.filter((t) => !early.tags.includes(t));
    if (late.length > 0) {
      const now = await host.cache.tagSnapshot(late);
      snapshot = {
        tags: [...early.tags, ...now.tags],
        versions: [...early.versions, ...now.versions],
      };
    }
    const bytes = encodeResponse(response);
    if (varyFields.length > 0) {
      // The marker at the primary key names the fields; it carries the early tags only.
      await host.cache.set(ctx.primary, encodeVaryMarker(varyFields), ttlMs, {
        tags: early.tags,
        snapshot: early,
      });
    }
    await host.cache.set(key, bytes, ttlMs, { tags: snapshot.tags, snapshot });
    host.meter.count('stores');
    if (host.meter.events.wants('store')) {
      host.meter.events.emit('store', { key, bytes: bytes.length, ttlMs, tags: snapshot.tags });
    }
  } catch (error) {
    host.cacheError('set', key, error);
  }
}
