/**
 * Builds the ioredis client for a {@link ResolvedRedisOptions}, with the settings that make
 * a dead or stuck Redis fail fast instead of hanging callers:
 *
 * - `commandTimeout` on every command, including ones queued while (re)connecting: a
 *   caller never waits longer than that for one command.
 * - `maxRetriesPerRequest: 0`: when a connection drops, commands in flight and queued are
 *   rejected at once rather than carried to the next connection. Replaying them could
 *   apply an INCR twice, and their callers have usually given up anyway.
 * - `autoResendUnfulfilledCommands: false`, for the same reason.
 * - reconnection with a short capped backoff (50 ms doubling to 1 s), so a restarted Redis
 *   is used again within about a second, with no restart of the application.
 * - `READONLY` replies (a Sentinel failover demoted our master) force a reconnect, which
 *   asks the sentinels for the new master; `failoverDetector` reacts to the sentinels'
 *   `+switch-master` before any command hits the old one.
 * - auto-pipelining: commands issued in the same tick share one write, the biggest single
 *   factor in throughput with many requests in flight.
 *
 * ioredis is loaded with a dynamic `import()` the first time a client is needed, so the
 * package's root entry costs nothing to applications that never use Redis.
 */
import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import type { ResolvedRedisOptions } from './redis-options.js';

/** The ioredis module, imported on first use (the module system caches it after that). */
export function loadIoredis(): Promise<{ Redis: typeof Redis; Cluster: typeof Cluster }> {
  return import('ioredis');
}

/** Reconnect delay: 50 ms, doubling, capped at 1 s, with a little jitter so clients spread out. */
export function retryDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt - 1, 5), 1_000) + Math.floor(Math.random() * 50);
}

/** Options shared by every connection we open (data nodes and the subscriber). */
export function connectionOptions(o: ResolvedRedisOptions): RedisOptions {
  const options: RedisOptions = {
    commandTimeout: o.commandTimeoutMs,
    connectTimeout: o.connectTimeoutMs,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    enableAutoPipelining: true,
    lazyConnect: true,
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
      return new Redis({ ...base, host: t.host, port: t.port });
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
      return new Redis(options);
    }
    case 'cluster': {
      const { retryStrategy: _r, db: _db, ...nodeOptions } = base;
      const options: ClusterOptions = {
        redisOptions: nodeOptions,
        enableAutoPipelining: true,
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

/** True for an ioredis `Cluster` (its commands route by slot; multi-key commands must not span slots). */
export function isCluster(client: Redis | Cluster): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}
