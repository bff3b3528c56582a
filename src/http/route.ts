/**
 * The framework-neutral request flow of one route policy — the seam every adapter uses.
 *
 * An adapter calls `begin(method, url, header)` and follows the plan:
 * - `bypass`: forward to the origin, adding `X-Cache: BYPASS`.
 * - `write`: forward; once the status is known call `finish(status, location,
 *   contentLocation)` and, when it returns a promise, wait for it before ending the response
 *   (so a client that writes and then reads never sees the entry the write invalidated).
 * - `read`: `await lookup(plan.ctx)`; the outcome is either a response to `replay` or a
 *   `Recorder` to tee the origin's response through (see recorder.ts).
 */
import { isOutage } from '../core/breaker.js';
import type { TagSnapshot } from '../core/types.js';
import { classifyRequest, explicitlyShared, responseFacts } from './cacheability.js';
import { waitFor } from './coalesce.js';
import type { Decoded, StoredResponse } from './entry.js';
import { usability, usableOnError } from './freshness.js';
import type { FlatHeaders, HeaderGetter } from './headers.js';
import { type HostResolver, requestHost } from './host.js';
import { invalidatesOn, writeTags } from './invalidation.js';
import { headerHash, keyable, variantKey } from './key.js';
import { type HeldParts, heldAnswer } from './partial-content.js';
import type { ResolvedPolicy } from './policy.js';
import { type ReadContext, readContext, readTags } from './read-context.js';
import { Recorder, type RecorderHost } from './recorder.js';
import { GATEWAY_TIMEOUT, type ReplayResponse, replay } from './replay.js';
import { validatorsOf } from './revalidation.js';

/** The middleware state a route reads and updates. */
export interface RouteHost extends RecorderHost {
  readonly namespace: string;
  /** One decoded cache entry: through `Cache.readDecoded` when the backend declares it. */
  read(key: string): Decoded | Promise<Decoded>;
  readonly coalesceWaitMs: number;
  /** The host keys and path tags use (the middleware's `host` option, else the request's). */
  readonly hostOf: HostResolver;
  /** Invalidates tags; never rejects (a failure is counted and reported). */
  invalidate(tags: readonly string[]): Promise<void>;
  /** How many backend outages (timeouts, lost connections) the cache has reported so far. */
  outages(): number;
  /** The error of the last of those outages. */
  lastOutage(): unknown;
}

/** What to do with a request. */
export type Plan =
  | { readonly kind: 'bypass' }
  | {
      readonly kind: 'write';
      /** Call when the status is known; await the promise (if any) before ending the response. */
      finish(
        status: number,
        location: string | undefined,
        contentLocation: string | undefined,
      ): Promise<void> | undefined;
    }
  | { readonly kind: 'read'; readonly ctx: ReadContext };

/** The result of a lookup. */
export type Outcome =
  | { readonly kind: 'replay'; readonly response: ReplayResponse }
  | {
      readonly kind: 'fetch';
      readonly recorder: Recorder;
      /**
       * Conditional fields (`if-none-match`, `if-modified-since`) to add to the request before
       * the origin sees it, revalidating a stored entry (RFC 9111 §4.3.1). Flat, lowercase.
       */
      readonly validators: FlatHeaders | undefined;
      /**
       * Ask for the whole representation: `Range` and `If-Range` come off the request (the
       * cache's own background refresh of a complete entry, which a 206 must not replace).
       */
      readonly whole?: boolean;
    };

const BYPASS: Plan = { kind: 'bypass' };

type MaybePromise<T> = T | Promise<T>;

/**
 * A read the backend did not answer (a timeout, a lost connection): a miss that stores
 * nothing, because the tag snapshot a store needs would wait on the same backend again.
 */
const UNANSWERED = Symbol('unanswered');
type Read<T> = T | typeof UNANSWERED;

/** Whether a stored response may serve a request with credentials (RFC 9111 §3.5). */
function sharedExplicitly(stored: StoredResponse, ctx: ReadContext): boolean {
  const facts = responseFacts(stored.status, stored.headers, ctx.policy.targetedFields);
  return explicitlyShared(facts.directives, ctx.credential);
}

