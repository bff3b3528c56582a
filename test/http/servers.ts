/**
 * One real server per adapter on 127.0.0.1, port 0, each serving the shared {@link Origin}
 * through `CachingMiddleware` with the scenario policies: the paths in {@link ROUTE_POLICIES}
 * have their own, everything else uses the default policy.
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

/** Path prefixes with a policy of their own; every adapter routes them the same way. */
export const ROUTE_POLICIES: Readonly<Record<string, CachePolicy>> = {
  '/auth/': AUTH_POLICY,
  // Every cookie but the ignored ones selects the response.
  '/cookies/': { ttl: '30s', varyBy: ['cookie'] },
  // Only the `sid` cookie selects the response.
  '/sid/': { ttl: '30s', varyBy: ['cookie:sid'] },
  // The middleware's ignored cookies plus this route's own.
  '/themed/': { ttl: '30s', ignoreCookies: ['theme'] },
  // No ttl: only the origin's freshness, heuristics (RFC 9111 §4.2.2) and validators.
  '/nottl/': {},
};

const PREFIXES = Object.keys(ROUTE_POLICIES);

/** The prefix of ROUTE_POLICIES `path` falls under, if any. */
function prefixOf(path: string | undefined): string | undefined {
  return PREFIXES.find((p) => path?.startsWith(p));
}

/** One handler per route policy plus the default, picked by path. */
function perRoute<T>(make: (policy: CachePolicy) => T): (path: string | undefined) => T {
  const fallback = make(POLICY);
  const byPrefix = new Map(PREFIXES.map((p) => [p, make(ROUTE_POLICIES[p]!)] as const));
  return (path) => {
    const prefix = prefixOf(path);
    return prefix === undefined ? fallback : byPrefix.get(prefix)!;
  };
}

/** A running server. */
export interface Running {
  url: string;
  /** How many requests for `path` (query excluded) reached the server, before any handler. */
  received(path: string): number;
  close(): Promise<void>;
}

/** Counts the requests reaching `server` by path, ahead of every other listener. */
function countRequests(server: Server): (path: string) => number {
  const counts = new Map<string, number>();
  server.prependListener('request', (req: IncomingMessage) => {
    const path = (req.url ?? '/').split('?')[0]!;
    counts.set(path, (counts.get(path) ?? 0) + 1);
  });
  return (path) => counts.get(path) ?? 0;
}

/**
 * Starts a server for one adapter: through `mw`, or without any cache when `mw` is
 * undefined (what the origin's client would see without us, for the robustness rows).
 */
export type StartServer = (mw: CachingMiddleware | undefined, origin: Origin) => Promise<Running>;

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
  const received = countRequests(server);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        received,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/**
 * Writes a misbehaving reply (`r.fault`) with node's own calls, as a broken node:http or
 * Express handler does (issue #10 item 9).
 */
function writeFault(res: ServerResponse, r: OriginReply): void {
  // Without a cache node reports a write after end() as an 'error' on the response, uncaught
  // when the handler has no listener: the bare servers need this one to survive it.
  res.on('error', () => {});
  const body = r.body.toString('latin1');
  switch (r.fault) {
    case 'longer':
      res.writeHead(r.status, { ...r.headers, 'content-length': '5' });
      res.write(body);
      res.end();
      return;
    case 'shorter':
      res.writeHead(r.status, { ...r.headers, 'content-length': '10' });
      res.end(body);
      return;
    case 'reset':
      res.writeHead(r.status, r.headers);
      res.write(body);
      setImmediate(() => res.destroy());
      return;
    case 'write-after-end':
      res.writeHead(r.status, r.headers);
      res.end(body);
      res.write('more');
      return;
    case 'head-twice':
      res.writeHead(r.status, r.headers);
      res.write(body.slice(0, 1));
      try {
        res.writeHead(201);
      } catch {
        // What a careful handler does: node threw, as it does without the cache.
      }
      res.end(body.slice(1));
      return;
  }
}

