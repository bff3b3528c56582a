/**
 * RedisCache beyond the conformance suite: construction through createCache without
 * connecting, a client the user owns, clear() and tags, a cache without a prefix (it owns
 * the database), and pattern deletes made of bounded commands only.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Cache, createCache, RedisCache } from '../../src/index.js';
import { resolveRedisOptions } from '../../src/stores/redis/redis-options.js';
import { RedisStore } from '../../src/stores/redis/redis-store.js';
import { SCAN_COUNT } from '../../src/stores/redis/scan.js';
import { type RedisServer, startRedis } from '../harness/redis.js';
import { connectionFor } from './util.js';

/** A SLOWLOG entry: id, unix time, duration in µs, argv, client address, client name. */
type SlowEntry = [number, number, number, Buffer[], Buffer, Buffer];

/** Room for every command of a 100k-key deletePattern (about 130 SCANs and as many UNLINKs). */
const SLOWLOG_MAX_LEN = 100_000;

/**
 * Most keys one UNLINK may carry: one SCAN reply. COUNT is a hint — a SCAN returns whole
 * hash buckets, so a reply can run a few keys past it, never anywhere near all 100k.
 */
const MAX_BATCH_KEYS = 2 * SCAN_COUNT;

/**
 * A command as SLOWLOG recorded it. SLOWLOG keeps at most 32 arguments and replaces the rest
 * with one "... (N more arguments)", so the true argument count is rebuilt from that.
 */
function describeCommand(argv: readonly Buffer[]) {
  const args = argv.map(String);
  const more = /^\.\.\. \((\d+) more arguments\)$/.exec(args.at(-1) ?? '');
  const argc = more ? args.length - 1 + Number(more[1]) : args.length;
  const countAt = args.findIndex((a) => a.toUpperCase() === 'COUNT');
  return {
    name: (args[0] ?? '').toLowerCase(),
    argc,
    count: countAt >= 0 ? Number(args[countAt + 1]) : undefined,
    text: `${args.slice(0, 6).join(' ')}${args.length > 6 ? ' …' : ''} (${argc} arguments)`,
  };
}

const stopped: (Cache | Redis)[] = [];
afterEach(async () => {
  for (const c of stopped.splice(0)) {
    if (c instanceof Redis) c.disconnect();
    else await c.stop();
  }
});

describe('createCache with Redis', () => {
  it('validates synchronously and does not connect', async () => {
    const cache = createCache(
      'redis://127.0.0.1:1/0?prefix=app&commandTimeout=250ms',
    ) as RedisCache;
    stopped.push(cache);
    expect(cache).toBeInstanceOf(RedisCache);
    expect(cache.name).toBe('redis');
    expect(cache.client).toBeUndefined(); // nothing opened, not even a client object
    expect(() => createCache('redis://h?prefx=1')).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
    expect(() => createCache({ type: 'redis', nope: 1 } as never)).toThrow(
      /unknown redis cache option "nope"/,
    );
    expect(() => createCache('redis://h:99999')).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
  });

  it('connects from a redis:// URL with its query options', async () => {
    const prefix = `url-${randomUUID()}`;
    const cache = createCache(
      `${connectionFor('standalone').url}/0?prefix=${prefix}&defaultTTL=1m`,
    );
    stopped.push(cache);
    await cache.start();
    await cache.set('k', 'v');
    const raw = (cache as RedisCache).client as Redis;
    expect(await raw.get(`${prefix}:k`)).toBe('v');
    expect(Number(await raw.pttl(`${prefix}:k`))).toBeGreaterThan(50_000);
  });

  it('applies the cache-wide jitter of a redis:// URL to getOrSet writes', async () => {
    const prefix = `jit-${randomUUID()}`;
    const cache = createCache(`${connectionFor('standalone').url}/0?prefix=${prefix}&jitter=0.5`);
    stopped.push(cache);
    const keys = Array.from({ length: 20 }, (_, i) => `j${i}`);
    for (const key of keys) await cache.getOrSet(key, () => 1, { ttl: '100s' });
    const raw = (cache as RedisCache).client as Redis;
    const ttls = await Promise.all(keys.map((k) => raw.pttl(`${prefix}:${k}`)));
    for (const ttl of ttls) {
      expect(ttl).toBeGreaterThan(49_000);
      expect(ttl).toBeLessThanOrEqual(100_000);
    }
    // 20 draws all within one second of each other would mean no jitter (odds ≈ 50^-19).
    expect(new Set(ttls.map((t) => Math.round(t / 1000))).size).toBeGreaterThan(1);
  });

  it('loads no Redis client for an application that never uses Redis', async () => {
    const script = `
      import { createRequire } from 'node:module';
      const { createCache } = await import(${JSON.stringify(fileURLToPath(new URL('../../src/index.ts', import.meta.url)))});
      createCache({ type: 'memory' });
      createCache('redis://127.0.0.1:1');
      const require = createRequire(import.meta.url);
      console.log(Object.keys(require.cache).filter((p) => p.includes('/ioredis/')).length);
    `;
    const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
    const { stdout } = await promisify(execFile)(tsx, ['--input-type=module', '-e', script]);
    expect(stdout.trim()).toBe('0');
  });
});

