/**
 * One store's connection to Redis: creates the client on first need (so a cache that is
 * never used never connects), verifies it on `start()`, reports its health, closes what it
 * opened on `stop()` — and never closes a client the user handed in.
 *
 * `usable()` is the per-command gate: a client that is `ready` passes at once (the hot
 * path is one property read); one that is between reconnect attempts fails fast with
 * `CONNECTION` instead of queueing callers behind a server we know is gone; one that is
 * still connecting lets the command queue, where the store's deadline sweep bounds the
 * wait (deadlines.ts; a Cluster that has not mapped its slots yet holds commands before
 * they are sent, so the store adds a deadline there).
 */
import type { Cluster, Redis } from 'ioredis';
import { timerDelay } from '../../core/duration.js';
import { abortError, CacheError } from '../../core/errors.js';
import type { HealthReport } from '../../core/types.js';
import { createClient, isCluster } from './connect.js';
import { CommandDeadlines } from './deadlines.js';
import { notConnected, toCacheError } from './redis-errors.js';
import type { ResolvedRedisOptions } from './redis-options.js';

type Client = Redis | Cluster;

const GONE = new Set(['reconnecting', 'close', 'end', 'disconnecting']);

/** The longest `stop()` waits for QUIT: a healthy server answers in well under a millisecond. */
const QUIT_DEADLINE_MS = 250;
/** How long `stop()` waits for the server to close its side before destroying the socket. */
const END_GRACE_MS = 100;

/** A store's client and its lifecycle. */
export class RedisConnection {
  readonly #options: ResolvedRedisOptions;
  readonly #onError: (err: unknown) => void;
  readonly #owned: boolean;
  /** The timeout of every command our own clients send (a user's client keeps its own). */
  readonly #deadlines: CommandDeadlines;
  #client: Client | undefined;
  #creating: Promise<Client> | undefined;
  #stopped = false;
  /** The client's last reported error: the cause of a fast failure while it reconnects. */
  #lastError: unknown;

