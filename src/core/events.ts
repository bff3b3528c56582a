import diagnostics from 'node:diagnostics_channel';
import type { CacheEventName, CacheEvents } from './types.js';

type Listener<E extends CacheEventName> = (payload: CacheEvents[E]) => void;
type ListenerMap = { [E in CacheEventName]?: Listener<E>[] };

/** The `node:diagnostics_channel` name each event is published on, e.g. `codeai-cache:hit`. */
export const channelName = (event: CacheEventName): string => `codeai-cache:${event}`;

const CHANNEL_EVENTS = [
  'hit',
  'miss',
  'set',
  'delete',
  'evict',
  'stale',
  'refresh',
  'invalidate',
  'outbox',
  'breaker',
  'error',
] as const satisfies readonly CacheEventName[];

const channels = Object.fromEntries(
  CHANNEL_EVENTS.map((e) => [e, diagnostics.channel(channelName(e))]),
) as { [E in CacheEventName]: diagnostics.Channel };

/** What diagnostics_channel subscribers receive: the event's payload plus the cache's name. */
export type ChannelMessage<E extends CacheEventName> = CacheEvents[E] & { cache: string };

/**
 * Typed events for one cache instance, also published on `node:diagnostics_channel`.
 * `emit` first checks, without allocating, whether anyone listens: the hot path pays two
 * property reads when nobody does.
 */
export class CacheEmitter {
  readonly #listeners: ListenerMap = {};
  readonly #source: string;

  constructor(source: string) {
    this.#source = source;
  }

  /** True when an `emit(event, …)` would reach someone; guard payload construction with it. */
  wants(event: CacheEventName): boolean {
    return this.#listeners[event] !== undefined || channels[event].hasSubscribers;
  }

  emit<E extends CacheEventName>(event: E, payload: CacheEvents[E]): void {
    const list = this.#listeners[event] as Listener<E>[] | undefined;
    if (list !== undefined) {
      for (const fn of list.slice()) {
        try {
          fn(payload);
        } catch {
          // A listener's bug must not break a cache operation; listeners own their errors.
        }
      }
    }
    const channel = channels[event];
    if (channel.hasSubscribers) channel.publish({ ...payload, cache: this.#source });
  }

  on<E extends CacheEventName>(event: E, listener: Listener<E>): void {
    const list = (this.#listeners[event] ?? []) as Listener<E>[];
    list.push(listener);
    (this.#listeners as Record<string, unknown>)[event] = list;
  }

  off<E extends CacheEventName>(event: E, listener: Listener<E>): void {
    const list = this.#listeners[event] as Listener<E>[] | undefined;
    if (list === undefined) return;
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) delete this.#listeners[event];
  }

  once<E extends CacheEventName>(event: E, listener: Listener<E>): void {
    const wrapped: Listener<E> = (payload) => {
      this.off(event, wrapped);
      listener(payload);
    };
    this.on(event, wrapped);
  }
}