describe('lifecycle', () => {
  it('stop() closes every connection it opened; start() afterwards connects again', async () => {
    const prefix = `life-${randomUUID()}`;
    const cache = new RedisCache({ ...connectionFor('standalone'), prefix });
    stopped.push(cache);
    await cache.start();
    await cache.getOrSet('k', () => 'v'); // opens the lock path
    const client = cache.client as Redis;
    await cache.stop();
    expect(client.status).toBe('end');
    await expect(cache.get('k')).rejects.toMatchObject({ code: 'STOPPED' });
    await cache.start();
    expect(await cache.getJSON('k')).toBe('v'); // written just before stop(): not lost
  });

  it('stop() right after a first lazy operation leaves nothing open', async () => {
    const cache = new RedisCache({
      ...connectionFor('standalone'),
      prefix: `lazy-${randomUUID()}`,
    });
    const pending = cache.get('k');
    await cache.stop();
    await pending.catch(() => {});
    expect(cache.client).toBeUndefined();
  });
});

describe('credentials and databases', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ password: 's3cr:t' });
  });
  afterAll(() => server?.stop());

  it('authenticates with the URL password (user "default") and writes into the URL database', async () => {
    const cache = createCache(`redis://default:s3cr%3At@127.0.0.1:${server.port}/3?prefix=auth`);
    stopped.push(cache);
    await cache.start();
    await cache.set('k', 'in db 3');
    expect(await server.cli('-n', '3', 'GET', 'auth:k')).toBe('in db 3');
    expect(await server.cli('-n', '0', 'EXISTS', 'auth:k')).toBe('0');
  });

  it('rejects start() with CONNECTION on a wrong password, naming the cause', async () => {
    const cache = new RedisCache({ port: server.port, password: 'wrong' });
    stopped.push(cache);
    const failure = await cache.start().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toMatchObject({ code: 'CONNECTION' });
    expect(String((failure as Error).message)).toMatch(/WRONGPASS|invalid|auth/i);
  });
});

describe('a client the user already has', () => {
  it('is used as is and left open by stop()', async () => {
    const client = new Redis(connectionFor('standalone').url as string);
    stopped.push(client);
    const prefix = `byo-${randomUUID()}`;
    const cache = new RedisCache({ client, prefix });
    await cache.start();
    await cache.set('k', 'v');
    expect(await client.get(`${prefix}:k`)).toBe('v');
    await cache.stop();
    expect(client.status).toBe('ready');
    expect(await client.get(`${prefix}:k`)).toBe('v');
  });
});