  constructor(options: ResolvedRedisOptions, onError: (err: unknown) => void) {
    this.#options = options;
    this.#onError = (err) => {
      this.#lastError = err;
      onError(err);
    };
    this.#owned = options.target.mode !== 'client';
    this.#deadlines = new CommandDeadlines(options.commandTimeoutMs);
  }

  /** The client when it exists and is ready: the hot path's only check. */
  get ready(): Client | undefined {
    const c = this.#client;
    return c !== undefined && c.status === 'ready' ? c : undefined;
  }

  /** The client once created, whatever its state (undefined before first use and after stop). */
  get current(): Client | undefined {
    return this.#client;
  }

  /** `standalone`, `sentinel`, `cluster`, or `client` (one the user handed in). */
  get mode(): string {
    return this.#options.target.mode;
  }

  /** The client for a command now: created if needed; rejects at once while Redis is known to be down. */
  async usable(): Promise<Client> {
    const c = this.#client ?? (await this.#create());
    if (GONE.has(c.status)) throw notConnected(c.status, this.#lastError);
    return c;
  }

  /** The client once it is `ready` (waiting at most `connectTimeout`), for multi-step operations. */
  async connected(signal?: AbortSignal): Promise<Client> {
    const c = await this.usable();
    if (c.status !== 'ready') await this.#untilReady(c, this.#options.connectTimeoutMs, signal);
    return c;
  }

  /** Connects and verifies with a PING; rejects with `CONNECTION` (and forgets the client) when it cannot. */
  async start(signal?: AbortSignal): Promise<void> {
    this.#stopped = false; // start() after stop() reconnects, as the core allows
    this.#deadlines.resume();
    try {
      const c = this.#client ?? (await this.#create());
      if (c.status !== 'ready')
        await this.#untilReady(c, this.#options.connectTimeoutMs, signal, true);
      await c.ping();
    } catch (err) {
      if (this.#owned) this.#drop();
      if (err instanceof CacheError && err.code === 'ABORTED') throw err;
      const cause = toCacheError(err, 'start');
      throw new CacheError(
        'CONNECTION',
        `could not connect to redis (${this.mode}): ${cause.message}`,
        {
          cause: err,
        },
      );
    }
  }

  /**
   * Closes the client if we created it: QUIT (so replies to commands already sent arrive),
   * then a hard disconnect. Bounded whatever Redis does: QUIT gets at most
   * {@link QUIT_DEADLINE_MS} (none when `down`: Redis is known not to answer), and sockets
   * a silent server never closes are destroyed rather than waited for.
   */
  async stop(down = false): Promise<void> {
    this.#stopped = true;
    try {
      await this.#close(down);
    } finally {
      // After the close: commands still waiting have been rejected by the disconnect.
      this.#deadlines.stop();
    }
  }

  async #close(down: boolean): Promise<void> {
    const c = this.#client;
    if (c === undefined) return;
    if (!this.#owned) {
      c.off('error', this.#onError);
      return;
    }
    this.#client = undefined;
    this.#creating = undefined;
    c.off('error', this.#onError);
    c.on('error', () => {}); // Late socket errors during the close are expected, not news.
    const ended = new Promise<void>((resolve) => {
      if (c.status === 'end') resolve();
      else c.once('end', () => resolve());
    });
    const grace = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
    // Commands issued just before stop() (a getOrSet's write, say) leave ahead of QUIT in
    // any case (one socket, in order); one turn of the loop also lets work already queued
    // to send one more do so before the connection closes.
    await new Promise((r) => setImmediate(r));
    if (c.status === 'ready' && !down) {
      const quitMs = Math.min(this.#options.commandTimeoutMs, QUIT_DEADLINE_MS);
      await Promise.race([c.quit().catch(() => {}), grace(quitMs)]);
    }
    // Taken before disconnect(), which empties a Cluster's node list.
    const nodes = isCluster(c) ? c.nodes() : [c];
    // Between reconnect attempts a standalone client has no socket: disconnect() only
    // cancels the next attempt, and no `end` event follows. Nothing is left to wait for.
    const socketless = !isCluster(c) && GONE.has(c.status);
    c.disconnect();
    if (socketless) return;
    // disconnect() half-closes the socket and ioredis waits 2 s for the server to close its
    // side; a paused server never does. Give it a moment, then destroy what is left, so
    // the process can exit right after.
    await Promise.race([ended, grace(END_GRACE_MS)]);
    if (c.status !== 'end') {
      for (const node of nodes) node.stream?.destroy();
      await Promise.race([ended, grace(END_GRACE_MS)]);
    }
  }

  /** Round-trip latency to every master (one for standalone and Sentinel). */
  async health(): Promise<HealthReport> {
    let c: Client;
    try {
      c = await this.usable();
    } catch (err) {
      return { status: 'unhealthy', error: (err as Error).message, details: { mode: this.mode } };
    }
    if (c.status !== 'ready') {
      await this.#untilReady(c, this.#options.connectTimeoutMs).catch(() => {});
    }
    const nodes = isCluster(c) ? c.nodes('master') : [c];
    const pings = await Promise.all(nodes.map((n) => timedPing(n)));
    const up = pings.filter((p) => p.ok);
    const latencies = up.map((p) => p.latencyMs);
    const details: Record<string, unknown> = {
      mode: this.mode,
      state: c.status,
      latencyMs: latencies.length > 0 ? Math.max(...latencies) : undefined,
    };
    if (isCluster(c)) details.masters = pings;
    if (nodes.length > 0 && up.length === nodes.length) return { status: 'healthy', details };
    const failed = pings.find((p) => !p.ok);
    const error = failed?.error ?? `no reachable node (state ${c.status})`;
    return { status: up.length > 0 ? 'degraded' : 'unhealthy', error, details };
  }

  async #create(): Promise<Client> {
    if (this.#stopped) throw new CacheError('STOPPED', 'the cache was stopped');
    this.#creating ??= createClient(this.#options).then((c) => {
      if (this.#stopped) {
        // stop() ran while ioredis was loading: never leave a client behind it.
        this.#creating = undefined;
        throw new CacheError('STOPPED', 'the cache was stopped');
      }
      c.on('error', this.#onError);
      this.#client = this.#owned ? this.#deadlines.watch(c) : c;
      return c;
    });
    try {
      return await this.#creating;
    } catch (err) {
      this.#creating = undefined;
      throw new CacheError(
        'CONNECTION',
        `could not load the redis client: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }

  /** Forgets a client that failed to start, so the next call begins afresh. */
  #drop(): void {
    const c = this.#client;
    this.#client = undefined;
    this.#creating = undefined;
    if (c !== undefined) {
      c.off('error', this.#onError);
      c.disconnect();
    }
  }

  /**
   * Resolves once `c` is ready, within `ms`. With `failFast` (start), a failed attempt —
   * the client going back to `reconnecting`, or giving up — rejects at once with its error:
   * a refused connection is an answer, not a reason to wait out the deadline.
   */
  #untilReady(c: Client, ms: number, signal?: AbortSignal, failFast = false): Promise<void> {
    if (c.status === 'wait') c.connect().catch(() => {}); // Failures surface as events and the deadline.
    return new Promise<void>((resolve, reject) => {
      let lastError: unknown;
      const done = (err?: unknown): void => {
        clearTimeout(timer);
        c.off('ready', onReady);
        c.off('error', onError);
        c.off('reconnecting', onFailed);
        c.off('end', onFailed);
        signal?.removeEventListener('abort', onAbort);
        if (err === undefined) resolve();
        else reject(err);
      };
      const onReady = (): void => done();
      const onError = (err: unknown): void => {
        lastError = err;
      };
      // An attempt that failed before we listened still has its reason in #lastError.
      const onFailed = (): void => done(lastError ?? notConnected(c.status, this.#lastError));
      const onAbort = (): void => done(abortError(signal as AbortSignal));
      const timer = setTimeout(() => {
        const why = lastError instanceof Error ? `: ${lastError.message}` : '';
        done(
          new CacheError('CONNECTION', `redis not ready after ${ms} ms (state: ${c.status})${why}`),
        );
      }, timerDelay(ms));
      c.on('ready', onReady);
      c.on('error', onError);
      if (failFast) {
        c.on('reconnecting', onFailed);
        c.on('end', onFailed);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      if (c.status === 'ready') done();
    });
  }
}

interface Ping {
  node: string;
  ok: boolean;
  latencyMs: number;
  error?: string;
}

async function timedPing(node: Redis): Promise<Ping> {
  const name = `${node.options.host ?? '?'}:${node.options.port ?? '?'}`;
  const started = performance.now();
  try {
    await node.ping();
    return { node: name, ok: true, latencyMs: round(performance.now() - started) };
  } catch (err) {
    return {
      node: name,
      ok: false,
      latencyMs: round(performance.now() - started),
      error: (err as Error).message,
    };
  }
}

const round = (ms: number): number => Math.round(ms * 100) / 100;
