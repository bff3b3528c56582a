/**
 * The one typed event emitter of the library, used by the core (`CacheEmitter`) and by the
 * HTTP layer (`CachingMiddleware`'s events) alike. Each event is also published on
 * `node:diagnostics_channel`, and only when the channel has subscribers, so the hot path pays
 * two field reads when nobody listens (guard payload construction with `wants`, or keep the
 * event's `handle` on a hot path).
 *
 * A plain listener list rather than `EventEmitter`: an event named like an error never throws
 * when nobody listens. A listener that throws must not break the cache operation or the
 * request being served, nor stop the other listeners; it is not swallowed either: the error
 * is reported as a process warning (`process.on('warning')`), naming the event.
 */
import diagnostics from 'node:diagnostics_channel';

type Listener<P> = (payload: P) => void;

/**
 * One event's listeners and diagnostics channel. Hot paths keep the handle of their event
 * (`Emitter.handle`), so asking whether anyone listens is two monomorphic field reads; a
 * lookup by event name goes through a keyed load that every event shares, which V8 leaves
 * megamorphic and which cost a memory `get` hit about a sixth of its time.
 */
export class EventHandle<P> {
  /** The listeners, or `undefined` when there are none (never an empty list). */
  list: Listener<P>[] | undefined = undefined;
  readonly #event: string;
  readonly #channel: diagnostics.Channel | undefined;
  readonly #message: ((payload: object) => object) | undefined;

  constructor(
    event: string,
    channel: diagnostics.Channel | undefined,
    message: ((payload: object) => object) | undefined,
  ) {
    this.#event = event;
    this.#channel = channel;
    this.#message = message;
  }

  /** True when an `emit` would reach someone. */
  get wanted(): boolean {
    return this.list !== undefined || this.#channel?.hasSubscribers === true;
  }

  emit(payload: P): void {
    const channel = this.#channel;
    if (channel?.hasSubscribers) {
      channel.publish(this.#message === undefined ? payload : this.#message(payload as object));
    }
    const list = this.list;
    if (list === undefined) return;
    for (const listener of list.slice()) {
      try {
        listener(payload);
      } catch (error) {
        process.emitWarning(
          `codeai-cache: a "${this.#event}" listener threw: ${(error as Error)?.stack ?? String(error)}`,
          { code: 'CODEAI_CACHE_LISTENER' },
        );
      }
    }
  }
}

type Handles<Events extends object> = { [E in keyof Events]: EventHandle<Events[E]> };

/** A typed emitter over the events of `Events` (event name → payload). */
export class Emitter<Events extends object> {
  readonly #handles: Map<keyof Events, EventHandle<Events[keyof Events]>>;
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
    this.#message = message;
    this.#handles = new Map();
    for (const name of names) {
      this.#handles.set(name, new EventHandle(name, diagnostics.channel(channelOf(name)), message));
    }
  }

  /** The handle of `event`, to keep on a hot path (see {@link EventHandle}). */
  handle<E extends keyof Events>(event: E): Handles<Events>[E] {
    let handle = this.#handles.get(event);
    if (handle === undefined) {
      // An event without a diagnostics channel: listeners only.
      handle = new EventHandle(String(event), undefined, this.#message);
      this.#handles.set(event, handle);
    }
    return handle as Handles<Events>[E];
  }

  /** True when an `emit(event, …)` would reach someone. */
  wants(event: keyof Events): boolean {
    return this.handle(event).wanted;
  }

  emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    this.handle(event).emit(payload);
  }

  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): void {
    const handle = this.handle(event);
    if (handle.list === undefined) handle.list = [listener];
    else handle.list.push(listener);
  }

  off<E extends keyof Events>(event: E, listener: Listener<Events[E]>): void {
    const handle = this.handle(event);
    const list = handle.list;
    if (list === undefined) return;
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) handle.list = undefined;
  }

  once<E extends keyof Events>(event: E, listener: Listener<Events[E]>): void {
    const wrapped: Listener<Events[E]> = (payload) => {
      this.off(event, wrapped);
      listener(payload);
    };
    this.on(event, wrapped);
  }
}