describe('on a private server', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(() => server?.stop());

  it('clear() drops entries and makes versions taken before it useless', async () => {
    const cache = new RedisCache({ url: server.url, prefix: 'clr' });
    stopped.push(cache);
    await cache.set('a', '1', undefined, { tags: ['t'] });
    await cache.invalidateTags(['t']);
    const before = await cache.tagSnapshot(['t']);
    await cache.clear();
    expect(await cache.keys()).toEqual([]);
    // A late write carrying a snapshot from before the clear is born invalid...
    await cache.set('late', 'x', undefined, { tags: ['t'], snapshot: before });
    expect(await cache.get('late')).toBeUndefined();
    // ...while a write after the clear is valid.
    await cache.set('fresh', 'y', undefined, { tags: ['t'] });
    expect((await cache.get('fresh'))?.toString()).toBe('y');
  });

  it('without a prefix, owns the database but never lists or deletes its bookkeeping', async () => {
    await server.cli('FLUSHALL');
    await server.cli('SET', 'someone-else', '1');
    const cache = new RedisCache({ url: server.url });
    stopped.push(cache);
    await cache.set('p', 'v', undefined, { tags: ['t'] });
    await cache.invalidateTags(['t']);
    expect((await cache.keys()).sort()).toEqual(['p', 'someone-else']);
    expect(await cache.deletePattern('__*')).toBe(0); // the tag version survives...
    expect(await cache.get('p')).toBeUndefined(); // ...so the invalidated entry stays invalid
    await cache.clear();
    expect(await cache.keys()).toEqual([]);
    expect(await server.cli('DBSIZE')).toBe('0'); // its bookkeeping went with everything else
  });

  it('regression: 100k keys in one call do not crash ioredis auto-pipelining (no argument spread)', async () => {
    await server.cli('FLUSHALL');
    const store = new RedisStore(resolveRedisOptions({ url: server.url }).redis, 'wide', {
      onConnectionError: () => {},
    });
    try {
      const keys = Array.from({ length: 100_000 }, (_, i) => `w:${i}`);
      await store.setMany(
        keys.map((k) => [k, Buffer.from('x')] as const),
        undefined,
      );
      expect((await store.getMany(keys)).filter((b) => b !== undefined)).toHaveLength(100_000);
      expect(await store.deleteMany(keys)).toBe(100_000);
    } finally {
      await store.stop();
    }
  }, 60_000);

  it('deletes 100k keys by pattern in bounded commands: SCAN with a COUNT, UNLINK of one batch', async () => {
    // The guarantee is the shape of the work, not a duration: no command deletePattern sends
    // touches an unbounded number of keys. SLOWLOG, told to log every command, records each
    // command's arguments; the cache's connection is told apart by its client name. (A time
    // bound on the same commands fails whenever a loaded machine preempts redis-server.)
    await server.cli('FLUSHALL');
    const cache = new RedisCache({ url: server.url, prefix: 'big' });
    stopped.push(cache);
    for (let i = 0; i < 100_000; i += 5_000) {
      await cache.mset(
        Object.fromEntries(Array.from({ length: 5_000 }, (_, j) => [`k:${i + j}`, 'x'])),
      );
    }
    const name = `deleter-${randomUUID().slice(0, 8)}`;
    await (cache.client as Redis).client('SETNAME', name);
    await server.cli('CONFIG', 'SET', 'slowlog-max-len', String(SLOWLOG_MAX_LEN));
    await server.cli('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    await server.cli('SLOWLOG', 'RESET');
    try {
      expect(await cache.deletePattern('k:*')).toBe(100_000);
    } finally {
      await server.cli('CONFIG', 'SET', 'slowlog-log-slower-than', '10000');
    }
    const admin = new Redis(server.url);
    stopped.push(admin);
    const log = (await admin.slowlog('GET', '-1')) as SlowEntry[];
    expect(log.length, 'SLOWLOG overflowed: raise SLOWLOG_MAX_LEN').toBeLessThan(SLOWLOG_MAX_LEN);
    const sent = log.filter((e) => String(e[5]) === name).map((e) => describeCommand(e[3]));
    // A COUNT so large that one SCAN walks most of the keyspace would be a stall of its own.
    expect(SCAN_COUNT).toBeLessThanOrEqual(10_000);
    expect(sent.filter((c) => c.name === 'scan').length).toBeGreaterThan(0);
    let unlinked = 0;
    for (const c of sent) {
      if (c.name === 'scan') {
        expect(c.count, c.text).toBeDefined();
        expect(c.count, c.text).toBeLessThanOrEqual(SCAN_COUNT);
      } else {
        expect(['unlink', 'del'], c.text).toContain(c.name);
        expect(c.argc - 1, c.text).toBeLessThanOrEqual(MAX_BATCH_KEYS);
        unlinked += c.argc - 1;
      }
    }
    expect(unlinked).toBeGreaterThanOrEqual(100_000);
    expect(await server.cli('DBSIZE')).toBe('0');
  }, 60_000);
});
