/**
 * The HTTP benchmark's servers, one variant per child process (so the load generator never
 * shares an event loop with the server it measures). Every variant answers `GET /hit` with
 * the same 1 KiB JSON body; the cached variants are warmed so the run measures hits.
 *
 * Run as `node --import tsx bench/http/servers.ts <variant>`; prints `PORT <n>` when ready.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import apicache from 'apicache';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { fastifyCache } from '../../src/adapters/fastify.js';
import { cachingFetch, honoCache } from '../../src/adapters/hono.js';
import { readEntry } from '../../src/core/entry.js';
import type { Store } from '../../src/core/store.js';
import { CachingMiddleware } from '../../src/http/caching-middleware.js';
import { MemoryCache } from '../../src/stores/memory/memory-cache.js';

/** The 1 KiB response every variant sends. */
export const BODY = Buffer.from(
  JSON.stringify({ items: Array.from({ length: 30 }, (_, i) => ({ id: i, name: `item-${i}` })) })
    .padEnd(1024, ' ')
    .slice(0, 1024),
);
const HEADERS = { 'content-type': 'application/json', 'cache-control': 'max-age=300' };

/** Variant name → starts it and resolves with its port. */
export const VARIANTS: Record<string, () => Promise<number>> = {
  'node:bare': () =>
    listen(
      createServer((_req, res) => {
        res.writeHead(200, HEADERS);
        res.end(BODY);
      }),
    ),
  'node:cache': () => nodeCache(false),
  'node:cache-sync': () => nodeCache(true),
  'express:bare': () => listen(createServer(expressApp())),
  'express:cache': async () => {
    const mw = await middleware();
    return listen(createServer(expressApp((app) => app.use(mw.handler({ ttl: '5m' })))));
  },
  'express:cache-sync': async () => {
    const mw = await middleware(true);
    return listen(createServer(expressApp((app) => app.use(mw.handler({ ttl: '5m' })))));
  },
  'express:apicache': () =>
    listen(createServer(expressApp((app) => app.use(apicache.middleware('5 minutes'))))),
  'fastify:bare': () => fastify(false),
  'fastify:cache': () => fastify(true),
  'fastify:cache-sync': () => fastify(true, true),
  'hono:bare': () => hono(false),
  'hono:cache': () => hono(true),
  'fetch:cache': () => fetchCache(false),
  'fetch:cache-sync': () => fetchCache(true),
};

async function fetchCache(syncRead: boolean): Promise<number> {
  const mw = await middleware(syncRead);
  return serveFetch(
    cachingFetch(mw, { ttl: '5m' }, () => new Response(BODY, { headers: HEADERS })),
  );
}

async function middleware(syncRead = false): Promise<CachingMiddleware> {
  const cache = new MemoryCache({ maxMemory: '64mb' });
  await cache.start();
  if (syncRead) addSyncRead(cache);
  return new CachingMiddleware(cache);
}

async function nodeCache(syncRead: boolean): Promise<number> {
  const mw = await middleware(syncRead);
  const handler = mw.handler({ ttl: '5m' }, (_req, res) => {
    res.writeHead(200, HEADERS);
    res.end(BODY);
  });
  return listen(createServer((req, res) => handler(req, res)));
}

/**
 * PROTOTYPE, bench only: the synchronous-when-possible read requested from core
 * (`getMaybeSync`), built here from MemoryCache internals to measure what it buys. Remove
 * once core ships it; `node:cache` then measures the same thing.
 */
function addSyncRead(cache: MemoryCache): void {
  const store = (cache as unknown as { store: Store }).store;
  const clock = Date;
  (cache as unknown as Record<string, unknown>).getMaybeSync = (key: string) => {
    const bytes = store.get(key);
    if (bytes instanceof Promise) return cache.get(key);
    const entry = readEntry(store, key, bytes);
    if (entry instanceof Promise) return cache.get(key);
    return entry && (entry.freshUntil === 0 || clock.now() < entry.freshUntil)
      ? entry.payload
      : undefined;
  };
}

function expressApp(use?: (app: express.Express) => void): express.Express {
  const app = express();
  app.disable('etag');
  use?.(app);
  app.get('/hit', (_req, res) => {
    res.set(HEADERS).send(BODY);
  });
  return app;
}

async function fastify(cached: boolean, syncRead = false): Promise<number> {
  const app = Fastify();
  if (cached) await app.register(fastifyCache(await middleware(syncRead), { ttl: '5m' }));
  app.get('/hit', (_req, reply) => {
    reply.headers(HEADERS).send(BODY);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as AddressInfo).port;
}

async function hono(cached: boolean): Promise<number> {
  const app = new Hono();
  if (cached) app.use('*', honoCache(await middleware(), { ttl: '5m' }));
  app.get('/hit', () => new Response(BODY, { headers: HEADERS }));
  return serveFetch((req, env) => Promise.resolve(app.fetch(req, env as object)));
}

function serveFetch(
  fetch: (req: Request, env: unknown) => Response | Promise<Response>,
): Promise<number> {
  return new Promise((resolve) => {
    serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port));
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

const variant = process.argv[2];
if (variant !== undefined) {
  const start = VARIANTS[variant];
  if (start === undefined) {
    console.error(`unknown variant ${variant}`);
    process.exit(2);
  }
  const port = await start();
  // The parent asks for CPU time over IPC: CPU per request is robust to a busy machine.
  process.on('message', (msg) => {
    if (msg === 'cpu') process.send?.(process.cpuUsage());
  });
  console.log(`PORT ${port}`);
}

// Exit through process.exit so --cpu-prof (when profiling a variant) gets written.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(0));
