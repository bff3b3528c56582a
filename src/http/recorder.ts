/**
 * Capturing a response on its way from the origin to the client, and storing it.
 *
 * The adapter forwards the origin's response as it is produced and tees it here: `head` when
 * the status and headers are final, `chunk` for each piece of body, then `end` (or `abort`).
 * Nothing is delayed for storing: the body is buffered only while the response is storable
 * and under `maxBodySize`; past that the buffer is dropped and the rest streams through.
 *
 * The write that stores the response carries the tag snapshot taken before the origin was
 * called, so an invalidation of the path that lands in between voids the entry at once — a
 * slow read can never write back what a write just invalidated. `Cache-Tag` values are only
 * known now; their versions are read at store time (the path tag is the one a write racing
 * this read bumps, so it is the one the early snapshot must cover).
 */
import type { Cache, TagSnapshot } from '../core/types.js';
import { fieldsToDrop, responseFacts, storability, variesOn } from './cacheability.js';
import type { Flight, Flights } from './coalesce.js';
import {
  encodeResponse,
  encodeVaryMarker,
  hasRepeatedNames,
  type StoredResponse,
} from './entry.js';
import type { HttpEvents, XCache } from './events.js';
import { computeFreshness, storageTtlMs, usableOnError } from './freshness.js';
import {
  type FlatHeaders,
  formatHttpDate,
  getFlat,
  getFlatJoined,
  listMembers,
  parseHttpDate,
  storableHeaders,
} from './headers.js';
import { headerHash, variantKey } from './key.js';
import type { ReadContext } from './read-context.js';
import { type ReplayResponse, replay } from './replay.js';

/** What followers of a flight are served from. */
export interface Shared {
  response: StoredResponse;
  /** The request fields the response varies on (beyond the primary key) and their hash. */
  varyFields: string[];
  varyHash: string;
}

/** The parts of the middleware a recorder uses. */
export interface RecorderHost {
  readonly cache: Cache;
  readonly flights: Flights<Shared>;
  readonly events: HttpEvents;
  now(): number;
  countStale(): void;
  countStore(): void;
  cacheError(operation: string, key: string | undefined, error: unknown): void;
}

/** What the adapter sends once the origin's head is known. */
export interface HeadAction {
  /** The `X-Cache` value to add to the origin's headers. */
  xCache: XCache;
  /**
   * Send this instead of the origin's response (stale-if-error, or a 304 for the client).
   * Keep teeing the origin's body to the recorder all the same and call `end`: the full
   * response behind a 304 is still stored.
   */
  replace: ReplayResponse | undefined;
}

/** Records one origin response for one cacheable request. */
export class Recorder {
  readonly #host: RecorderHost;
  readonly #ctx: ReadContext;
  readonly #flight: Flight<Shared> | undefined;
  readonly #snapshot: TagSnapshot | undefined;
  readonly #stale: StoredResponse | undefined;
  #pending: { status: number; headers: FlatHeaders; varyFields: string[] } | undefined;
  #chunks: Uint8Array[] = [];
  #bytes = 0;
  #done = false;

  constructor(
    host: RecorderHost,
    ctx: ReadContext,
    flight: Flight<Shared> | undefined,
    snapshot: TagSnapshot | undefined,
    stale: StoredResponse | undefined,
  ) {
    this.#host = host;
    this.#ctx = ctx;
    this.#flight = flight;
    this.#snapshot = snapshot;
    this.#stale = stale;
  }

  /** The origin's status and headers are final; decides whether to keep the body. */
  head(status: number, headers: FlatHeaders): HeadAction {
    const ctx = this.#ctx;
    const now = this.#host.now();
    // RFC 5861 §4: on a 5xx, a stale response within stale-if-error may stand in.
    if (status >= 500 && this.#stale !== undefined && usableOnError(this.#stale.info, now)) {
      this.#skip('stale-if-error');
      this.#host.countStale();
      const replace = replay(this.#stale, {
        xCache: 'STALE',
        head: ctx.head,
        conditions: ctx.conditions,
        now,
        withAge: true,
      });
      return { xCache: 'STALE', replace };
    }
    const facts = responseFacts(status, headers);
    let reason: string | undefined = ctx.noStore
      ? 'request-no-store'
      : ctx.head
        ? 'head'
        : undefined;
    reason ??= storability(facts, ctx.policy);
    if (reason === undefined && this.#snapshot === undefined) reason = 'cache-error';
    const length = getFlat(headers, 'content-length');
    if (reason === undefined && length !== undefined && Number(length) > ctx.policy.maxBodySize) {
      reason = 'too-large';
    }
    if (reason !== undefined) {
      this.#skip(reason);
    } else {
      this.#pending = { status, headers, varyFields: variesOn(facts, ctx.policy) };
    }
    // The client's validators were held back from the origin so that a full response could
    // be stored; answer them here (RFC 9111 §4.3.2).
    let replace: ReplayResponse | undefined;
    if (ctx.conditions !== undefined && status === 200) {
      const r = replay(
        { status, headers, body: EMPTY, info: NO_INFO, repeatedNames: true },
        {
          xCache: 'MISS',
          head: true,
          conditions: ctx.conditions,
          now,
          withAge: false,
        },
      );
      if (r.status === 304) replace = r;
    }
    return { xCache: 'MISS', replace };
  }

