/**
 * The spec-driven middleware end to end: a CodeAI spec → `loadCodeAI` → `forPlan` (and the
 * Fastify / Hono plan plugins), in front of a real app on 127.0.0.1, on memory and on a
 * private Redis. Two instances share one backend: a write through one invalidates what the
 * other stored — exactly the concrete routes the plan maps it to.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { fastifyPlanCache } from '../../src/adapters/fastify.js';
import { honoPlanCache } from '../../src/adapters/hono.js';
import type { Cache } from '../../src/core/types.js';
import {
  CachingMiddleware,
  type CodeAIPlan,
  loadCodeAI,
  MemoryCache,
  RedisCache,
} from '../../src/index.js';
import { send, until } from './client.js';

const SPEC = `
config { api_prefix: "/api/v1" cache_ttl: 60 }
middleware login { type authentication }
middleware per_user { type cache config { ttl: 300 vary_by: "Authorization" } }
endpoint GET "/authors" { cache: 30s }
endpoint GET "/authors/featured" { cache: 30s }
@cache("1h")
endpoint GET "/authors/{id}" {}
endpoint GET /authors/{authorId}/books { cache: 1h }
endpoint GET /authors/:authorId/books/:bookId { cache: 1h }
endpoint GET "/me/orders" { middleware login middleware per_user }
@cache endpoint GET "/recommendations" {}
endpoint GET "/health" {}
endpoint POST "/authors" {}
endpoint PUT "/authors/:id" {}
@invalidates("/recommendations")
endpoint DELETE "/authors/:id" {}
`;

function loadPlan(): CodeAIPlan {
  const result = loadCodeAI(SPEC, { env: {} });
  if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
  return result.plan;
}

/**
 * The app behind the cache: counts calls per path, answers JSON; `?fail` makes a write fail,
 * `?created=9` makes a POST answer `Location: <path>/9`.
 */
class App {
  readonly calls = new Map<string, number>();
  count(path: string): number {
    return this.calls.get(path) ?? 0;
  }
  answer(
    method: string,
    url: string,
    auth: string | undefined,
  ): { status: number; body: string; headers: Record<string, string> } {
    const path = url.split('?')[0]!;
    const n = this.count(path) + 1;
    this.calls.set(path, n);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (url.includes('fail')) return { status: 500, body: '{"error":true}', headers };
    const created = /[?&]created=(\d+)/.exec(url)?.[1];
    if (created !== undefined) headers.location = `${path}/${created}`;
    return {
      status: method === 'POST' ? 201 : 200,
      body: JSON.stringify({ method, path, n, auth }),
      headers,
    };
  }
}

interface Instance {
  url: string;
  mw: CachingMiddleware;
}

type Adapter = (mw: CachingMiddleware, plan: CodeAIPlan, app: App) => Promise<Server>;

const ADAPTERS: Record<string, Adapter> = {
  'node:http': async (mw, plan, app) => {
    const origin = (req: IncomingMessage, res: ServerResponse) => {
      const r = app.answer(req.method ?? 'GET', req.url ?? '/', req.headers.authorization);
      res.writeHead(r.status, r.headers);
      res.end(r.body);
    };
    return createServer(mw.forPlan(plan, origin));
  },
  express: async (mw, plan, app) => {
    const ex = express();
    ex.use(mw.forPlan(plan));
    ex.all('/{*rest}', (req, res) => {
      const r = app.answer(req.method, req.originalUrl, req.headers.authorization);
      res.status(r.status).set(r.headers).send(r.body);
    });
    return createServer(ex);
  },
  fastify: async (mw, plan, app) => {
    const f = Fastify();
    await f.register(fastifyPlanCache(mw, plan));
    f.all('/*', (req, reply) => {
      const r = app.answer(req.method, req.url, req.headers.authorization);
      reply.code(r.status).headers(r.headers).send(r.body);
    });
    await f.ready();
    cleanups.push(() => f.close());
    return f.server;
  },
  hono: async (mw, plan, app) => {
    const h = new Hono();
    h.use('*', honoPlanCache(mw, plan));
    h.all('*', (c) => {
      const url = new URL(c.req.url);
      const r = app.answer(c.req.method, url.pathname + url.search, c.req.header('authorization'));
      return c.body(r.body, r.status as 200, r.headers);
    });
    return createAdaptorServer({ fetch: h.fetch }) as Server;
  },
};

