/**
 * RFC 9111 §4.2.4, §5.2.2.2: a stale entry marked `must-revalidate` (or `proxy-revalidate`,
 * `s-maxage`) is never served when the origin cannot be reached — the client gets
 * `504 Gateway Timeout`, not the stale body and not a crash or a hang. On every adapter:
 * node:http with its own `origin` (a throw, a rejected promise), the Fetch wrapper (a
 * rejected handler), and Express, Fastify and Hono, where a handler's error (a throw, a
 * rejected promise, `next(err)`, `reply.send(err)`) reaches the cache as the framework's own
 * 500 — a 5xx the cache takes as the origin failing (§4.3.3), as it does a 5xx the handler
 * sends itself.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express, {
  type Response as ExpressResponse,
  type NextFunction,
  type Request,
} from 'express';
import Fastify, { type FastifyReply } from 'fastify';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { fastifyCache } from '../../src/adapters/fastify.js';
import { cachingFetch, honoCache } from '../../src/adapters/hono.js';
import { CachingMiddleware } from '../../src/http/caching-middleware.js';
import { MemoryCache } from '../../src/stores/memory/memory-cache.js';
import { until } from './client.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function clocked() {
  let t = Date.parse('2026-01-01T00:00:00Z');
  const mw = new CachingMiddleware(new MemoryCache(), { clock: { now: () => t } });
  return { mw, advance: (ms: number) => (t += ms) };
}

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<string> {
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

describe('must-revalidate with an unreachable origin answers 504 (RFC 9111 §5.2.2.2)', () => {
  for (const mode of ['throws', 'rejects'] as const) {
    it(`node:http: the origin ${mode} after the entry went stale`, async () => {
      const { mw, advance } = clocked();
      let calls = 0;
      const origin = (_req: IncomingMessage, res: ServerResponse): unknown => {
        calls += 1;
        if (calls > 1) {
          if (mode === 'throws') throw new Error('origin down');
          return Promise.reject(new Error('origin down'));
        }
        res.setHeader('cache-control', 'max-age=1, must-revalidate, stale-if-error=60');
        res.end('v1');
        return undefined;
      };
      const url = await listen(mw.handler({}, origin));
      const first = await fetch(`${url}/a`);
      expect([first.status, await first.text()]).toEqual([200, 'v1']);
      await until(() => mw.stats().stores === 1);
      advance(2000);
      const stale = await fetch(`${url}/a`, { headers: { 'cache-control': 'max-stale=60' } });
      expect([stale.status, await stale.text(), stale.headers.get('x-cache')]).toEqual([
        504,
        '',
        'MISS',
      ]);
      expect(calls).toBe(2);
    });
  }

  for (const cc of ['max-age=1, must-revalidate', 'max-age=1, proxy-revalidate', 's-maxage=1']) {
    it(`Fetch: a rejected handler behind a stale "${cc}" entry`, async () => {
      const { mw, advance } = clocked();
      let calls = 0;
      const fetchCached = cachingFetch(mw, {}, async () => {
        calls += 1;
        if (calls > 1) throw new Error('origin down');
        return new Response('v1', { headers: { 'cache-control': cc } });
      });
      const first = await fetchCached(new Request('http://x.test/a'));
      expect(await first.text()).toBe('v1');
      await until(() => mw.stats().stores === 1);
      advance(2000);
      const stale = await fetchCached(new Request('http://x.test/a'));
      expect([stale.status, stale.headers.get('x-cache')]).toEqual([504, 'MISS']);
    });
  }

  it('Fetch: without must-revalidate the handler error still reaches the caller', async () => {
    const { mw, advance } = clocked();
    let calls = 0;
    const fetchCached = cachingFetch(mw, {}, async () => {
      calls += 1;
      if (calls > 1) throw new Error('origin down');
      return new Response('v1', { headers: { 'cache-control': 'max-age=1' } });
    });
    await (await fetchCached(new Request('http://x.test/a'))).text();
    await until(() => mw.stats().stores === 1);
    advance(2000);
    await expect(fetchCached(new Request('http://x.test/a'))).rejects.toThrow('origin down');
  });
});

/** How a framework handler fails once the entry is stale. */
type Failure = 'throws' | 'rejects' | 'next-error' | 'reply-error' | 'answers-503';

/** What each framework's handler is told to do: `ok` or how to fail. */
interface Control {
  cc: string;
  fail: Failure | undefined;
}

/** Starts one framework with the cache in front of a handler obeying `control`. */
type Framework = (mw: CachingMiddleware, control: Control) => Promise<string>;

