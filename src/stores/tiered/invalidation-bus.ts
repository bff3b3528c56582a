/**
 * The invalidation bus: how every TieredCache sharing a Redis (and a prefix) keeps its L1
 * coherent.
 *
 * **Choice.** Plain Redis Pub/Sub on one channel per prefix. Each write, delete, pattern
 * delete, clear, incr/decr and tag invalidation publishes one small message naming what
 * changed (keys, a glob, tags, or everything), never a value; every instance subscribed on
 * the channel drops the matching L1 entries. Messages carry the sender's random instance id
 * so it skips its own (it already dropped them). Measured against the alternatives (README,
 * "TieredCache"): sharded Pub/Sub (`SPUBLISH`) routes one channel to one shard, so it buys
 * nothing for a single invalidation channel and needs a subscriber per shard for more;
 * server-assisted client-side caching (`CLIENT TRACKING … BCAST PREFIX`) needs tracking on
 * every connection of every master and sends one message per modified key — a `clear()` or
 * `deletePattern` of 10,000 keys is 10,000 messages, a tag invalidation only a tag-key
 * change we would have to map back — while one message per operation here covers globs and
 * tags as they were asked.
 *
 * **Ordering.** The message is published after Redis answered the write, so an instance
 * that drops its copy on the message and reads again finds the new value. Pub/Sub is
 * at-most-once: a message published while an instance's subscriber is disconnected is lost
 * for it. So the bus reports when its subscription drops (`onDown`: the store stops filling
 * L1 from Redis) and when it is back (`onResync`: the store clears its L1, since it may have
 * missed anything in between, then fills again). Staleness is therefore bounded by how long
 * the drop takes to notice (the socket closing; a silent network partition can take the
 * OS's TCP timeout) and, in any case, by `l1.ttl`. On a Cluster the subscriber is a plain
 * connection to one node that we watch ourselves (see `#connect`), so a killed subscriber
 * is noticed there too, not only a node leaving the cluster.
 */
import { randomUUID } from 'node:crypto';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { CacheError } from '../../core/errors.js';
import { closeNow, isCluster, retryDelay } from '../redis/connect.js';

/** Reconnect attempts to one Cluster node before the subscription moves to another. */
const NODE_RETRIES = 3;

const nodeKey = (n: Redis): string => `${n.options.host}:${n.options.port}`;

/** What changed, as one message says. */
export type Invalidation =
  | { readonly keys: readonly string[] }
  | { readonly pattern: string }
  | { readonly tags: readonly string[] }
  | { readonly all: true };

/** What the bus needs from its store. */
export interface BusHost {
  /** The store's command client, ready or not yet (undefined before the first connection). */
  client(): Redis | Cluster | undefined;
  /** The store's client once connected, to open the subscriber from. */
  connected(): Promise<Redis | Cluster>;
  /** Another instance changed something. */
  onMessage(change: Invalidation): void;
  /** The subscription dropped: invalidations may be missed from now on. */
  onDown(): void;
  /** The subscription is back after a drop: anything may have been missed. */
  onResync(): void;
  onError(operation: string, err: unknown): void;
}

interface Wire {
  /** The sending instance. */
  i: string;
  k?: string[];
  p?: string;
  t?: string[];
  a?: 1;
}

/** One instance's subscription to its prefix's invalidation channel. */
export class InvalidationBus {
  /** This instance's id, carried by every message it sends. */
  readonly id = randomUUID();
  readonly channel: string;
  readonly #host: BusHost;
  #sub: Redis | undefined;
  #opening: Promise<void> | undefined;
  #live = false;
  #stopped = false;
  /** Messages published by this instance, and those received from others. */
  readonly counts = { published: 0, received: 0, resyncs: 0 };

  constructor(prefix: string, host: BusHost) {
    this.channel = `__codeai:tiered:${prefix}`;
    this.#host = host;
  }

  /** True while the subscription is confirmed: no invalidation can be missed. */
  get live(): boolean {
    return this.#live;
  }

