/**
 * Builds the ioredis client for a {@link ResolvedRedisOptions}, with the settings that make
 * a dead or stuck Redis fail fast instead of hanging callers:
 *
 * - a deadline on every command, including ones queued while (re)connecting: a caller
 *   never waits longer than `commandTimeout` (plus one sweep tick) for one command. Not
 *   ioredis's `commandTimeout`, which arms a timer per command: one sweep per store
 *   watches every command in flight (see deadlines.ts).
 * - `maxRetriesPerRequest: 0`: when a connection drops, commands in flight and queued are
 *   rejected at once rather than carried to the next connection. Replaying them could
 *   apply an INCR twice, and their callers have usually given up anyway.
 * - `autoResendUnfulfilledCommands: false`, for the same reason.
 * - reconnection with a short capped backoff (50 ms doubling to 1 s), so a restarted Redis
 *   is used again within about a second, with no restart of the application.
 * - `READONLY` replies (a Sentinel failover demoted our master) force a reconnect, which
 *   asks the sentinels for the new master; `failoverDetector` reacts to the sentinels'
 *   `+switch-master` before any command hits the old one.
 * - not ioredis's auto-pipelining, which defers every command to the next `setImmediate`:
 *   commands sent while others are in flight share one socket write, and a command on an
 *   idle connection is written at once (see write-batching.ts; standalone and Sentinel).
 * - a refused connection step is fatal to that connection (see {@link failRefusedSetup}):
 *   ioredis only reports a refused `SELECT` and goes on, on database 0.
 * - `disconnectTimeout` of {@link DISCONNECT_MS}: after `disconnect()` ioredis keeps a
 *   (ref'd) timer until the server closes its side, 2 s by default — a paused server never
 *   does, and a socket that was already closed (the client was reconnecting) never clears
 *   it, so the process could not exit for 2 s after `stop()`.
 *
 * ioredis is loaded with a dynamic `import()` the first time a client is needed, so the
 * package's root entry costs nothing to applications that never use Redis.
 */
import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import type { ResolvedRedisOptions } from './redis-options.js';
import { batchWrites } from './write-batching.js';

/** The ioredis module, imported on first use (the module system caches it after that). */
export function loadIoredis(): Promise<{ Redis: typeof Redis; Cluster: typeof Cluster }> {
  return import('ioredis');
}

/** How long ioredis waits after `disconnect()` for the server to close its side before destroying the socket. */
export const DISCONNECT_MS = 100;

/** Reconnect delay: 50 ms, doubling, capped at 1 s, with a little jitter so clients spread out. */
export function retryDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt - 1, 5), 1_000) + Math.floor(Math.random() * 50);
}

/** Options shared by every connection we open (data nodes and the subscriber). */
export function connectionOptions(o: ResolvedRedisOptions): RedisOptions {
  const options: RedisOptions = {
    connectTimeout: o.connectTimeoutMs,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    enableAutoPipelining: false,
    lazyConnect: true,
    disconnectTimeout: DISCONNECT_MS,
    retryStrategy: retryDelay,
    reconnectOnError: (err) => err.message.startsWith('READONLY'),
    db: o.db,
  };
  if (o.username !== undefined) options.username = o.username;
  if (o.password !== undefined) options.password = o.password;
  if (o.tls !== undefined) options.tls = o.tls;
  return options;
}

/** A new client for `o` (not for `mode: 'client'`, which brings its own). Not yet connected. */
export async function createClient(o: ResolvedRedisOptions): Promise<Redis | Cluster> {
  const { Redis, Cluster } = await loadIoredis();
  const base = connectionOptions(o);
  const t = o.target;
  switch (t.mode) {
    case 'standalone':
      return batchWrites(failRefusedSetup(new Redis({ ...base, host: t.host, port: t.port })));
    case 'sentinel': {
      const options: RedisOptions = {
        ...base,
        sentinels: t.sentinels,
        name: t.name,
        failoverDetector: true,
        sentinelCommandTimeout: o.connectTimeoutMs,
        sentinelRetryStrategy: retryDelay,
      };
      if (t.username !== undefined) options.sentinelUsername = t.username;
      if (t.password !== undefined) options.sentinelPassword = t.password;
      return batchWrites(failRefusedSetup(new Redis(options)));
    }
    case 'cluster': {
      const { retryStrategy: _r, db: _db, ...nodeOptions } = base;
      const options: ClusterOptions = {
        redisOptions: nodeOptions,
        enableAutoPipelining: false,
        lazyConnect: true,
        clusterRetryStrategy: retryDelay,
        slotsRefreshTimeout: o.connectTimeoutMs,
        scaleReads: 'master',
      };
      return new Cluster(t.nodes, options);
    }
    case 'client':
      return t.client;
  }
}

/**
 * Makes a refused connection step end that connection attempt, as a refused `AUTH` or
 * `HELLO` already does in ioredis. ioredis answers a refused `SELECT` (`ERR DB index is
 * out of range`) with an `error` event and then declares the connection ready — on
 * database 0, where every command would then read and write someone else's keys. Here the
 * reply is treated like a refused `AUTH`: the commands queued behind the handshake are
 * rejected with the server's reply, and the connection is closed and retried with the
 * usual backoff, so `start()` rejects, `health()` reports it and no command ever runs on
 * the wrong database.
 *
 * The `error` event is the only hook: ioredis runs the handshake internally. A reply
 * error emitted while the client is in its `connect` state (handshake and ready check,
 * before any of our commands may be written) can only be a setup step's; `CLIENT SETINFO`
 * / `SETNAME` refusals (older servers) are swallowed by ioredis and never reach us, and
 * they are harmless.
 */
export function failRefusedSetup(client: Redis): Redis {
  const handled = new WeakSet<object>();
  // Prepended so it acts before any other listener learns of the error.
  client.prependListener('error', (err: unknown) => {
    if (client.status !== 'connect' || !isReplyError(err) || handled.has(err)) return;
    handled.add(err);
    client.recoverFromFatalError(err, err, {});
  });
  return client;
}

/** A reply the server sent (as opposed to a socket or client-side error). */
export function isReplyError(err: unknown): err is Error & { command?: { name?: string } } {
  return err instanceof Error && err.name === 'ReplyError';
}

/**
 * Closes a client at once, for connections with nothing in flight worth waiting for (the
 * flights' subscriber): disconnects and destroys every socket rather than waiting for a
 * server that may never close its side.
 */
export function closeNow(client: Redis | Cluster): void {
  // Taken before disconnect(), which empties a Cluster's node list.
  const nodes = isCluster(client) ? client.nodes() : [client];
  client.disconnect();
  for (const node of nodes) node.stream?.destroy();
}

/** True for an ioredis `Cluster` (its commands route by slot; multi-key commands must not span slots). */
export function isCluster(client: Redis | Cluster): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}