/** One policy bound to one middleware: what adapters drive. */
export class HttpCacheRoute {
  readonly #host: RouteHost;
  /** The resolved policy this route applies. */
  readonly policy: ResolvedPolicy;

  constructor(host: RouteHost, policy: ResolvedPolicy) {
    this.#host = host;
    this.policy = policy;
  }

  /** Classifies a request (synchronous, no I/O). `url` is the origin-form target `/path?query`. */
  begin(method: string, url: string, header: HeaderGetter): Plan {
    const host = this.#host;
    const cls = classifyRequest(method, header, this.policy);
    if (cls.kind === 'read') {
      const name = host.hostOf(header, url);
      if (keyable(name, url)) {
        return {
          kind: 'read',
          ctx: readContext(host.namespace, this.policy, url, header, cls, name, host.now()),
        };
      }
      host.meter.count('bypass');
      return BYPASS;
    }
    host.meter.count('bypass');
    if (cls.kind === 'bypass' || !this.policy.invalidate) return BYPASS;
    return {
      kind: 'write',
      finish: (status, location, contentLocation) => {
        if (!invalidatesOn(status)) return undefined;
        const tags = writeTags(
          host.hostOf(header, url),
          url,
          location,
          contentLocation,
          requestHost(header),
        );
        return host.invalidate(tags);
      },
    };
  }