type Backend = () => Promise<{ caches: [Cache, Cache]; stop(): Promise<void> }>;

const BACKENDS: Record<string, Backend> = {
  // Two middleware instances on one memory cache: one process, one shared backend.
  memory: async () => {
    const cache = new MemoryCache({ maxMemory: '8mb' });
    await cache.start();
    return { caches: [cache, cache], stop: () => cache.stop() };
  },
  // Two clients of a private redis-server with one prefix: two instances of one service.
  redis: async () => {
    const prefix = `plan-${randomUUID()}`;
    const a = new RedisCache({ url: inject('redisUrl'), prefix });
    const b = new RedisCache({ url: inject('redisUrl'), prefix });
    await a.start();
    await b.start();
    return {
      caches: [a, b],
      stop: async () => {
        await a.stop();
        await b.stop();
      },
    };
  },
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(adapter: Adapter, backend: Backend, app: App): Promise<[Instance, Instance]> {
  const plan = loadPlan();
  const { caches, stop } = await backend();
  cleanups.push(stop);
  const instances: Instance[] = [];
  for (const cache of caches) {
    const mw = new CachingMiddleware(cache);
    const server = await adapter(mw, plan, app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(
      () =>
        new Promise<void>((done) => {
          mw.stop();
          server.closeAllConnections();
          server.close(() => done());
        }),
    );
    instances.push({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, mw });
  }
  return [instances[0]!, instances[1]!];
}

const H = { host: 'shop.test' };

/** Warms `paths` on `a`, waiting until each is stored. */
async function warm(a: Instance, paths: string[]): Promise<void> {
  for (const p of paths) {
    const before = a.mw.stats().stores;
    expect((await send(a.url, p, { headers: H })).xCache, p).toBe('MISS');
    await until(() => a.mw.stats().stores > before, 10_000, `store of ${p}`);
  }
}

async function xCache(
  i: Instance,
  path: string,
  headers: Record<string, string> = {},
): Promise<string | undefined> {
  return (await send(i.url, path, { headers: { ...H, ...headers } })).xCache;
}

for (const [backendName, backend] of Object.entries(BACKENDS)) {
  for (const [adapterName, adapter] of Object.entries(ADAPTERS)) {
    describe(`forPlan on ${adapterName}, ${backendName}`, () => {
      it('caches the plan’s cached GET endpoints and leaves every other route untouched', async () => {
        const app = new App();
        const [a, b] = await start(adapter, backend, app);
        await warm(a, ['/api/v1/authors/7']);
        const hit = await send(b.url, '/api/v1/authors/7', { headers: H });
        expect(hit.xCache).toBe('HIT');
        expect(JSON.parse(hit.text)).toMatchObject({ path: '/api/v1/authors/7', n: 1 });
        expect(app.count('/api/v1/authors/7')).toBe(1);
        // HEAD is answered from the GET entry.
        const head = await send(a.url, '/api/v1/authors/7', { method: 'HEAD', headers: H });
        expect(head.xCache).toBe('HIT');

        // Not cached by the spec, outside the prefix, or unknown: straight to the app.
        for (const path of ['/api/v1/health', '/authors/7', '/api/v1/nowhere']) {
          const first = await send(a.url, path, { headers: H });
          const second = await send(a.url, path, { headers: H });
          expect(first.xCache, path).toBeUndefined();
          expect(second.xCache, path).toBeUndefined();
          expect(app.count(path), path).toBe(2);
        }
      });

      it('DELETE /authors/7 on one instance drops /authors/7, its books and /authors on the other, never /authors/8', async () => {
        const app = new App();
        const [a, b] = await start(adapter, backend, app);
        const seven = ['/api/v1/authors/7', '/api/v1/authors/7/books', '/api/v1/authors/7/books/3'];
        const eight = ['/api/v1/authors/8', '/api/v1/authors/8/books', '/api/v1/authors/8/books/3'];
        await warm(a, [
          '/api/v1/authors',
          '/api/v1/authors/featured',
          '/api/v1/recommendations',
          ...seven,
          ...eight,
        ]);

        const del = await send(b.url, '/api/v1/authors/7', { method: 'DELETE', headers: H });
        expect(del.status).toBe(200);
        expect(del.xCache).toBe('BYPASS');

        for (const p of seven) expect(await xCache(a, p), p).toBe('MISS');
        expect(await xCache(a, '/api/v1/authors')).toBe('MISS'); // ancestor
        expect(await xCache(a, '/api/v1/recommendations')).toBe('MISS'); // @invalidates
        for (const p of eight) expect(await xCache(a, p), p).toBe('HIT');
        // A literal sibling is not the deleted author.
        expect(await xCache(a, '/api/v1/authors/featured')).toBe('HIT');
      });

      it('POST /authors drops the collection only; a failed write drops nothing', async () => {
        const app = new App();
        const [a, b] = await start(adapter, backend, app);
        await warm(a, ['/api/v1/authors', '/api/v1/authors/7', '/api/v1/authors/7/books']);

        const failed = await send(b.url, '/api/v1/authors/7?fail', { method: 'PUT', headers: H });
        expect(failed.status).toBe(500);
        expect(await xCache(a, '/api/v1/authors/7')).toBe('HIT');

        expect((await send(b.url, '/api/v1/authors', { method: 'POST', headers: H })).status).toBe(
          201,
        );
        expect(await xCache(a, '/api/v1/authors')).toBe('MISS');
        expect(await xCache(a, '/api/v1/authors/7')).toBe('HIT');
        expect(await xCache(a, '/api/v1/authors/7/books')).toBe('HIT');

        // PUT reaches descendants too.
        await send(b.url, '/api/v1/authors/7', { method: 'PUT', headers: H });
        expect(await xCache(a, '/api/v1/authors/7')).toBe('MISS');
        expect(await xCache(a, '/api/v1/authors/7/books')).toBe('MISS');
      });

      it('POST /authors answering Location: /authors/9 drops /authors/9 on the other instance (regression: in plan mode a 404 stored before a POST created the resource outlived the creation)', async () => {
        const app = new App();
        const [a, b] = await start(adapter, backend, app);
        await warm(a, ['/api/v1/authors/9', '/api/v1/authors/10']);
        const post = await send(b.url, '/api/v1/authors?created=9', { method: 'POST', headers: H });
        expect(post.status).toBe(201);
        expect(await xCache(a, '/api/v1/authors/9')).toBe('MISS');
        expect(await xCache(a, '/api/v1/authors/10')).toBe('HIT');
      });

      it('keys an authenticated endpoint by Authorization: one user never gets another’s response', async () => {
        const app = new App();
        const [a, b] = await start(adapter, backend, app);
        const alice = { ...H, authorization: 'Bearer alice' };
        const bob = { ...H, authorization: 'Bearer bob' };
        expect((await send(a.url, '/api/v1/me/orders', { headers: alice })).xCache).toBe('MISS');
        await until(() => a.mw.stats().stores === 1, 10_000, 'alice stored');
        const bobs = await send(b.url, '/api/v1/me/orders', { headers: bob });
        expect(bobs.xCache).toBe('MISS');
        expect(JSON.parse(bobs.text).auth).toBe('Bearer bob');
        const again = await send(b.url, '/api/v1/me/orders', { headers: alice });
        expect(again.xCache).toBe('HIT');
        expect(JSON.parse(again.text).auth).toBe('Bearer alice');
      });
    });
  }
}

describe('forPlan applies each endpoint’s TTL', () => {
  it('a 30 s endpoint is refetched after 31 s while a 1 h one is still served', async () => {
    const cache = new MemoryCache({ maxMemory: '8mb' });
    await cache.start();
    let now = Date.UTC(2030, 0, 1);
    const mw = new CachingMiddleware(cache, { clock: { now: () => now } });
    const app = new App();
    const server = await ADAPTERS['node:http']!(mw, loadPlan(), app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(async () => {
      mw.stop();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await cache.stop();
    });
    const i: Instance = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, mw };
    await warm(i, ['/api/v1/authors', '/api/v1/authors/7']);
    now += 29_000;
    expect(await xCache(i, '/api/v1/authors')).toBe('HIT');
    now += 2_000;
    expect(await xCache(i, '/api/v1/authors')).toBe('MISS');
    expect(await xCache(i, '/api/v1/authors/7')).toBe('HIT');
  });
});