/** node:http: `setHeader` for the content type, `writeHead` for the rest, several `write`s. */
export const node: StartServer = async (mw, origin) => {
  const writeReply = (res: ServerResponse, r: OriginReply) => {
    if (r.fault !== undefined) return writeFault(res, r);
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
  if (mw === undefined) return listen(createServer(app));
  const pick = perRoute((policy) => mw.handler(policy, app));
  return listen(createServer((req, res) => pick(req.url)(req, res)));
};

/** Express 5: `res.status().set()` then `res.json`, `res.send` or `res.write` + `res.end`. */
const expressServer: StartServer = async (mw, origin) => {
  const app = express();
  if (mw !== undefined) {
    const pick = perRoute((policy) => mw.handler(policy));
    app.use((req, res, next) => pick(req.path)(req, res, next));
  }
  app.use(async (req, res) => {
    const r = await origin.handle(req.method, req.originalUrl, nodeHeader(req));
    if (r.fault !== undefined) return writeFault(res, r);
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
  const received = countRequests(app.server);
  if (mw !== undefined) await app.register(fastifyCache(mw, POLICY));
  const handler = async (
    req: import('fastify').FastifyRequest,
    reply: import('fastify').FastifyReply,
  ) => {
    const r = await origin.handle(req.method, req.url, nodeHeader(req.raw));
    if (r.fault !== undefined) return fastifyFault(reply, r);
    reply.code(r.status).headers(r.headers);
    if (r.json !== undefined) return r.json;
    if (r.pieces) return reply.send(Readable.from(pieces(r.body, r.pieces)));
    return reply.send(r.body);
  };
  // Methods whose safety the cache does not know, which must invalidate (RFC 9111 §4.4).
  for (const method of ['PURGE', 'M-SEARCH']) {
    if (!app.supportedMethods.includes(method)) app.addHttpMethod(method);
  }
  const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'PURGE', 'M-SEARCH'];
  for (const [prefix, cache] of Object.entries(ROUTE_POLICIES)) {
    const config = mw === undefined ? {} : { cache };
    app.route({ method: [...methods], url: `${prefix}*`, handler, config });
  }
  app.route({ method: [...methods], url: '/*', handler });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: async () => {
      app.server.closeAllConnections();
      await app.close();
    },
  };
};

/** Faults a handler returning one payload can commit: a false length, a stream that dies. */
function fastifyFault(reply: import('fastify').FastifyReply, r: OriginReply) {
  reply.code(r.status).headers(r.headers);
  switch (r.fault) {
    case 'longer':
      return reply.header('content-length', '5').send(r.body);
    case 'shorter':
      return reply.header('content-length', '10').send(r.body);
    case 'reset':
      return reply.send(dyingStream(r.body));
    default:
      throw new Error(`a Fastify handler cannot express ${r.fault}`);
  }
}

/** A body stream that yields `first`, then fails: an upstream reset mid-body. */
function dyingStream(first: Buffer): Readable {
  let pushed = false;
  return new Readable({
    read() {
      if (!pushed) {
        pushed = true;
        this.push(first);
      } else setImmediate(() => this.destroy(new Error('reset mid-body')));
    },
  });
}

function fetchReply(r: OriginReply): Response {
  const headers = new Headers();
  for (const [k, v] of Object.entries(r.headers)) {
    for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one);
  }
  if (r.fault !== undefined) {
    if (r.fault === 'longer') headers.set('content-length', '5');
    else if (r.fault === 'shorter') headers.set('content-length', '10');
    else if (r.fault !== 'reset') throw new Error(`a Fetch handler cannot express ${r.fault}`);
  }
  const body =
    r.status === 204 || r.status === 304
      ? null
      : r.fault === 'reset'
        ? (Readable.toWeb(dyingStream(r.body)) as ReadableStream<Uint8Array>)
        : r.pieces
          ? (Readable.toWeb(Readable.from(pieces(r.body, r.pieces))) as ReadableStream<Uint8Array>)
          : r.body;
  return new Response(body, { status: r.status, headers });
}

async function serveFetch(
  fetch: (req: Request, env: unknown) => Response | Promise<Response>,
): Promise<Running> {
  return new Promise((resolve) => {
    let received: (path: string) => number = () => 0;
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        received: (path) => received(path),
        close: () =>
          new Promise<void>((done) => {
            (server as Server).closeAllConnections();
            server.close(() => done());
          }),
      });
    });
    received = countRequests(server as Server);
  });
}

/** Hono 4 middleware: `c.json` for JSON, a `Response` otherwise. */
const honoServer: StartServer = async (mw, origin) => {
  const app = new Hono();
  if (mw !== undefined) {
    const pick = perRoute((policy) => honoCache(mw, policy));
    app.use('*', (c, next) => pick(c.req.path)(c, next));
  }
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
  if (mw === undefined) return serveFetch(handler);
  const pick = perRoute((policy) => cachingFetch(mw, policy, handler));
  return serveFetch((req, env) => pick(new URL(req.url).pathname)(req, env));
};

/** Every adapter, by name. */
export const ADAPTERS: Record<string, StartServer> = {
  'node:http': node,
  express: expressServer,
  fastify: fastifyServer,
  hono: honoServer,
  fetch: fetchServer,
};
