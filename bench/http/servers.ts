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
  'node:cache': () => nodeCache(),
  'express:bare': () => listen(createServer(expressApp())),
  'express:cache': async () => {
    const mw = await middleware();
    return listen(createServer(expressApp((app) => app.use(mw.handler({ ttl: '5m' })))));
  },
  'express:apicache': () =>
    listen(createServer(expressApp((app) => app.use(apicache.middleware('5 minutes'))))),
  'fastify:bare': () => fastify(false),
  'fastify:cache': () => fastify(true),
  'hono:bare': () => hono(false),
  'hono:cache': () => hono(true),
  'fetch:cache': () => fetchCache(),
};

async function fetchCache(): Promise<number> {
  const mw = await middleware();
  return serveFetch(
    cachingFetch(mw, { ttl: '5m' }, () => new Response(BODY, { headers: HEADERS })),
  );
}

async function middleware(): Promise<CachingMiddleware> {
  const cache = new MemoryCache({ maxMemory: '64mb' });
  await cache.start();
  return new CachingMiddleware(cache);
}

async function nodeCache(): Promise<number> {
  const mw = await middleware();
  const handler = mw.handler({ ttl: '5m' }, (_req, res) => {
    res.writeHead(200, HEADERS);
    res.end(BODY);
  });
  return listen(createServer((req, res) => handler(req, res)));
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

async function fastify(cached: boolean): Promise<number> {
  const app = Fastify();
  if (cached) await app.register(fastifyCache(await middleware(), { ttl: '5m' }));
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