  /** Opens the subscriber and confirms the subscription; rejects with `CONNECTION` when it cannot. */
  start(): Promise<void> {
    this.#stopped = false;
    this.#opening ??= this.#open().catch((err: unknown) => {
      this.#opening = undefined;
      this.#close();
      throw new CacheError('CONNECTION', `could not subscribe to ${this.channel}`, { cause: err });
    });
    return this.#opening;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#opening = undefined;
    this.#close();
  }

  /**
   * Tells the other instances; fire and forget (the write it follows has landed). A failure
   * is reported: those instances keep their copy until `l1.ttl` or their next resync.
   */
  publish(change: Invalidation): void {
    const c = this.#host.client();
    if (c === undefined || c.status !== 'ready') {
      this.#host.onError('publish', new CacheError('CONNECTION', 'redis is not connected'));
      return;
    }
    const wire: Wire = { i: this.id };
    if ('keys' in change) wire.k = [...change.keys];
    else if ('pattern' in change) wire.p = change.pattern;
    else if ('tags' in change) wire.t = [...change.tags];
    else wire.a = 1;
    this.counts.published++;
    c.publish(this.channel, JSON.stringify(wire)).catch((err: unknown) =>
      this.#host.onError('publish', err),
    );
  }

  async #open(): Promise<void> {
    const client = await this.#host.connected();
    if (this.#stopped) throw new CacheError('STOPPED', 'the cache was stopped');
    const sub = this.#connect(client);
    await sub.subscribe(this.channel);
    this.#live = true;
  }

  /**
   * A subscriber connection of its own (a subscribed RESP2 connection cannot send other
   * commands), named so `CLIENT LIST` shows it. On a Cluster, a plain connection to one
   * node, not `Cluster.duplicate()`: PUBLISH reaches every node, so one node is enough,
   * and ioredis's cluster subscriber replaces a lost connection silently (no `close` nor
   * `reconnecting` reaches the Cluster's listeners), so a drop — and the invalidations
   * lost with it — went unnoticed and the L1 was never cleared. Here a lost node
   * connection is retried a few times, then moved to another node.
   */
  #connect(client: Redis | Cluster, avoid?: string): Redis {
    const override = { connectionName: `codeai-cache:bus:${this.id}` };
    let sub: Redis;
    if (isCluster(client)) {
      const nodes = client.nodes('all');
      const others = nodes.filter((n) => nodeKey(n) !== avoid);
      const pool = others.length > 0 ? others : nodes;
      const node = pool[Math.floor(Math.random() * pool.length)];
      if (node === undefined) throw new CacheError('CONNECTION', 'no cluster node known');
      const options: Partial<RedisOptions> = {
        ...override,
        retryStrategy: (attempt) => (attempt > NODE_RETRIES ? null : retryDelay(attempt)),
      };
      sub = node.duplicate(options) as Redis;
      sub.on('end', () => this.#move(client, sub));
    } else {
      sub = client.duplicate(override);
    }
    this.#sub = sub;
    sub.on('error', (err: unknown) => this.#host.onError('subscribe', err));
    sub.on('message', (channel: string, text: string) => {
      if (channel === this.channel) this.#receive(text);
    });
    for (const event of ['close', 'reconnecting', 'end']) sub.on(event, () => this.#down());
    // After a drop, ioredis reconnects (and resubscribes); we subscribe again ourselves so
    // the resync follows a confirmed subscription, not merely an open socket.
    sub.on('ready', () => this.#resubscribe(sub));
    return sub;
  }

  /** A Cluster node's connection gave up: subscribe on another node (after a short pause). */
  #move(client: Cluster, from: Redis): void {
    if (this.#stopped || this.#sub !== from) return;
    const timer = setTimeout(() => {
      if (this.#stopped || this.#sub !== from) return;
      closeNow(from);
      try {
        this.#connect(client, nodeKey(from))
          .connect()
          .catch(() => {}); // Failures arrive as events.
      } catch (err) {
        this.#host.onError('subscribe', err);
        this.#sub = undefined;
        this.#opening = undefined; // The next start() (or operation) tries afresh.
      }
    }, retryDelay(1));
    timer.unref();
  }

  #resubscribe(sub: Redis | Cluster): void {
    if (this.#live || this.#stopped || this.#sub !== sub) return;
    sub.subscribe(this.channel).then(
      () => {
        if (this.#sub !== sub || this.#stopped || this.#live) return;
        this.counts.resyncs++;
        this.#live = true;
        this.#host.onResync();
      },
      (err: unknown) => this.#host.onError('subscribe', err),
    );
  }

  #down(): void {
    if (!this.#live) return;
    this.#live = false;
    this.#host.onDown();
  }

  #receive(text: string): void {
    let wire: Wire;
    try {
      wire = JSON.parse(text) as Wire;
    } catch (err) {
      this.#host.onError('invalidation', err);
      return;
    }
    if (wire.i === this.id) return;
    this.counts.received++;
    if (wire.k !== undefined) this.#host.onMessage({ keys: wire.k });
    else if (wire.p !== undefined) this.#host.onMessage({ pattern: wire.p });
    else if (wire.t !== undefined) this.#host.onMessage({ tags: wire.t });
    else this.#host.onMessage({ all: true });
  }

  #close(): void {
    const sub = this.#sub;
    this.#sub = undefined;
    this.#live = false;
    // Destroyed, not only disconnected: with Redis paused a half-closed socket would hold
    // the process open until ioredis gives up on it.
    if (sub !== undefined) closeNow(sub);
  }
}
