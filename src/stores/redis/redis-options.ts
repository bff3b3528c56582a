import type { ConnectionOptions } from 'node:tls';
import type { Cluster, Redis } from 'ioredis';
import {
  type BreakerOptions,
  type ResolvedBreakerOptions,
  resolveBreakerOptions,
} from '../../core/breaker.js';
import { type Duration, parseDuration } from '../../core/duration.js';
import { CacheError } from '../../core/errors.js';
import type { CommonCacheOptions } from '../../core/options.js';
import { parseRedisUrl } from './redis-url.js';

/** A Redis node: `{ host, port }` or `"host:port"`. */
export type RedisNode = { host: string; port: number } | string;

/** Options of {@link RedisCache}: where Redis is, how long to wait for it, and the common cache options. */
export interface RedisCacheOptions extends CommonCacheOptions {
  /** `redis://[user:pass@]host:port[/db][?prefix=…&commandTimeout=…]`, or `rediss://` for TLS. */
  url?: string;
  /** Standalone server host (overrides the URL's). Default `127.0.0.1`. */
  host?: string;
  /** Standalone server port (overrides the URL's). Default 6379. */
  port?: number;
  /** ACL user (Redis 6+). */
  username?: string;
  password?: string;
  /** Database number (standalone and Sentinel only; a Cluster has only database 0). */
  db?: number;
  /** `true`, or Node TLS options (CA, client certificate, servername…). */
  tls?: boolean | ConnectionOptions;
  /** Connect to a Redis Cluster through these seed nodes. */
  cluster?: { nodes: readonly RedisNode[] };
  /** Connect through Sentinel: the sentinels to ask and the name of the monitored master. */
  sentinel?: {
    sentinels: readonly RedisNode[];
    name: string;
    /** Credentials of the sentinels themselves, when they differ from the data nodes'. */
    username?: string;
    password?: string;
  };
  /** Every command fails with `TIMEOUT` after this long. Default 1 s. */
  commandTimeout?: Duration;
  /** Deadline for one connection attempt, and for `start()`. Default 2 s. */
  connectTimeout?: Duration;
  /**
   * The circuit breaker: after `threshold` consecutive timeouts or connection errors
   * (default 5), calls fail at once for `cooldown` (default 2 s), then one probe decides.
   * `false` turns it off.
   */
  breaker?: BreakerOptions | false;
  /**
   * An ioredis `Redis` or `Cluster` you already have. The cache uses it as is (its own
   * timeouts and queueing apply) and `stop()` leaves it open: it is yours to close.
   */
  client?: Redis | Cluster;
}

/** The defaults, one line of doc each. */
export const REDIS_DEFAULTS = {
  /** A cache read that takes longer than a second is worse than a miss. */
  commandTimeout: 1_000,
  /** Enough for a TLS handshake across a region; short enough that start() fails fast. */
  connectTimeout: 2_000,
  host: '127.0.0.1',
  port: 6379,
} as const;

/** How the store reaches Redis, after validation. */
export type RedisTarget =
  | { mode: 'standalone'; host: string; port: number }
  | {
      mode: 'sentinel';
      sentinels: { host: string; port: number }[];
      name: string;
      username?: string;
      password?: string;
    }
  | { mode: 'cluster'; nodes: { host: string; port: number }[] }
  | { mode: 'client'; client: Redis | Cluster };

/** {@link RedisCacheOptions} after validation. */
export interface ResolvedRedisOptions {
  target: RedisTarget;
  username: string | undefined;
  password: string | undefined;
  db: number;
  tls: ConnectionOptions | undefined;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  /** `undefined` when the breaker is off. */
  breaker: ResolvedBreakerOptions | undefined;
}

const KNOWN = new Set([
  'defaultTTL',
  'prefix',
  'clock',
  'failOpen',
  'jitter',
  'url',
  'host',
  'port',
  'username',
  'password',
  'db',
  'tls',
  'cluster',
  'sentinel',
  'commandTimeout',
  'connectTimeout',
  'breaker',
  'client',
]);

const invalid = (message: string): CacheError => new CacheError('INVALID_CONFIG', message);

/**
 * Validates the options (naming the option in every error) and merges in the URL: options
 * given explicitly win over the URL's parts and query. Returns the common options to hand
 * to the core alongside the Redis ones.
 */
