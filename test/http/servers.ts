/**
 * One real server per adapter on 127.0.0.1, port 0, each serving the shared {@link Origin}
 * through `CachingMiddleware` with the scenario policies: `/auth/*` varies by
 * `Authorization`, everything else uses the default policy.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { fastifyCache } from '../../src/adapters/fastify.js';
import { cachingFetch, honoCache } from '../../src/adapters/hono.js';
import type { CachingMiddleware } from '../../src/http/caching-middleware.js';
import type { CachePolicy } from '../../src/http/policy.js';
import type { Origin, OriginReply } from './origin.js';

/** The default policy of the scenario servers. */
export const POLICY: CachePolicy = { ttl: '30s', maxBodySize: '16kb' };
/** The policy of `/auth/*`. */
export const AUTH_POLICY: CachePolicy = { ttl: '30s', varyBy: ['authorization'] };

/** A running server. */
export interface Running {
  url: string;
  close(): Promise<void>;
}

/** Starts a server for one adapter. */
export type StartServer = (mw: CachingMiddleware, origin: Origin) => Promise<Running>;

function pieces(body: Buffer, n: number | undefined): Buffer[] {
  if (!n || n <= 1 || body.length === 0) return [body];
  const size = Math.ceil(body.length / n);
  const out: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) out.push(body.subarray(i, i + size));
  return out;
}

function nodeHeader(req: IncomingMessage) {
  return (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
}

function listen(server: Server): Promise<Running> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/** node:http: `setHeader` for the content type, `writeHead` for the rest, several `write`s. */
const node: StartServer = async (mw, origin) => {
  const writeReply = (res: ServerResponse, r: OriginReply) => {
    const { 'content-type': type, ...rest } = r.headers;
    if (type !== undefined) res.setHeader('content-type', type);
    res.writeHead(r.status, rest);
    const parts = pieces(r.body, r.pieces);
    for (const part of parts.slice(0, -1)) res.write(part);
    res.end(parts.at(-1));
  };
  const app = (req: IncomingMessage, res: ServerResponse) => {
    origin
      .handle(req.method ?? 'GET', req.url ?? '/', nodeHeader(req))
      .then((r) => writeReply(res, r));
  };
  const plain = mw.handler(POLICY, app);
  const auth = mw.handler(AUTH_POLICY, app);
  return listen(
    createServer((req, res) => (req.url?.startsWith('/auth/') ? auth : plain)(req, res)),
  );
};

/** Express 5: `res.status().set()` then `res.json`, `res.send` or `res.write` + `res.end`. */
const expressServer: StartServer = async (mw, origin) => {
  const app = express();
  const plain = mw.handler(POLICY);
  const auth = mw.handler(AUTH_POLICY);
  app.use((req, res, next) => (req.path.startsWith('/auth/') ? auth : plain)(req, res, next));
  app.use(async (req, res) => {
    const r = await origin.handle(req.method, req.originalUrl, nodeHeader(req));
    res.status(r.status).set(r.headers);
    if (r.json !== undefined) res.json(r.json);
    else if (r.pieces) {
      const parts = pieces(r.body, r.pieces);
      for (const part of parts) res.write(part);
      res.end();
    } else res.send(r.body);
  });
  return listen(createServer(app));
};

/** Fastify 5: `reply.code().headers()` then a value, a Buffer or a stream. */
const fastifyServer: StartServer = async (mw, origin) => {
  const app = Fastify();
  await app.register(fastifyCache(mw, POLICY));
  const handler = async (
    req: import('fastify').FastifyRequest,
    reply: import('fastify').FastifyReply,
  ) => {
    const r = await origin.handle(req.method, req.url, nodeHeader(req.raw));
    reply.code(r.status).headers(r.headers);
    if (r.json !== undefined) return r.json;
    if (r.pieces) return reply.send(Readable.from(pieces(r.body, r.pieces)));
    return reply.send(r.body);
  };
  const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
  app.route({ method: [...methods], url: '/auth/*', handler, config: { cache: AUTH_POLICY } });
  app.route({ method: [...methods], url: '/*', handler });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      app.server.closeAllConnections();
      await app.close();
    },
  };
};

function fetchReply(r: OriginReply): Response {
  const headers = new Headers();
  for (const [k, v] of Object.entries(r.headers)) {
    for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one);
  }
  const body =
    r.status === 204 || r.status === 304
      ? null
      : r.pieces
        ? (Readable.toWeb(Readable.from(pieces(r.body, r.pieces))) as ReadableStream<Uint8Array>)
        : r.body;
  return new Response(body, { status: r.status, headers });
}

async function serveFetch(
  fetch: (req: Request, env: unknown) => Response | Promise<Response>,
): Promise<Running> {
  return new Promise((resolve) => {
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            (server as Server).closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Hono 4 middleware: `c.json` for JSON, a `Response` otherwise. */
const honoServer: StartServer = async (mw, origin) => {
  const app = new Hono();
  const plain = honoCache(mw, POLICY);
  const auth = honoCache(mw, AUTH_POLICY);
  app.use('*', (c, next) => (c.req.path.startsWith('/auth/') ? auth : plain)(c, next));
  app.all('*', async (c) => {
    const url = new URL(c.req.url);
    const r = await origin.handle(c.req.method, url.pathname + url.search, (n) => c.req.header(n));
    if (r.json !== undefined) {
      for (const [k, v] of Object.entries(r.headers)) {
        if (k === 'content-type') continue;
        for (const one of Array.isArray(v) ? v : [v]) c.header(k, one, { append: true });
      }
      return c.json(r.json as object, r.status as 200);
    }
    return fetchReply(r);
  });
  return serveFetch(async (req, env) => app.fetch(req, env as object));
};

/** The plain Fetch wrapper around a `Request → Response` handler. */
const fetchServer: StartServer = async (mw, origin) => {
  const handler = async (req: Request) => {
    const url = new URL(req.url);
    const r = await origin.handle(
      req.method,
      url.pathname + url.search,
      (n) => req.headers.get(n) ?? undefined,
    );
    return fetchReply(r);
  };
  const plain = cachingFetch(mw, POLICY, handler);
  const auth = cachingFetch(mw, AUTH_POLICY, handler);
  return serveFetch((req, env) =>
    (new URL(req.url).pathname.startsWith('/auth/') ? auth : plain)(req, env),
  );
};

/** Every adapter, by name. */
export const ADAPTERS: Record<string, StartServer> = {
  'node:http': node,
  express: expressServer,
  fastify: fastifyServer,
  hono: honoServer,
  fetch: fetchServer,
};
