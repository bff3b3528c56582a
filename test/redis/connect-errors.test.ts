/**
 * A connection step the server refuses — SELECT of a database it does not have, AUTH with
 * a wrong password — must fail the cache loudly, never leave it running somewhere else.
 * Regression: with `redis://…/99`, ioredis emitted "ERR DB index is out of range", declared
 * the connection ready on database 0, `start()` resolved, `health()` said healthy and every
 * write landed in database 0. Each test owns a private redis-server and checks it with a
 * separate client (redis-cli) afterwards.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type CacheError, RedisCache, type RedisCacheOptions } from '../../src/index.js';
import { findFreePort, type RedisServer, startRedis } from '../harness/redis.js';

const servers: RedisServer[] = [];
const caches: RedisCache[] = [];

afterEach(async () => {
  await Promise.all(caches.splice(0).map((c) => c.stop()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function server(password?: string): Promise<RedisServer> {
  const s = await startRedis(password === undefined ? {} : { password });
  servers.push(s);
  return s;
}

/** A cache that records the messages of its error events. */
function cacheOn(options: RedisCacheOptions): { cache: RedisCache; events: string[] } {
  const cache = new RedisCache({ prefix: 'app', connectTimeout: '500ms', ...options });
  caches.push(cache);
  const events: string[] = [];
  cache.on('error', (e) => {
    const err = e.error as CacheError;
    events.push(`${err.code} ${err.message}`);
  });
  return { cache, events };
}

async function failure(op: Promise<unknown>): Promise<CacheError> {
  try {
    await op;
  } catch (err) {
    return err as CacheError;
  }
  throw new Error('expected the operation to reject');
}

/** Every write path a user (or the library's own bookkeeping) has; each must reject. */
function writes(cache: RedisCache): Promise<unknown>[] {
  return [
    cache.set('k', 'v'),
    cache.setJSON('j', { a: 1 }, '1m'),
    cache.mset({ a: '1', b: '2' }),
    cache.mset({ c: '3' }, '1m'),
    cache.incr('n'),
    cache.invalidateTags(['t']),
  ];
}

/** What the server holds in any database, through a client of its own. */
async function keyspace(s: RedisServer): Promise<string> {
  return (await s.cli('INFO', 'keyspace')).replace(/^# Keyspace\s*/, '').trim();
}

describe('a database the server does not have (redis://…/99)', () => {
  it('makes start() reject with CONNECTION, keeping the server reply, and health() unhealthy', async () => {
    const s = await server();
    const { cache } = cacheOn({ url: `${s.url}/99` });
    const err = await failure(cache.start());
    expect(err.code).toBe('CONNECTION');
    expect(err.message).toMatch(/refused SELECT while connecting: ERR DB index is out of range/);
    expect((err.cause as Error).message).toBe('ERR DB index is out of range');
    const health = await cache.health();
    expect(health.status).toBe('unhealthy');
    expect(health.error).toMatch(/DB index is out of range/);
    expect(await keyspace(s)).toBe('');
  });

  it('rejects every write of a cache used without start(), and writes nothing to database 0', async () => {
    const s = await server();
    const { cache, events } = cacheOn({ url: `${s.url}/99` });
    const results = await Promise.allSettled(writes(cache));
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'CONNECTION' });
    }
    // Reads fail open, getOrSet answers from its factory: neither may write either.
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.getOrSet('g', () => 'computed', { ttl: '1m', tags: ['t'] })).toBe(
      'computed',
    );
    // And later calls, once the client is retrying, too.
    expect((await failure(cache.set('later', 'v'))).code).toBe('CONNECTION');
    expect(events.some((e) => e.includes('ERR DB index is out of range'))).toBe(true);
    expect(await keyspace(s)).toBe('');
    expect(await s.cli('DBSIZE')).toBe('0');
  });

  it('still works on a database the server has (the guard only acts on refusals)', async () => {
    const s = await server();
    const { cache } = cacheOn({ url: `${s.url}/15` });
    await cache.start();
    await cache.set('k', 'v');
    expect(await s.cli('-n', '15', 'GET', 'app:k')).toBe('v');
    expect(await s.cli('DBSIZE')).toBe('0');
    expect((await cache.health()).status).toBe('healthy');
  });
});

describe('credentials the server refuses', () => {
  it('a wrong password makes start() reject with CONNECTION and health() unhealthy; nothing is written', async () => {
    const s = await server('right-password');
    const { cache } = cacheOn({ url: `redis://:wrong-password@${s.host}:${s.port}` });
    const err = await failure(cache.start());
    expect(err.code).toBe('CONNECTION');
    expect(err.message).toMatch(/WRONGPASS/);
    expect(err.message).not.toContain('wrong-password');
    expect((await cache.health()).status).toBe('unhealthy');
    const lazy = cacheOn({ url: `redis://:wrong-password@${s.host}:${s.port}` }).cache;
    for (const r of await Promise.allSettled(writes(lazy))) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'CONNECTION' });
    }
    expect(await s.cli('DBSIZE')).toBe('0'); // s.cli authenticates with the right password
  });

  it('no password for a server that requires one is CONNECTION (NOAUTH), not BACKEND', async () => {
    const s = await server('right-password');
    const { cache } = cacheOn({ url: s.url });
    const err = await failure(cache.start());
    expect(err.code).toBe('CONNECTION');
    expect(err.message).toMatch(/NOAUTH/);
    expect((await failure(cache.set('k', 'v'))).code).toBe('CONNECTION');
  });
});

describe('a Redis that is not there', () => {
  // Regression: errors read 'Refer to "maxRetriesPerRequest" option', an option users cannot set.
  it('fails writes with CONNECTION in words that name no option a user cannot set', async () => {
    const port = await findFreePort();
    const { cache, events } = cacheOn({ url: `redis://127.0.0.1:${port}`, failOpen: false });
    const messages: string[] = [...events];
    for (const op of [cache.set('k', 'v'), cache.get('k'), cache.incr('n')]) {
      const err = await failure(op);
      expect(err.code).toBe('CONNECTION');
      messages.push(err.message);
    }
    messages.push(...events);
    expect(messages.length).toBeGreaterThan(3);
    for (const m of messages) expect(m).not.toMatch(/maxRetriesPerRequest|max retries/i);
  });
});
