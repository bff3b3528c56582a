/**
 * RFC 9111 §4.2.4, §5.2.2.2: a stale entry marked `must-revalidate` (or `proxy-revalidate`,
 * `s-maxage`) is never served when the origin cannot be reached — the client gets
 * `504 Gateway Timeout`, not the stale body and not a crash or a hang. Covers the adapters
 * that see the origin fail: node:http with its own `origin` (a throw, a rejected promise)
 * and the Fetch wrapper (a rejected handler). Express, Fastify and Hono middleware answer a
 * handler's error with their own 500, which the cache forwards like any origin response.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cachingFetch } from '../../src/adapters/hono.js';
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
