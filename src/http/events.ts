/**
 * Typed events of the HTTP cache, also published on `node:diagnostics_channel` as
 * `codeai-cache:http:<event>` (only when the channel has subscribers). A plain listener list
 * rather than `EventEmitter`, so an event named like an error never throws when nobody
 * listens, and emitting with no listener costs a property read.
 */
import diagnostics from 'node:diagnostics_channel';

/** What the cache did with one request. */
export type XCache = 'HIT' | 'MISS' | 'STALE' | 'BYPASS';

/** Events `CachingMiddleware` emits; listen with `middleware.on(name, fn)`. */
export interface HttpCacheEvents {
  /** A response was written to the cache. */
  store: { key: string; bytes: number; ttlMs: number; tags: readonly string[] };
  /** A response was not stored, and why. */
  skip: { key: string; reason: string };
  /** Tags were invalidated (after a write, or by `invalidateTags`). */
  invalidate: { tags: readonly string[] };
  /** A cache operation failed; the request was answered by the origin instead. */
  cacheError: { operation: string; key?: string; error: unknown };
}

/** An event name of {@link HttpCacheEvents}. */
export type HttpCacheEventName = keyof HttpCacheEvents;

type Listener<E extends HttpCacheEventName> = (payload: HttpCacheEvents[E]) => void;

/** The `node:diagnostics_channel` name an HTTP cache event is published on. */
export const httpChannelName = (event: HttpCacheEventName): string => `codeai-cache:http:${event}`;

const channels: Record<HttpCacheEventName, diagnostics.Channel> = {
  store: diagnostics.channel(httpChannelName('store')),
  skip: diagnostics.channel(httpChannelName('skip')),
  invalidate: diagnostics.channel(httpChannelName('invalidate')),
  cacheError: diagnostics.channel(httpChannelName('cacheError')),
};

/** A minimal typed event list, owned by one middleware instance. */
export class HttpEvents {
  readonly #listeners: { [E in HttpCacheEventName]?: Listener<E>[] } = {};

  on<E extends HttpCacheEventName>(event: E, listener: Listener<E>): void {
    const list = this.#listeners[event] as Listener<E>[] | undefined;
    if (list === undefined) {
      (this.#listeners as Record<string, Listener<E>[]>)[event] = [listener];
    } else {
      list.push(listener);
    }
  }

  off<E extends HttpCacheEventName>(event: E, listener: Listener<E>): void {
    const list = this.#listeners[event] as Listener<E>[] | undefined;
    if (!list) return;
    const i = list.indexOf(listener);
    if (i !== -1) list.splice(i, 1);
  }

  /** True when someone listens, so callers can skip building a payload. */
  has(event: HttpCacheEventName): boolean {
    const list = this.#listeners[event];
    return (list !== undefined && list.length > 0) || channels[event].hasSubscribers;
  }

  emit<E extends HttpCacheEventName>(event: E, payload: HttpCacheEvents[E]): void {
    const channel = channels[event];
    if (channel.hasSubscribers) channel.publish(payload);
    const list = this.#listeners[event] as Listener<E>[] | undefined;
    if (!list || list.length === 0) return;
    for (const listener of [...list]) {
      try {
        listener(payload);
      } catch (error) {
        // A throwing listener must not break the request being served; report it instead.
        process.emitWarning(`codeai-cache: a "${event}" listener threw: ${String(error)}`);
      }
    }
  }
}