  /**
   * Looks the request up. `refresh`, when an adapter can re-run the origin in the background,
   * lets a response within `stale-while-revalidate` be served at once while it refreshes.
   * Answers synchronously when the backend can (a memory hit then costs no promise).
   */
  lookup(ctx: ReadContext, refresh?: () => void): Outcome | Promise<Outcome> {
    const stored = this.#read(ctx);
    // A read answered in the same tick needs no second look at the clock.
    if (!(stored instanceof Promise)) return this.#decide(ctx, stored, refresh, ctx.requestTime);
    // A hit costs the one read: the tag snapshot is taken only on a miss (#fetch), and not at
    // all after a read the backend did not answer, so a paused backend costs a miss one
    // command timeout, not two. A read that failed open resolves as a plain miss; the
    // outages the cache reported meanwhile tell it apart (any outage: during one, skipping a
    // store costs nothing, since the write would wait on the same backend).
    const outages = this.#host.outages();
    return stored.then((s) =>
      this.#decide(
        ctx,
        s === undefined && this.#host.outages() !== outages ? UNANSWERED : s,
        refresh,
        this.#host.now(),
      ),
    );
  }

  #decide(
    ctx: ReadContext,
    read: Read<StoredResponse | undefined>,
    refresh: (() => void) | undefined,
    now: number,
  ): Outcome | Promise<Outcome> {
    const host = this.#host;
    const unanswered = read === UNANSWERED;
    // The read failed open: counted and reported like any other cache failure.
    if (unanswered) host.cacheError('get', ctx.primary, host.lastOutage());
    const found = unanswered ? undefined : read;
    // RFC 9111 §3.5: a request with uncovered credentials is served only what the origin
    // marked as shared; anything else stored under its key was made for someone else.
    const stored =
      found !== undefined && ctx.credentialed && !sharedExplicitly(found, ctx) ? undefined : found;
    const parts = stored?.parts;
    if (parts !== undefined) return this.#decideHeld(ctx, stored!, parts, now, unanswered);
    if (stored !== undefined) {
      const use = usability(stored.info, now, ctx.freshness);
      if (use === 'fresh') {
        host.meter.count('hits');
        return this.#replay(stored, 'HIT', ctx, now);
      }
      if (use === 'max-stale') {
        // RFC 9111 §5.2.1.2: the client accepts this much staleness.
        host.meter.count('stale');
        return this.#replay(stored, 'STALE', ctx, now);
      }
      if (use === 'stale-while-revalidate') {
        // RFC 5861 §3: serve stale while one refresh runs — the adapter's background
        // refresh when it has one, else the request already fetching this key.
        const refreshing = host.flights.get(ctx.primary) !== undefined;
        if (refreshing || refresh !== undefined) {
          if (!refreshing) refresh?.();
          host.meter.count('stale');
          return this.#replay(stored, 'STALE', ctx, now);
        }
      }
    }
    if (ctx.freshness?.onlyIfCached === true) {
      // RFC 9111 §5.2.1.7: nothing usable is stored, and the client forbids asking the origin.
      host.meter.count('misses');
      return { kind: 'replay', response: GATEWAY_TIMEOUT };
    }
    return this.#fetch(ctx, stored, true, unanswered);
  }

  /**
   * A partial entry (RFC 9111 §3.3): it answers only a Range request wholly inside what it
   * holds (or past the known length: 416), and only while usable without the origin; any
   * other request goes to the origin, and a 206 it gets back may be combined with the entry
   * (§3.4, recorder.ts). A stale partial entry is not revalidated: the Range is forwarded.
   */
  #decideHeld(
    ctx: ReadContext,
    stored: StoredResponse,
    parts: HeldParts,
    now: number,
    unanswered: boolean,
  ): Outcome | Promise<Outcome> {
    const host = this.#host;
    if (heldAnswer(parts, stored.headers, ctx.range, ctx.ifRange) !== undefined) {
      const use = usability(stored.info, now, ctx.freshness);
      if (use === 'fresh' || use === 'max-stale') {
        host.meter.count(use === 'fresh' ? 'hits' : 'stale');
        return this.#replay(stored, use === 'fresh' ? 'HIT' : 'STALE', ctx, now);
      }
    }
    if (ctx.freshness?.onlyIfCached === true) {
      host.meter.count('misses');
      return { kind: 'replay', response: GATEWAY_TIMEOUT };
    }
    return this.#fetch(ctx, undefined, true, unanswered, stored);
  }

  /**
   * Starts an origin fetch that stores its result, without reading the cache first: the
   * background refresh of a stale complete entry, so it asks for the whole representation
   * even when the request that triggered it carried a `Range`.
   */
  async refresh(ctx: ReadContext): Promise<Outcome> {
    const outcome = await this.#fetch(ctx, undefined, false);
    return outcome.kind === 'fetch' ? { ...outcome, whole: true } : outcome;
  }

  async #fetch(
    ctx: ReadContext,
    stale: StoredResponse | undefined,
    join: boolean,
    unanswered = false,
    held: StoredResponse | undefined = stale,
  ): Promise<Outcome> {
    const host = this.#host;
    const storing = !ctx.head && !ctx.noStore;
    // A request with uncovered credentials neither joins nor leads a flight: another request's
    // response is not its to take, and its own is rarely shareable.
    const flying = join && !ctx.credentialed ? host.flights.get(ctx.primary) : undefined;
    // Coalescing: a request that insists on the origin (no-cache, max-age=0) never joins.
    const insists =
      ctx.freshness !== undefined && (ctx.freshness.noCache || ctx.freshness.maxAgeMs === 0);
    if (flying !== undefined && host.coalesceWaitMs > 0 && !insists) {
      const shared = await waitFor(flying, host.coalesceWaitMs);
      if (shared !== undefined && 'failure' in shared) {
        return this.#leaderFailed(ctx, stale, shared.failure);
      }
      if (
        shared !== undefined &&
        (shared.varyFields.length === 0 ||
          headerHash(shared.varyFields, ctx.header) === shared.varyHash)
      ) {
        host.meter.count('hits');
        host.meter.count('coalesced');
        return this.#replay(shared.response, 'HIT', ctx, host.now());
      }
    }
    // Lead a flight only when nobody is (a released follower goes alone rather than queue again),
    // and not for a Range: the origin's 206 could not serve the followers.
    const { pathTag, tags } = readTags(ctx);
    const flight =
      storing &&
      !ctx.credentialed &&
      ctx.range === undefined &&
      host.flights.get(ctx.primary) === undefined
        ? host.flights.start(ctx.primary, pathTag)
        : undefined;
    // Without a snapshot the recorder stores nothing ('cache-error'). Taken before the origin
    // is asked: a bump that lands after it makes the write born invalid.
    let snapshot: TagSnapshot | undefined;
    if (storing && !unanswered) {
      try {
        snapshot = await host.cache.tagSnapshot(tags);
      } catch (error) {
        host.cacheError('tagSnapshot', ctx.primary, error);
      }
    }
    // With uncovered credentials the recorder counts a miss or a bypass once the response says
    // whether it is shared.
    if (!ctx.credentialed) host.meter.count('misses');
    // Revalidate rather than refetch when the stored entry has validators (RFC 9111 §4.3.1).
    // A client's own validators are replaced by the cache's (adapters drop the client's), and
    // answered by the recorder from the refreshed entry (§4.3.2).
    const validators = stale !== undefined && storing ? validatorsOf(stale) : undefined;
    const recorder = new Recorder(
      host,
      ctx,
      flight,
      snapshot,
      stale,
      validators !== undefined,
      held,
    );
    return { kind: 'fetch', recorder, validators };
  }

  /**
   * The flight this request waited on ended in a gateway failure (recorder.ts `Failed`): the
   * follower answers as its leader's recorder did — its stale entry within `stale-if-error`
   * (RFC 5861 §4), a `504` behind a stale must-revalidate entry (RFC 9111 §5.2.2.2), else the
   * leader's failure itself — without asking the failing origin again.
   */
  #leaderFailed(
    ctx: ReadContext,
    stale: StoredResponse | undefined,
    failure: StoredResponse,
  ): Outcome {
    const host = this.#host;
    const now = host.now();
    if (stale !== undefined && usableOnError(stale.info, now)) {
      host.meter.count('stale');
      return this.#replay(stale, 'STALE', ctx, now);
    }
    host.meter.count('misses');
    if (stale?.info.mustRevalidate === true) return { kind: 'replay', response: GATEWAY_TIMEOUT };
    const response = replay(failure, {
      xCache: 'MISS',
      head: ctx.head,
      conditions: undefined,
      now,
      withAge: false,
    });
    return { kind: 'replay', response };
  }

  /** Reads the primary key and, behind a vary marker, the variant. */
  #read(ctx: ReadContext): MaybePromise<Read<StoredResponse | undefined>> {
    const found = this.#get(ctx.primary);
    return found instanceof Promise
      ? found.then((decoded) => this.#afterPrimary(ctx, decoded))
      : this.#afterPrimary(ctx, found);
  }

  #afterPrimary(
    ctx: ReadContext,
    found: Read<Decoded>,
  ): MaybePromise<Read<StoredResponse | undefined>> {
    if (found === UNANSWERED) return found;
    if (found?.kind !== 'vary') return found?.response;
    const variant = this.#get(variantKey(ctx.primary, headerHash(found.fields, ctx.header)));
    return variant instanceof Promise ? variant.then(responseOf) : responseOf(variant);
  }

  /**
   * One cache read; a failure is reported and reads as a miss (DESIGN §5), marked
   * {@link UNANSWERED} when the backend did not answer.
   */
  #get(key: string): MaybePromise<Read<Decoded>> {
    const host = this.#host;
    const failed = (error: unknown): Read<Decoded> => {
      host.cacheError('get', key, error);
      return isOutage(error) ? UNANSWERED : undefined;
    };
    try {
      const found = host.read(key);
      if (!(found instanceof Promise)) return found;
      return found.catch(failed);
    } catch (error) {
      return failed(error);
    }
  }

  #replay(stored: StoredResponse, xCache: 'HIT' | 'STALE', ctx: ReadContext, now: number): Outcome {
    return {
      kind: 'replay',
      response: replay(stored, {
        xCache,
        head: ctx.head,
        conditions: ctx.conditions,
        now,
        withAge: true,
        range: ctx.range,
        ifRange: ctx.ifRange,
      }),
    };
  }
}

function responseOf(variant: Read<Decoded>): Read<StoredResponse | undefined> {
  if (variant === UNANSWERED) return variant;
  return variant?.kind === 'response' ? variant.response : undefined;
}
