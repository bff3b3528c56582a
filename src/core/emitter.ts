/**
 * The one typed event emitter of the library, used by the core (`CacheEmitter`) and by the
 * HTTP layer (`CachingMiddleware`'s events) alike. Each event is also published on
 * `node:diagnostics_channel`, and only when the channel has subscribers, so the hot path pays
 * two property reads when nobody listens (guard payload construction with `wants`).
 *
 * A plain listener list rather than `EventEmitter`: an event named like an error never throws
 * when nobody listens. A listener that throws must not break the cache operation or the
 * request being served, nor stop the other listeners; it is not swallowed either: the error
 * is reported as a process warning (`process.on('warning')`), naming the event.
 */
import diagnostics from 'node:diagnostics_channel';

type Listener<P> = (payload: P) => void;

/** A typed emitter over the events of `Events` (event name → payload). */
export class Emitter<Events extends object> {
  readonly #listeners: { [E in keyof Events]?: Listener<Events[E]>[] } = {};
  readonly #channels: { [E in keyof Events]: diagnostics.Channel };
  readonly #message: ((payload: object) => object) | undefined;

  /**
   * `channelOf` names each event's diagnostics channel; `message`, when given, turns a
   * payload into what channel subscribers receive (the core adds the cache's name).
   */
  constructor(
    names: readonly (keyof Events & string)[],
    channelOf: (event: keyof Events & string) => string,
    message?: (payload: object) => object,
  ) {
    const channels = {} as { [E in keyof Events]: diagnostics.Channel };
    for (const name of names) channels[name] = diagnostics.channel(channelOf(name));
    this.#channels = channels;
    this.#message = message;
  }

  /** True when an `emit(event, …)` would reach someone. */
  wants(event: keyof Events): boolean {
    return this.#listeners[event] !== undefined || this.#channels[event].hasSubscribers;
  }

  emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    const channel = this.#channels[event];
    if (channel.hasSubscribers) {
      channel.publish(this.#message === undefined ? payload : this.#message(payload as object));
    }
    const list = this.#listeners[event];
    if (list === undefined) return;
    for (const listener of list.slice()) {
      try {
        listener(payload);
      } catch (error) {
        process.emitWarning(
          `codeai-cache: a "${String(event)}" listener threw: ${(error as Error)?.stack ?? String(error)}`,
          { code: 'CODEAI_CACHE_LISTENER' },
        );
      }
    }
  }

  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): void {
    const list = this.#listeners[event];
    if (list === undefined) this.#listeners[event] = [listener];
    else list.push(listener);
  }

  off<E extends keyof Events>(event: E, listener: Listener<Events[E]>): void {
    const list = this.#listeners[event];
    if (list === undefined) return;
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) delete this.#listeners[event];
  }

  once<E extends keyof Events>(event: E, listener: Listener<Events[E]>): void {
    const wrapped: Listener<Events[E]> = (payload) => {
      this.off(event, wrapped);
      listener(payload);
    };
    this.on(event, wrapped);
  }
}
