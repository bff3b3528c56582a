/**
 * Two middleware instances (two servers, two cache clients) sharing one Redis: a write
 * through one invalidates what the other stored, with no keyspace scan — path tags are
 * versions in Redis, so the other instance's next read sees the entry as gone.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Cache } from '../../src/core/types.js';
import {
  CachingMiddleware,
  type CachingMiddlewareOptions,
} from '../../src/http/caching-middleware.js';
import { RedisCache } from '../../src/stores/redis/redis-cache.js';
import { send, until } from './client.js';
import { Origin } from './origin.js';
import { ADAPTERS, type Running } from './servers.js';

const opened: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const close of opened.splice(0)) await close();
});

async function instance(prefix: string, origin: Origin, options?: CachingMiddlewareOptions) {
  const cache: Cache = new RedisCache({ url: inject('redisUrl'), prefix });
  await cache.start();
  const mw = new CachingMiddleware(cache, options);
  const server: Running = await ADAPTERS['node:http']!(mw, origin);
  opened.push(async () => {
    await server.close();
    mw.stop();
    await cache.stop();
  });
  return { mw, url: server.url };
}

describe('two instances sharing Redis', () => {
  it('a write through one invalidates the path and collection the other stored', async () => {
    const prefix = `http-x-${randomUUID()}`;
    const origin = new Origin();
    const a = await instance(prefix, origin);
    const b = await instance(prefix, origin);
    // Host headers must match: both instances serve the same site.
    const headers = { host: 'site.test' };

    expect((await send(a.url, '/posts/1', { headers })).xCache).toBe('MISS');
    expect((await send(a.url, '/posts', { headers })).xCache).toBe('MISS');
    await until(() => a.mw.stats().stores === 2, 10_000, 'two stores');
    expect((await send(b.url, '/posts/1', { headers })).xCache).toBe('HIT');
    expect((await send(b.url, '/posts', { headers })).xCache).toBe('HIT');

    const put = await send(b.url, '/posts/1', { method: 'PUT', headers });
    expect(put.status).toBe(200);

    expect((await send(a.url, '/posts/1', { headers })).xCache).toBe('MISS');
    expect((await send(a.url, '/posts', { headers })).xCache).toBe('MISS');
  });

  it('invalidateTags on one drops Cache-Tag entries the other stored', async () => {
    const prefix = `http-x-${randomUUID()}`;
    const origin = new Origin();
    const a = await instance(prefix, origin);
    const b = await instance(prefix, origin);
    const headers = { host: 'site.test' };
    expect((await send(a.url, '/tagged', { headers })).xCache).toBe('MISS');
    await until(() => a.mw.stats().stores === 1, 10_000, 'a store');
    // Shared before the invalidation: a HIT on both instances.
    expect((await send(a.url, '/tagged', { headers })).xCache).toBe('HIT');
    expect((await send(b.url, '/tagged', { headers })).xCache).toBe('HIT');
    await b.mw.invalidateTags(['news']);
    const after = await send(a.url, '/tagged', { headers });
    expect([after.xCache, after.text]).toEqual(['MISS', 'tagged 2']);
  });

  it('instances reached as different hosts neither hit nor invalidate each other by default', async () => {
    const prefix = `http-x-${randomUUID()}`;
    const origin = new Origin();
    // Two ports on 127.0.0.1: each request's Host names its own instance.
    const a = await instance(prefix, origin);
    const b = await instance(prefix, origin);
    expect((await send(a.url, '/posts/1')).xCache).toBe('MISS');
    expect((await send(b.url, '/posts/1')).xCache).toBe('MISS');
    await until(() => a.mw.stats().stores + b.mw.stats().stores === 2, 10_000, 'two stores');
    expect((await send(a.url, '/posts/1', { method: 'PUT' })).status).toBe(200);
    expect((await send(b.url, '/posts/1')).xCache).toBe('HIT');
  });

  it('with one host option, instances on different ports share entries and invalidations', async () => {
    const prefix = `http-x-${randomUUID()}`;
    const origin = new Origin();
    const a = await instance(prefix, origin, { host: 'site.test' });
    const b = await instance(prefix, origin, { host: 'site.test' });
    expect((await send(a.url, '/posts/1')).xCache).toBe('MISS');
    expect((await send(a.url, '/posts')).xCache).toBe('MISS');
    await until(() => a.mw.stats().stores === 2, 10_000, 'two stores');
    expect((await send(b.url, '/posts/1')).xCache).toBe('HIT');
    expect((await send(b.url, '/posts')).xCache).toBe('HIT');
    expect((await send(b.url, '/posts/1', { method: 'PUT' })).status).toBe(200);
    expect((await send(a.url, '/posts/1')).xCache).toBe('MISS');
    expect((await send(a.url, '/posts')).xCache).toBe('MISS');
  });
});
