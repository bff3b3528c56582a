/**
 * Robust against the origin (issue #10 item 9): a handler that sends a body longer or shorter
 * than its Content-Length, resets mid-body, writes after end() or writes its head twice never
 * gets an entry stored, never gets an uncaught error from the cache (vitest fails the run on
 * one), and its client sees what node would give it without the cache. Runs on plain
 * node:http and on Express, both through `CachingMiddleware.handler`.
 */
import {
  createServer,
  get,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { fastifyCache } from '../../src/adapters/fastify.js';
import { cachingFetch, honoCache } from '../../src/adapters/hono.js';
import { CachingMiddleware } from '../../src/http/caching-middleware.js';
import type { SkipReason } from '../../src/http/events.js';
import { MemoryCache } from '../../src/stores/memory/memory-cache.js';
import { until } from './client.js';

type Origin = (req: IncomingMessage, res: ServerResponse) => void;

/** What a client saw: status and body, or the error its request ended with. */
async function fetchOnce(url: string): Promise<string> {
  return new Promise((resolve) => {
    // Connection: close, so a body shorter than its length ends with the socket, not a timeout.
    const req = get(url, { headers: { connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(`${res.statusCode} ${Buffer.concat(chunks).toString()}`));
      res.on('error', () => resolve(`${res.statusCode} aborted`));
    });
    req.on('error', () => resolve('error'));
  });
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function listen(handler: Origin): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(
    () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const ADAPTERS: Record<string, (mw: CachingMiddleware, origin: Origin) => Promise<string>> = {
  'node:http': (mw, origin) => {
    const h = mw.handler({ ttl: '1m' }, origin);
    return listen((req, res) => h(req, res));
  },
  express: (mw, origin) => {
    const app = express();
    app.use(mw.handler({ ttl: '1m' }));
    app.use((req, res) => origin(req, res));
    return listen(app);
  },
};

interface Case {
  name: string;
  reason: SkipReason;
  origin: Origin;
  /** What the bare server gives its client, when the cached one must give the same. */
  sameAsBare: boolean;
}

const CASES: Case[] = [
  {
    name: 'a body longer than its Content-Length',
    reason: 'incomplete',
    sameAsBare: true,
    origin: (_req, res) => {
      res.writeHead(200, { 'content-length': '5' });
      res.write('0123456789');
      res.end();
    },
  },
  {
    name: 'a body shorter than its Content-Length',
    reason: 'incomplete',
    sameAsBare: true,
    origin: (_req, res) => {
      res.writeHead(200, { 'content-length': '10' });
      res.end('01234');
    },
  },
  {
    name: 'a reset mid-body',
    reason: 'aborted',
    sameAsBare: true,
    origin: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('part');
      setImmediate(() => res.destroy());
    },
  },
  {
    // Without the cache node reports this as an 'error' on the response, uncaught when the
    // handler has no listener; the client's view is the same either way.
    name: 'a write after end()',
    reason: 'write-after-end',
    sameAsBare: false,
    origin: (_req, res) => {
      res.end('done');
      res.write('more');
    },
  },
  {
    name: 'a head written twice (the handler catching node’s ERR_HTTP_HEADERS_SENT)',
    reason: 'headers-twice',
    sameAsBare: true,
    origin: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('a');
      try {
        res.writeHead(201);
      } catch {
        // what a careful handler does; node threw, as it does without the cache
      }
      res.end('b');
    },
  },
];

for (const [adapter, start] of Object.entries(ADAPTERS)) {
  describe(`robust against the origin (${adapter})`, () => {
    for (const c of CASES) {
      it(`${c.name}: never stored, the client gets what node gives`, async () => {
        const mw = new CachingMiddleware(new MemoryCache());
        const skips: SkipReason[] = [];
        mw.on('skip', ({ reason }) => skips.push(reason));
        const url = await start(mw, (req, res) => {
          // A listener of our own on the write-after-end case, so the bare run does not crash.
          res.on('error', () => {});
          c.origin(req, res);
        });
        const first = await fetchOnce(`${url}/p`);
        await until(() => skips.length === 1, 10_000, 'the skip event');
        const second = await fetchOnce(`${url}/p`);
        await until(() => skips.length === 2, 10_000, 'the second skip event');
        expect(skips).toEqual([c.reason, c.reason]);
        expect(mw.stats().stores).toBe(0);
        // Not stored: the second request went to the origin again and got the same answer.
        expect(second).toBe(first);
        if (c.sameAsBare) {
          const bare = await listen((req, res) => {
            res.on('error', () => {});
            c.origin(req, res);
          });
          expect(first).toBe(await fetchOnce(`${bare}/p`));
        } else {
          expect(first).toBe('200 done');
        }
      });
    }
  });
}

/** Fastify and Hono / Fetch: a declared length the body does not match is never stored. */
describe('robust against the origin (Fastify, Hono, Fetch): Content-Length mismatches', () => {
  const BODIES: [string, string, string][] = [
    ['longer', '5', '0123456789'],
    ['shorter', '10', '01234'],
  ];
  type Start = (mw: CachingMiddleware, length: string, body: string) => Promise<string>;
  const START: Record<string, Start> = {
    fastify: async (mw, length, body) => {
      const app = Fastify();
      await app.register(fastifyCache(mw, { ttl: '1m' }));
      app.get('/p', (_req, reply) => {
        reply.header('content-length', length).send(body);
      });
      await app.listen({ port: 0, host: '127.0.0.1' });
      closers.push(async () => {
        app.server.closeAllConnections();
        await app.close();
      });
      return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    },
    hono: async (mw, length, body) => {
      const app = new Hono();
      app.use('*', honoCache(mw, { ttl: '1m' }));
      app.get('/p', () => new Response(body, { headers: { 'content-length': length } }));
      return serveFetch(app.fetch);
    },
    fetch: async (mw, length, body) =>
      serveFetch(
        cachingFetch(
          mw,
          { ttl: '1m' },
          () => new Response(body, { headers: { 'content-length': length } }),
        ),
      ),
  };
  for (const [adapter, start] of Object.entries(START)) {
    for (const [what, length, body] of BODIES) {
      it(`${adapter}: a body ${what} than its Content-Length is never stored`, async () => {
        const mw = new CachingMiddleware(new MemoryCache());
        const skips: SkipReason[] = [];
        mw.on('skip', ({ reason }) => skips.push(reason));
        const url = await start(mw, length, body);
        await fetchOnce(`${url}/p`);
        await until(() => skips.length === 1, 10_000, 'the skip event');
        await fetchOnce(`${url}/p`);
        await until(() => skips.length === 2, 10_000, 'the second skip event');
        expect(skips).toEqual(['incomplete', 'incomplete']);
        expect(mw.stats().stores).toBe(0);
      });
    }
  }
});

async function serveFetch(fetch: (req: Request) => Response | Promise<Response>): Promise<string> {
  return new Promise((resolve) => {
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
      resolve(`http://127.0.0.1:${info.port}`);
    }) as Server;
    closers.push(
      () =>
        new Promise((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    );
  });
}