  /** A piece of the origin's body, in order. */
  chunk(bytes: Uint8Array): void {
    if (this.#pending === undefined || bytes.length === 0) return;
    this.#bytes += bytes.length;
    if (this.#bytes > this.#ctx.policy.maxBodySize) {
      this.#chunks = [];
      this.#skip('too-large');
      return;
    }
    this.#chunks.push(bytes);
  }

  /** The origin's response is complete: store it and serve waiting followers. */
  end(): void {
    if (this.#done) return;
    const pending = this.#pending;
    if (pending === undefined) {
      this.#finish(undefined);
      return;
    }
    this.#pending = undefined;
    const ctx = this.#ctx;
    const now = this.#host.now();
    const facts = responseFacts(pending.status, pending.headers);
    const date = parseHttpDate(getFlat(pending.headers, 'date'));
    const info = computeFreshness({
      directives: facts.directives,
      date,
      expires: getFlat(pending.headers, 'expires'),
      age: getFlat(pending.headers, 'age'),
      requestTime: ctx.requestTime,
      responseTime: now,
      defaultTtlMs: ctx.policy.ttlMs,
      staleWhileRevalidate: ctx.policy.staleWhileRevalidate,
      staleIfError: ctx.policy.staleIfError,
    });
    const ttlMs = Math.ceil(storageTtlMs(info, now));
    if (ttlMs <= 0) {
      this.#skip('no-freshness');
      this.#finish(undefined);
      return;
    }
    const headers = storableHeaders(pending.headers, fieldsToDrop(facts));
    // The stored Date is replayed (DESIGN §5); stamp one when the origin left it to the server.
    if (date === undefined) headers.push('date', formatHttpDate(now));
    const body =
      this.#chunks.length === 1 ? Buffer.from(this.#chunks[0]!) : Buffer.concat(this.#chunks);
    this.#chunks = [];
    const response: StoredResponse = {
      status: pending.status,
      headers,
      body,
      info,
      repeatedNames: hasRepeatedNames(headers),
    };
    const varyHash = headerHash(pending.varyFields, ctx.header);
    const shareable = info.lifetimeMs > info.initialAgeMs && !info.noCache;
    this.#finish(shareable ? { response, varyFields: pending.varyFields, varyHash } : undefined);
    void this.#store(response, pending.varyFields, varyHash, ttlMs, facts.headers);
  }

  /** The origin failed or the client went away: nothing is stored; followers fetch. */
  abort(): void {
    this.#pending = undefined;
    this.#chunks = [];
    this.#finish(undefined);
  }

  #finish(shared: Shared | undefined): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#flight !== undefined) this.#host.flights.settle(this.#flight, shared);
  }

  #skip(reason: string): void {
    this.#pending = undefined;
    const events = this.#host.events;
    if (events.has('skip')) events.emit('skip', { key: this.#ctx.primary, reason });
  }

  async #store(
    response: StoredResponse,
    varyFields: string[],
    varyHash: string,
    ttlMs: number,
    originHeaders: FlatHeaders,
  ): Promise<void> {
    const ctx = this.#ctx;
    const host = this.#host;
    const baseSnapshot = this.#snapshot!;
    const cacheTags = listMembers(getFlatJoined(originHeaders, 'cache-tag')).filter(
      (t) => !baseSnapshot.tags.includes(t),
    );
    const key = varyFields.length > 0 ? variantKey(ctx.primary, varyHash) : ctx.primary;
    try {
      let snapshot = baseSnapshot;
      if (cacheTags.length > 0) {
        const late = await host.cache.tagSnapshot(cacheTags);
        snapshot = {
          tags: [...baseSnapshot.tags, ...late.tags],
          versions: [...baseSnapshot.versions, ...late.versions],
        };
      }
      const bytes = encodeResponse(response);
      const tags = snapshot.tags;
      if (varyFields.length > 0) {
        await host.cache.set(ctx.primary, encodeVaryMarker(varyFields), ttlMs, {
          tags: baseSnapshot.tags,
          snapshot: baseSnapshot,
        });
      }
      await host.cache.set(key, bytes, ttlMs, { tags, snapshot });
      host.countStore();
      if (host.events.has('store')) {
        host.events.emit('store', { key, bytes: bytes.length, ttlMs, tags });
      }
    } catch (error) {
      host.cacheError('set', key, error);
    }
  }
}

const EMPTY = Buffer.alloc(0);
const NO_INFO = {
  responseTime: 0,
  initialAgeMs: 0,
  lifetimeMs: 0,
  swrMs: 0,
  sieMs: 0,
  noCache: false,
};