function track(server: Server): string {
  closers.push(
    () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const FRAMEWORKS: Record<string, { start: Framework; failures: readonly Failure[] }> = {
  express: {
    failures: ['throws', 'rejects', 'next-error', 'answers-503'],
    start: async (mw, control) => {
      const app = express();
      app.set('env', 'test'); // finalhandler: no stack trace on stderr
      app.use(mw.handler({}));
      app.get('/a', async (_req: Request, res: ExpressResponse, next: NextFunction) => {
        if (control.fail === 'throws') throw new Error('origin down');
        if (control.fail === 'rejects') return Promise.reject(new Error('origin down'));
        if (control.fail === 'next-error') return next(new Error('origin down'));
        if (control.fail === 'answers-503') return res.status(503).send('down');
        res.set('cache-control', control.cc).send('v1');
      });
      const server = createServer(app);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return track(server);
    },
  },
  fastify: {
    failures: ['throws', 'rejects', 'reply-error', 'answers-503'],
    start: async (mw, control) => {
      const app = Fastify();
      await app.register(fastifyCache(mw, {}));
      app.get('/a', (_req, reply: FastifyReply) => {
        if (control.fail === 'throws') throw new Error('origin down');
        if (control.fail === 'rejects') return Promise.reject(new Error('origin down'));
        if (control.fail === 'reply-error') return reply.send(new Error('origin down'));
        if (control.fail === 'answers-503') return reply.code(503).send('down');
        return reply.header('cache-control', control.cc).send('v1');
      });
      await app.listen({ port: 0, host: '127.0.0.1' });
      closers.push(async () => {
        app.server.closeAllConnections();
        await app.close();
      });
      return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    },
  },
  hono: {
    failures: ['throws', 'rejects', 'answers-503'],
    start: async (mw, control) => {
      const app = new Hono();
      app.use('*', honoCache(mw, {}));
      // The framework's 500, without the default handler's console output.
      app.onError((_error, c) => c.text('Internal Server Error', 500));
      app.get('/a', async (c) => {
        if (control.fail === 'throws') throw new Error('origin down');
        if (control.fail === 'rejects') return Promise.reject(new Error('origin down'));
        if (control.fail === 'answers-503') return c.text('down', 503);
        c.header('cache-control', control.cc);
        return c.text('v1');
      });
      const server = await new Promise<Server>((resolve) => {
        const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
          resolve(s as Server),
        );
      });
      return track(server);
    },
  },
};

for (const [name, { start, failures }] of Object.entries(FRAMEWORKS)) {
  describe(`${name}: a handler failing behind a stale must-revalidate entry answers 504 (RFC 9111 §5.2.2.2, §4.3.3)`, () => {
    for (const fail of failures) {
      it(`the handler ${fail}`, async () => {
        const { mw, advance } = clocked();
        const control: Control = {
          cc: 'max-age=1, must-revalidate, stale-if-error=60',
          fail: undefined,
        };
        const url = await start(mw, control);
        const first = await fetch(`${url}/a`);
        expect([first.status, await first.text()]).toEqual([200, 'v1']);
        await until(() => mw.stats().stores === 1);
        advance(2000);
        control.fail = fail;
        const stale = await fetch(`${url}/a`, { headers: { 'cache-control': 'max-stale=60' } });
        expect([stale.status, await stale.text(), stale.headers.get('x-cache')]).toEqual([
          504,
          '',
          'MISS',
        ]);
        // Once the handler answers again the request is served from the origin (Express's
        // own ETag makes that a 304 revalidation, served as HIT), never from the stale entry.
        control.fail = undefined;
        const calls = mw.stats().misses;
        const back = await fetch(`${url}/a`);
        expect([back.status, await back.text()]).toEqual([200, 'v1']);
        expect(mw.stats().misses).toBe(calls + 1);
      });
    }

    for (const cc of ['max-age=1, proxy-revalidate', 's-maxage=1']) {
      it(`a stale "${cc}" entry too`, async () => {
        const { mw, advance } = clocked();
        const control: Control = { cc, fail: undefined };
        const url = await start(mw, control);
        await (await fetch(`${url}/a`)).text();
        await until(() => mw.stats().stores === 1);
        advance(2000);
        control.fail = 'throws';
        const stale = await fetch(`${url}/a`);
        expect([stale.status, stale.headers.get('x-cache')]).toEqual([504, 'MISS']);
      });
    }

    it("without must-revalidate the framework's 500 is forwarded, and stale-if-error still serves stale", async () => {
      const { mw, advance } = clocked();
      const control: Control = { cc: 'max-age=1', fail: undefined };
      const url = await start(mw, control);
      await (await fetch(`${url}/a`)).text();
      await until(() => mw.stats().stores === 1);
      advance(2000);
      control.fail = 'throws';
      const failed = await fetch(`${url}/a`);
      expect([failed.status, failed.headers.get('x-cache')]).toEqual([500, 'MISS']);
      const sie = clocked();
      const sieControl: Control = { cc: 'max-age=1, stale-if-error=60', fail: undefined };
      const sieUrl = await start(sie.mw, sieControl);
      await (await fetch(`${sieUrl}/a`)).text();
      await until(() => sie.mw.stats().stores === 1);
      sie.advance(2000);
      sieControl.fail = 'throws';
      const stale = await fetch(`${sieUrl}/a`);
      expect([stale.status, await stale.text(), stale.headers.get('x-cache')]).toEqual([
        200,
        'v1',
        'STALE',
      ]);
    });
  });
}
