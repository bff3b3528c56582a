/**
 * `codeai-cache serve` on a private Redis: two proxies sharing it behave as one cache (a
 * hit across instances, a write through one invalidating the other — the same `Host`, as a
 * load balancer sends), and a Redis killed under the proxy costs caching, never answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../harness/redis.js';
import { type ServeProcess, send, startServe, TestOrigin, until } from './util.js';

const HOST = { host: 'blog.example' };

describe('serve on Redis', () => {
  let redis: RedisServer;
  const origin = new TestOrigin()
    .on('GET /posts', (_req, res) => {
      res.setHeader('cache-control', 'max-age=300');
      res.end(`posts v${origin.count('GET /posts')}`);
    })
    .on('POST /posts', (_req, res) => {
      res.statusCode = 201;
      res.end('created');
    })
    .on('GET /page', (_req, res) => {
      res.setHeader('cache-control', 'max-age=300');
      res.end(`page v${origin.count('GET /page')}`);
    });
  let upstream: string;
  let a: ServeProcess;
  let b: ServeProcess;

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await origin.listen();
    [a, b] = await Promise.all([
      startServe(['--upstream', upstream, '--port', '0', '--cache', redis.url]),
      startServe(['--upstream', upstream, '--port', '0', '--cache', redis.url]),
    ]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await origin.close();
    await redis?.stop();
  });

  it('says where the cache lives', () => {
    expect(a.stdout()).toContain(`cache: redis at ${redis.url}`);
  });

  it('a response stored through one proxy is a hit on the other, and a write through the other invalidates it (regression: the write answered before its invalidation landed)', async () => {
    const first = await send(`${a.url}/posts`, { headers: HOST });
    expect(first.headers['x-cache']).toBe('MISS');
    // The store lands after the response: a HEAD (answered from the GET entry, never stored,
    // counted apart by the origin) says when.
    await until('the response to be stored', async () => {
      const head = await send(`${a.url}/posts`, { method: 'HEAD', headers: HOST });
      return head.headers['x-cache'] === 'HIT';
    });
    const across = await send(`${b.url}/posts`, { headers: HOST });
    expect(across.headers['x-cache']).toBe('HIT');
    expect(across.body).toBe(first.body);
    expect(origin.count('GET /posts')).toBe(1);

    expect(
      (await send(`${b.url}/posts`, { method: 'POST', headers: HOST, body: '{}' })).status,
    ).toBe(201);
    const after = await send(`${a.url}/posts`, { headers: HOST });
    expect(after.headers['x-cache']).toBe('MISS');
    expect(after.body).toBe('posts v2');
  });

  it('Redis killed: every request is answered by the origin; restarted: caching resumes by itself', async () => {
    // Cached while Redis lives, so the answers below are the origin's because Redis is gone.
    await until('a HIT on /page', async () => {
      await send(`${a.url}/page`, { headers: HOST });
      return (await send(`${a.url}/page`, { headers: HOST })).headers['x-cache'] === 'HIT';
    });
    const before = origin.count('GET /page');
    await redis.kill();
    for (let i = 1; i <= 3; i++) {
      const r = await send(`${a.url}/page`, { headers: HOST });
      expect(r.status).toBe(200);
      expect(r.headers['x-cache']).not.toBe('HIT');
      expect(r.body).toBe(`page v${before + i}`);
    }
    const health = JSON.parse((await send(`${a.url}/__cache/health`)).body) as { status: string };
    expect(health.status).not.toBe('healthy');

    await redis.restart();
    await until(
      'caching to resume',
      async () => {
        await send(`${a.url}/page`, { headers: HOST });
        return (await send(`${a.url}/page`, { headers: HOST })).headers['x-cache'] === 'HIT';
      },
      30_000,
    );
    expect(a.child.exitCode).toBeNull();
  }, 60_000);

  it('starts with Redis not there yet: answers from the origin, caches once Redis comes up', async () => {
    // A server started and killed: its port is known and nothing listens on it.
    const late = await startRedis();
    await late.kill();
    const proxy = await startServe(['--upstream', upstream, '--port', '0', '--cache', late.url]);
    try {
      expect(proxy.stderr()).toMatch(/cache not reachable yet .*answering from the origin/);
      expect((await send(`${proxy.url}/page`, { headers: HOST })).status).toBe(200);
      await late.restart();
      await until(
        'caching to start',
        async () => {
          await send(`${proxy.url}/page`, { headers: HOST });
          return (await send(`${proxy.url}/page`, { headers: HOST })).headers['x-cache'] === 'HIT';
        },
        30_000,
      );
    } finally {
      expect(await proxy.stop()).toBe(0);
      await late.stop();
    }
  }, 60_000);
});