export function resolveRedisOptions(input: RedisCacheOptions): {
  redis: ResolvedRedisOptions;
  common: CommonCacheOptions;
} {
  if (typeof input !== 'object' || input === null)
    throw invalid('redis cache options must be an object');
  for (const name of Object.keys(input)) {
    if (!KNOWN.has(name)) {
      throw invalid(`unknown redis cache option "${name}" (known: ${[...KNOWN].join(', ')})`);
    }
  }
  const url = input.url === undefined ? undefined : parseRedisUrl(checkString(input.url, 'url'));
  const q = url?.options ?? {};
  const common: CommonCacheOptions = {
    // The URL's text is checked by parseDuration with the other common options. Only an
    // omitted option falls back to the URL: `null` is checked (and refused) as MemoryCache does.
    defaultTTL:
      input.defaultTTL !== undefined ? input.defaultTTL : (q.defaultTTL as Duration | undefined),
    prefix: input.prefix ?? q.prefix,
    clock: input.clock,
    failOpen: input.failOpen ?? q.failOpen,
    jitter: input.jitter ?? q.jitter,
  };
  const commandTimeoutMs = timeout(input.commandTimeout ?? q.commandTimeout, 'commandTimeout');
  const connectTimeoutMs = timeout(input.connectTimeout ?? q.connectTimeout, 'connectTimeout');

  const ways = (['url', 'host', 'cluster', 'sentinel', 'client'] as const).filter(
    (n) => input[n] !== undefined,
  );
  const exclusive = ways.filter((n) => n === 'cluster' || n === 'sentinel' || n === 'client');
  if (exclusive.length > 0 && ways.length > 1) {
    throw invalid(
      `give only one of ${ways.join(' and ')}: they say where Redis is in different ways`,
    );
  }

  const db = input.db ?? url?.db ?? 0;
  if (!Number.isSafeInteger(db) || db < 0)
    throw invalid(`db must be an integer ≥ 0, got ${String(db)}`);
  if (input.cluster !== undefined && db !== 0)
    throw invalid('db must be 0 with cluster: a Redis Cluster has only database 0');

  let tls: ConnectionOptions | undefined;
  const tlsOption = input.tls ?? url?.tls ?? false;
  if (tlsOption === true) tls = {};
  else if (typeof tlsOption === 'object' && tlsOption !== null) tls = tlsOption;
  else if (tlsOption !== false) throw invalid('tls must be a boolean or Node TLS options');

  let target: RedisTarget;
  if (input.client !== undefined) {
    const c = input.client as { sendCommand?: unknown } | null;
    if (typeof c !== 'object' || c === null || typeof c.sendCommand !== 'function') {
      throw invalid('client must be an ioredis Redis or Cluster instance');
    }
    target = { mode: 'client', client: input.client };
  } else if (input.cluster !== undefined) {
    const nodes = input.cluster?.nodes;
    if (!Array.isArray(nodes) || nodes.length === 0)
      throw invalid('cluster.nodes must be a non-empty array of nodes');
    target = { mode: 'cluster', nodes: nodes.map((n, i) => node(n, `cluster.nodes[${i}]`)) };
  } else if (input.sentinel !== undefined) {
    const s = input.sentinel;
    if (!Array.isArray(s?.sentinels) || s.sentinels.length === 0) {
      throw invalid('sentinel.sentinels must be a non-empty array of nodes');
    }
    target = {
      mode: 'sentinel',
      sentinels: s.sentinels.map((n, i) => node(n, `sentinel.sentinels[${i}]`)),
      name: checkString(s.name, 'sentinel.name'),
    };
    if (s.username !== undefined) target.username = checkString(s.username, 'sentinel.username');
    if (s.password !== undefined) target.password = checkString(s.password, 'sentinel.password');
  } else {
    const host = checkString(input.host ?? url?.host ?? REDIS_DEFAULTS.host, 'host');
    const port = input.port ?? url?.port ?? REDIS_DEFAULTS.port;
    target = { mode: 'standalone', host, port: checkPort(port, 'port') };
  }

  const username = input.username ?? url?.username;
  const password = input.password ?? url?.password;
  if (username !== undefined) checkString(username, 'username');
  if (password !== undefined) checkString(password, 'password');
  return {
    redis: {
      target,
      username,
      password,
      db,
      tls,
      commandTimeoutMs,
      connectTimeoutMs,
      breaker: resolveBreakerOptions(input.breaker),
    },
    common,
  };
}

function timeout(
  value: Duration | string | undefined,
  name: 'commandTimeout' | 'connectTimeout',
): number {
  if (value === undefined) return REDIS_DEFAULTS[name];
  let ms: number;
  try {
    ms = parseDuration(value, name);
  } catch (err) {
    throw new CacheError('INVALID_CONFIG', (err as Error).message, { cause: err });
  }
  // 0 would mean "wait forever" to ioredis: exactly what the timeouts are here to prevent.
  if (ms < 1) throw invalid(`${name} must be at least 1 ms, got ${String(value)}`);
  return Math.ceil(ms);
}

function node(value: RedisNode, name: string): { host: string; port: number } {
  if (typeof value === 'string') {
    const colon = value.lastIndexOf(':');
    const host = colon > 0 ? value.slice(0, colon).replace(/^\[(.*)\]$/, '$1') : '';
    const port = Number(value.slice(colon + 1));
    if (host === '' || !/^\d+$/.test(value.slice(colon + 1))) {
      throw invalid(`${name} must be "host:port" or { host, port }, got "${value}"`);
    }
    return { host, port: checkPort(port, name) };
  }
  if (typeof value !== 'object' || value === null)
    throw invalid(`${name} must be "host:port" or { host, port }`);
  return {
    host: checkString(value.host, `${name}.host`),
    port: checkPort(value.port, `${name}.port`),
  };
}

function checkPort(port: unknown, name: string): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw invalid(`${name} must be a port number (1-65535), got ${String(port)}`);
  }
  return port;
}

function checkString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '')
    throw invalid(`${name} must be a non-empty string`);
  return value;
}
