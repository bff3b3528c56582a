/**
 * Capturing a response on its way from the origin to the client, and storing it.
 *
 * The adapter forwards the origin's response as it is produced and tees it here: `head` when
 * the status and headers are final, `chunk` for each piece of body, then `end` (or `abort`).
 * Nothing is delayed for storing: the body is buffered only while the response is storable
 * and under `maxBodySize`; past that the buffer is dropped and the rest streams through.
 *
 * The recorder also decides what the client gets instead of the origin's answer: a stale
 * entry on a 5xx within `stale-if-error`, the stored body when the origin confirms a stale
 * entry with a 304 (revalidation.ts), or a 304 for the client's own validators. Storing, with
 * the tag snapshot that keeps a slow read from writing back invalidated data, is in
 * store-response.ts.
 */
import { Buffer } from 'node:buffer';
import type { Cache, TagSnapshot } from '../core/types.js';
import {
  explicitlyShared,
  fieldsToDrop,
  responseFacts,
  storability,
  variesOn,
} from './cacheability.js';
import type { Flight, Flights } from './coalesce.js';
import { hasRepeatedNames, type StoredResponse } from './entry.js';
import type { HttpMeter, SkipReason, XCache } from './events.js';
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
import {
  type ContentRange,
  combine,
  isComplete,
  parseContentRange,
  sameRepresentation,
} from './partial-content.js';
import { strongMatch } from './range.js';
import type { ReadContext } from './read-context.js';
import { BAD_GATEWAY, GATEWAY_TIMEOUT, type ReplayResponse, replay } from './replay.js';
import { hasValidator, refreshedHeaders } from './revalidation.js';
import { storeResponse } from './store-response.js';

/** What followers of a flight are served from. */
export interface Shared {
  response: StoredResponse;
  /** The request fields the response varies on (beyond the primary key) and their hash. */
  varyFields: string[];
  varyHash: string;
}

/**
 * What followers of a flight get when the origin failed the leader: its `502` / `504`
 * (a gateway in front of the origin — `serve`'s own forwarder, or one the origin is behind —
 * got no answer). Each follower then does what the leader did: its stale entry where
 * `stale-if-error` allows, a `504` behind a stale must-revalidate entry, else this answer.
 * Sending every follower to the origin in turn instead would make each wait for the origin's
 * timeout once more after the leader's, and turn one failing request into a retry storm.
 */
export interface Failed {
  failure: StoredResponse;
}

/** The largest failure body kept to answer followers; a larger one sends them to the origin. */
const FAILURE_BODY_MAX = 64 * 1024;

/** The parts of the middleware a recorder uses. */
export interface RecorderHost {
  readonly cache: Cache;
  readonly flights: Flights<Shared | Failed>;
  /** The middleware's counters (`stats()`) and events. */
  readonly meter: HttpMeter;
  now(): number;
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
  readonly #flight: Flight<Shared | Failed> | undefined;
  readonly #snapshot: TagSnapshot | undefined;
  readonly #stale: StoredResponse | undefined;
  /** The origin was asked with the stale entry's validators. */
  readonly #revalidating: boolean;
  /** What a 206 from the origin may be combined with: a partial entry, or the stale one. */
  readonly #held: StoredResponse | undefined;
  /** The body to store when it comes from the cache, not the origin (after a 304). */
  #storedBody: Buffer | undefined;
  #pending:
    | {
        status: number;
        headers: FlatHeaders;
        varyFields: string[];
        /** A 206's one range (storability checked it parses). */
        part: ContentRange | undefined;
      }
    | undefined;
  #chunks: Uint8Array[] = [];
  #bytes = 0;
  /** A gateway failure (502 / 504) being received, to answer followers with (see {@link Failed}). */
  #failure:
    | { status: number; headers: FlatHeaders; chunks: Uint8Array[]; bytes: number }
    | undefined;
  #done = false;
  /** Why this response is not stored, once decided (set at most once). */
  #reason: SkipReason | undefined;

  constructor(
    host: RecorderHost,
    ctx: ReadContext,
    flight: Flight<Shared | Failed> | undefined,
    snapshot: TagSnapshot | undefined,
    stale: StoredResponse | undefined,
    revalidating = false,
    held: StoredResponse | undefined = stale,
  ) {
    this.#host = host;
    this.#ctx = ctx;
    this.#flight = flight;
    this.#snapshot = snapshot;
    this.#stale = stale;
    this.#revalidating = revalidating;
    this.#held = held;
  }

  /** The origin's status and headers are final; decides whether to keep the body. */
  head(status: number, headers: FlatHeaders): HeadAction {
    const ctx = this.#ctx;
    const now = this.#host.now();
    if ((status === 502 || status === 504) && this.#flight !== undefined) {
      this.#failure = { status, headers, chunks: [], bytes: 0 };
    }
    // RFC 5861 §4: on a 5xx, a stale response within stale-if-error may stand in.
    if (status >= 500 && this.#stale !== undefined && usableOnError(this.#stale.info, now)) {
      this.#skip('stale-if-error');
      this.#host.meter.count('stale');
      const replace = replay(this.#stale, {
        xCache: 'STALE',
        head: ctx.head,
        conditions: ctx.conditions,
        now,
        withAge: true,
        range: ctx.range,
        ifRange: ctx.ifRange,
      });
      return { xCache: 'STALE', replace };
    }
    if (status >= 500 && this.#stale?.info.mustRevalidate === true) {
      // RFC 9111 §4.3.3: a 5xx to a revalidation may be taken as the origin failing to
      // respond — which is what an in-process handler's crash looks like once Express,
      // Fastify or Hono has turned it into their 500. The stale must-revalidate entry may not
      // stand in (§4.2.4), so the cache generates the error §5.2.2.2 names: 504.
      this.#skip('origin-error');
      return { xCache: 'MISS', replace: GATEWAY_TIMEOUT };
    }
    if (status === 304 && this.#revalidating && this.#stale !== undefined) {
      if (!selects(this.#stale, headers)) return this.#unselected(this.#stale, headers, now);
      return this.#notModified(this.#stale, headers, now);
    }
    const facts = responseFacts(status, headers, ctx.policy.targetedFields);
    // A request with credentials the key does not cover went to the origin as a bypass
    // unless the response turns out to be explicitly shared (RFC 9111 §3.5).
    const bypass = ctx.credentialed && !explicitlyShared(facts.directives, ctx.credential);
    if (ctx.credentialed) {
      if (bypass) this.#host.meter.count('bypass');
      else this.#host.meter.count('misses');
    }
    const xCache: XCache = bypass ? 'BYPASS' : 'MISS';
    let reason: SkipReason | undefined = bypass
      ? 'credentials'
      : ctx.noStore
        ? 'request-no-store'
        : ctx.head
          ? 'head'
          : ctx.preconditioned && (status < 200 || status > 299)
            ? 'precondition'
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
      this.#pending = {
        status,
        headers,
        varyFields: variesOn(facts, ctx.policy),
        part: status === 206 ? parseContentRange(getFlat(headers, 'content-range')) : undefined,
      };
    }
    // The client's validators were held back from the origin so that a full response could
    // be stored; answer them here (RFC 9111 §4.3.2). A 206's validators are its 200's.
    let replace: ReplayResponse | undefined;
    if (ctx.conditions !== undefined && (status === 200 || status === 206)) {
      const r = replay(
        { status: 200, headers, body: EMPTY, info: NO_INFO, repeatedNames: true },
        {
          xCache,
          head: true,
          conditions: ctx.conditions,
          now,
          withAge: false,
        },
      );
      if (r.status === 304) replace = r;
    }
    return { xCache, replace };
  }

  /**
   * The origin confirmed the stale entry (RFC 9111 §4.3.4): refresh its headers, store it
   * again with the stored body, and send the client the stored response.
   */
  #notModified(stale: StoredResponse, notModifiedHeaders: FlatHeaders, now: number): HeadAction {
    const ctx = this.#ctx;
    const headers = refreshedHeaders(stale.headers, notModifiedHeaders, now);
    const facts = responseFacts(stale.status, headers, ctx.policy.targetedFields);
    // The origin confirmed the stored body for this very request, so it is served either way;
    // whether it may be stored again for others follows the same rules as a full response.
    if (ctx.credentialed) this.#host.meter.count('misses');
    let reason: SkipReason | undefined =
      ctx.credentialed && !explicitlyShared(facts.directives, ctx.credential)
        ? 'credentials'
        : ctx.noStore
          ? 'request-no-store'
          : storability(facts, ctx.policy);
    if (reason === undefined && this.#snapshot === undefined) reason = 'cache-error';
    if (reason !== undefined) this.#skip(reason);
    else {
      this.#pending = {
        status: stale.status,
        headers,
        varyFields: variesOn(facts, ctx.policy),
        part: undefined,
      };
    }
    this.#storedBody = stale.body;
    this.#host.meter.count('revalidated');
    const response = this.#build(stale.status, headers, stale.body, now);
    const replace = replay(response, {
      xCache: 'HIT',
      head: ctx.head,
      conditions: ctx.conditions,
      now,
      withAge: true,
      range: ctx.range,
      ifRange: ctx.ifRange,
    });
    return { xCache: 'HIT', replace };
  }

  /**
   * A 304 naming a strong ETag the stale entry does not have (RFC 9111 §4.3.4): it selects no
   * stored response, so it updates none. The entry is dropped — revalidating it again would
   * only get the same 304 — and the client, who asked for the full response (its own
   * validators were held back), gets `502 Bad Gateway`: the cache has no usable answer
   * and a retry fetches the response whole. A client whose own validators the 304 matches
   * gets that 304 instead, which answers its request.
   */
  #unselected(stale: StoredResponse, headers: FlatHeaders, now: number): HeadAction {
    const ctx = this.#ctx;
    const host = this.#host;
    this.#skip('status');
    const fields = variesOn(responseFacts(stale.status, stale.headers), ctx.policy);
    const key =
      fields.length > 0 ? variantKey(ctx.primary, headerHash(fields, ctx.header)) : ctx.primary;
    host.cache.delete(key).catch((error: unknown) => host.cacheError('delete', key, error));
    if (ctx.conditions !== undefined) {
      const own = replay(
        { status: 200, headers, body: EMPTY, info: NO_INFO, repeatedNames: true },
        { xCache: 'MISS', head: true, conditions: ctx.conditions, now, withAge: false },
      );
      if (own.status === 304) return { xCache: 'MISS', replace: own };
    }
    return { xCache: 'MISS', replace: BAD_GATEWAY };
  }

  /** A piece of the origin's body, in order. */
  chunk(bytes: Uint8Array): void {
    const failure = this.#failure;
    if (failure !== undefined && bytes.length > 0) {
      failure.bytes += bytes.length;
      if (failure.bytes > FAILURE_BODY_MAX) this.#failure = undefined;
      else failure.chunks.push(bytes);
    }
    if (this.#pending === undefined || bytes.length === 0 || this.#storedBody !== undefined) return;
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
      this.#finish(this.#failed());
      return;
    }
    this.#pending = undefined;
    const ctx = this.#ctx;
    // A body longer or shorter than its Content-Length is not the response the origin meant
    // (RFC 9112 §6.3): the client got what node sent, but nothing is kept.
    const declared = getFlat(pending.headers, 'content-length');
    if (
      this.#storedBody === undefined &&
      declared !== undefined &&
      Number(declared) !== this.#bytes
    ) {
      this.#chunks = [];
      this.#skip('incomplete');
      this.#finish(undefined);
      return;
    }
    const now = this.#host.now();
    const body =
      this.#storedBody ??
      (this.#chunks.length === 1 ? Buffer.from(this.#chunks[0]!) : Buffer.concat(this.#chunks));
    this.#chunks = [];
    let response = this.#build(pending.status, pending.headers, body, now);
    if (pending.part !== undefined) {
      const combined = this.#combine(response, pending.part);
      if (combined === 'incomplete' || combined === 'too-large') {
        this.#skip(combined);
        this.#finish(undefined);
        return;
      }
      response = combined;
    }
    const info = response.info;
    // An entry with a validator is kept past its freshness to be revalidated (RFC 9111 §4.3).
    const ttlMs = Math.ceil(
      storageTtlMs(info, now, hasValidator(response.status, response.headers)),
    );
    if (ttlMs <= 0) {
      this.#skip('no-freshness');
      this.#finish(undefined);
      return;
    }
    const facts = responseFacts(pending.status, pending.headers);
    const varyHash = headerHash(pending.varyFields, ctx.header);
    // Followers wait for a full response; a partial one answers only ranges it holds.
    const shareable =
      info.lifetimeMs > info.initialAgeMs && !info.noCache && response.parts === undefined;
    this.#finish(shareable ? { response, varyFields: pending.varyFields, varyHash } : undefined);
    void storeResponse(this.#host, this.#ctx, this.#snapshot!, {
      response,
      varyFields: pending.varyFields,
      varyHash,
      ttlMs,
      cacheTags: listMembers(getFlatJoined(facts.headers, 'cache-tag')),
    });
  }

  /**
   * A 206 as it is stored (RFC 9111 §3.3–§3.4): combined with the held entry when both are
   * the same representation (partial-content.ts), else on its own; a complete 200 once the
   * parts cover the whole representation (RFC 9110 §15.3.7.3). Never more than `maxBodySize`.
   */
  #combine(
    response: StoredResponse,
    part: ContentRange,
  ): StoredResponse | 'incomplete' | 'too-large' {
    // The body must be exactly the range it claims (RFC 9110 §14.4).
    if (response.body.length !== part.end - part.start + 1) return 'incomplete';
    const held = this.#held;
    const base =
      held !== undefined && sameRepresentation(held, response.headers, part.size)
        ? held
        : undefined;
    const union = combine(base, part, response.body, this.#ctx.policy.maxBodySize);
    if (union === undefined) return 'too-large';
    if (isComplete(union.parts)) {
      return { ...response, status: 200, body: union.body, parts: undefined };
    }
    return { ...response, body: union.body, parts: union.parts };
  }

  /** The stored form of a response received now: freshness computed, storable fields only. */
  #build(status: number, originHeaders: FlatHeaders, body: Buffer, now: number): StoredResponse {
    const ctx = this.#ctx;
    const facts = responseFacts(status, originHeaders, ctx.policy.targetedFields);
    const date = parseHttpDate(getFlat(originHeaders, 'date'));
    const info = computeFreshness({
      directives: facts.directives,
      status,
      date,
      // RFC 9213 §2.1: a targeted field replaces Expires too. Every line counts (§4.2.1).
      expires: facts.targeted ? undefined : getFlatJoined(originHeaders, 'expires'),
      age: getFlatJoined(originHeaders, 'age'),
      lastModified: parseHttpDate(getFlat(originHeaders, 'last-modified')),
      requestTime: ctx.requestTime,
      responseTime: now,
      defaultTtlMs: ctx.policy.ttlMs,
      staleWhileRevalidate: ctx.policy.staleWhileRevalidate,
      staleIfError: ctx.policy.staleIfError,
    });
    // The stored Date is replayed (DESIGN §5); stamp one when the origin left it to the server,
    // or in place of one that is not an HTTP-date (RFC 9110 §5.6.7).
    const drop = fieldsToDrop(facts);
    if (date === undefined) drop.push('date');
    // A partial entry keeps its ranges beside the headers (entry.ts), not in them.
    if (status === 206) drop.push('content-range');
    const headers = storableHeaders(originHeaders, drop);
    if (date === undefined) headers.push('date', formatHttpDate(now));
    return { status, headers, body, info, repeatedNames: hasRepeatedNames(headers) };
  }

  /**
   * The origin failed, misbehaved (`reason`) or the client went away: nothing is stored;
   * followers fetch. A no-op once the response was stored.
   */
  abort(reason: SkipReason = 'aborted'): void {
    if (this.#done) return;
    this.#skip(reason);
    this.#chunks = [];
    this.#failure = undefined;
    this.#finish(undefined);
  }

  /**
   * The origin's response broke off mid-body (a reset, a stall past the gateway's timeout):
   * nothing is stored, and followers get a `502` (or their stale entry, see {@link Failed})
   * rather than each asking the origin that just failed. A no-op once the response was stored.
   */
  originBroke(): void {
    if (this.#done) return;
    this.#skip('aborted');
    this.#chunks = [];
    this.#failure = undefined;
    this.#finish(this.#flight === undefined ? undefined : { failure: BROKE_OFF });
  }

  /**
   * The origin failed before sending a head (it threw, or its promise rejected): nothing is
   * stored. Returns the `504 Gateway Timeout` to send when the stale entry behind this miss
   * must not be served without a successful revalidation (`must-revalidate`,
   * `proxy-revalidate`, `s-maxage`: RFC 9111 §4.2.4, §5.2.2.2 — a cache that cannot reach
   * the origin generates an error, 504 being the one named); `undefined` otherwise, and the
   * adapter reports the failure as it did before.
   */
  originFailed(): ReplayResponse | undefined {
    const strict = this.#done ? false : this.#stale?.info.mustRevalidate === true;
    this.abort();
    return strict ? GATEWAY_TIMEOUT : undefined;
  }

  /** Why this response is not (or was not) stored; `undefined` while it may still be. */
  get skipped(): SkipReason | undefined {
    return this.#reason;
  }

  /**
   * The gateway failure received whole, as followers get it: its own status, fields and
   * body, no freshness (never stored, never served past this flight).
   */
  #failed(): Failed | undefined {
    const failure = this.#failure;
    this.#failure = undefined;
    if (failure === undefined) return undefined;
    const declared = getFlat(failure.headers, 'content-length');
    if (declared !== undefined && Number(declared) !== failure.bytes) return undefined;
    const headers = storableHeaders(failure.headers, []);
    return {
      failure: {
        status: failure.status,
        headers,
        body: Buffer.concat(failure.chunks),
        info: NO_INFO,
        repeatedNames: hasRepeatedNames(headers),
      },
    };
  }

  #finish(shared: Shared | Failed | undefined): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#flight !== undefined) this.#host.flights.settle(this.#flight, shared);
  }

  /** Decides, once, that this response is not stored, and says why. */
  #skip(reason: SkipReason): void {
    this.#pending = undefined;
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    const events = this.#host.meter.events;
    if (events.wants('skip')) events.emit('skip', { key: this.#ctx.primary, reason });
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * Whether a 304 selects the stored response (RFC 9111 §4.3.4): a strong ETag in the 304
 * must be the stored one, character for character; without one (a weak ETag, or only
 * Last-Modified) the stored response is the one the cache asked about.
 */
function selects(stored: StoredResponse, notModifiedHeaders: FlatHeaders): boolean {
  const etag = getFlat(notModifiedHeaders, 'etag');
  if (etag === undefined || etag.trim().startsWith('W/')) return true;
  const mine = getFlat(stored.headers, 'etag');
  return mine !== undefined && strongMatch(etag, mine);
}

const NO_INFO = {
  responseTime: 0,
  initialAgeMs: 0,
  lifetimeMs: 0,
  swrMs: 0,
  sieMs: 0,
  noCache: false,
};

/** What followers get when the leader's response broke off mid-body: an empty `502`. */
const BROKE_OFF: StoredResponse = {
  status: 502,
  headers: [],
  body: EMPTY,
  info: NO_INFO,
  repeatedNames: false,
};
