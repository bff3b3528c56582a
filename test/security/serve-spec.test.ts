/**
 * `serve` with a CodeAI spec: `vary_by` and authentication from the `.cai` file decide who
 * shares an entry (memory and Redis), and the request-smuggling-adjacent Host and
 * forwarding attacks that only a proxy in front of another server can suffer.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { loadCodeAI } from '../../src/codeai/load.js';
import type { Cache } from '../../src/core/types.js';
import { type Proxy as CachingProxy, createProxy } from '../../src/proxy/proxy.js';
import { MemoryCache } from '../../src/stores/memory/memory-cache.js';
import { RedisCache } from '../../src/stores/redis/redis-cache.js';
import { TestOrigin } from '../serve/util.js';
import { raw } from './harness.js';

const SPEC = `
config { cache_ttl: 60 }
middleware login { type authentication }
middleware per_user { type cache config { ttl: 300 vary_by: "Authorization" } }
middleware per_session { type cache config { ttl: 300 vary_by: "Cookie" } }
middleware shared { type cache config { ttl: 300 } }
endpoint GET "/me" { middleware per_user }
endpoint GET "/session" { middleware per_session }
endpoint GET "/feed" { middleware shared }
endpoint GET "/profile" { middleware login middleware shared }
`;

function userOf(req: IncomingMessage): string {
  const sid = /(?:^|;\s*)sid=([^;]*)/.exec(req.headers.cookie ?? '')?.[1];
  return sid ?? req.headers.authorization ?? 'anonymous';
}

const BACKENDS: Record<string, () => Promise<Cache>> = {
  memory: async () => new MemoryCache(),
  redis: async () => new RedisCache({ url: inject('redisUrl'), prefix: `secspec-${randomUUID()}` }),
};

let origin: TestOrigin | undefined;
let proxy: CachingProxy | undefined;
let cache: Cache | undefined;

afterEach(async () => {
  await proxy?.close(1_000);
  await cache?.stop();
  await new Promise<void>((ok) => (origin ? origin.server.close(() => ok()) : ok()));
  proxy = undefined;
  origin = undefined;
  cache = undefined;
});

/** An origin answering every path per user, with nothing said about caching. */
async function perUserOrigin(): Promise<string> {
  origin = new TestOrigin();
  for (const path of ['/me', '/session', '/feed', '/profile']) {
    origin.on(`GET ${path}`, (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${path} of ${userOf(req)}`);
    });
  }
  return origin.listen();
}

for (const [backend, make] of Object.entries(BACKENDS)) {
  describe(`serve --spec on ${backend}: the spec's vary_by decides who shares an entry`, () => {
    it('vary_by Authorization / Cookie: per-user entries; no vary_by: credentialed requests bypass', async () => {
      const loaded = loadCodeAI(SPEC, { env: {} });
      expect(loaded.ok).toBe(true);
      cache = await make();
      await cache.start();
      proxy = createProxy({ upstream: await perUserOrigin(), cache, plan: loaded.plan });
      const { url } = await proxy.listen(0, '127.0.0.1');
      const host = new URL(url).host;
      const get = async (path: string, headers: Record<string, string> = {}) => {
        const flat = ['Host', host, ...Object.entries(headers).flat()];
        return raw(url, path, flat);
      };
      const cases: [string, Record<string, string>, Record<string, string>, string, string][] = [
        [
          '/me',
          { authorization: 'Bearer alice' },
          { authorization: 'Bearer bob' },
          'Bearer alice',
          'Bearer bob',
        ],
        ['/session', { cookie: 'sid=alice' }, { cookie: 'sid=bob' }, 'alice', 'bob'],
        [
          '/profile',
          { authorization: 'Bearer alice' },
          { authorization: 'Bearer bob' },
          'Bearer alice',
          'Bearer bob',
        ],
        ['/feed', { cookie: 'sid=alice' }, { authorization: 'Bearer bob' }, 'alice', 'Bearer bob'],
      ];
      for (const [path, alice, bob, a, b] of cases) {
        for (let round = 0; round < 3; round++) {
          const ra = await get(path, alice);
          const rb = await get(path, bob);
          const anon = await get(path);
          expect([ra.text, rb.text, anon.text], `${path} round ${round}`).toEqual([
            `${path} of ${a}`,
            `${path} of ${b}`,
            `${path} of anonymous`,
          ]);
          if (path === '/feed') expect([ra.xCache, rb.xCache]).toEqual(['BYPASS', 'BYPASS']);
        }
      }
      // Keyed routes did serve users from their own entries.
      expect(proxy.stats().hits).toBeGreaterThan(0);
    });
  });
}

describe('serve: Host and forwarding attacks', () => {
  it('regression: two Host lines are refused with 400, so an origin that reads the last one cannot fill the first one’s entry', async () => {
    origin = new TestOrigin().on('GET /site', (req, res) => {
      // The last Host line wins here, as in some servers; node itself keeps the first.
      const hosts = req.rawHeaders.filter((_, i) => i % 2 === 0 && req.rawHeaders[i] === 'Host');
      const last = req.rawHeaders[req.rawHeaders.lastIndexOf(hosts.at(-1) ?? 'Host') + 1];
      res.writeHead(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain' });
      res.end(`site ${last}`);
    });
    proxy = createProxy({ upstream: await origin.listen() });
    const { url } = await proxy.listen(0, '127.0.0.1');
    const twice = await raw(url, '/site', ['Host', 'bank.example', 'Host', 'evil.example']);
    expect(twice.status).toBe(400);
    expect(origin.count('GET /site')).toBe(0);
    expect((await raw(url, '/site', ['Host', 'bank.example'])).text).toBe('site bank.example');
  });

  it('regression: forged client-address fields neither reach the origin nor split entries (no --trust-proxy)', async () => {
    origin = new TestOrigin().on('GET /ip', (req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=60', 'content-type': 'application/json' });
      res.end(JSON.stringify(req.headers));
    });
    proxy = createProxy({ upstream: await origin.listen() });
    const { url } = await proxy.listen(0, '127.0.0.1');
    const host = new URL(url).host;
    const forged = [
      ['X-Real-IP', 'evil'],
      ['True-Client-IP', 'evil'],
      ['X-Client-IP', 'evil'],
      ['X-Forwarded-Port', 'evil'],
      ['X-Forwarded-Prefix', '/evil'],
      ['X-Forwarded-For', 'evil'],
      ['Forwarded', 'for=evil'],
    ];
    for (const [name, value] of forged) {
      const r = await raw(url, '/ip', ['Host', host, name!, value!]);
      expect(r.text, name).not.toMatch(/evil/);
    }
    // One entry for all of them: the origin was asked once.
    expect(origin.count('GET /ip')).toBe(1);
  });

  it('with --trust-proxy the forwarded fields reach the origin and enter the key', async () => {
    origin = new TestOrigin().on('GET /links', (req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain' });
      res.end(`base https://${req.headers['x-forwarded-host']}/`);
    });
    proxy = createProxy({ upstream: await origin.listen(), trustProxy: true });
    const { url } = await proxy.listen(0, '127.0.0.1');
    const host = new URL(url).host;
    const forged = await raw(url, '/links', ['Host', host, 'X-Forwarded-Host', 'evil.example']);
    expect(forged.text).toBe('base https://evil.example/');
    const clean = await raw(url, '/links', ['Host', host]);
    expect(clean.text).toBe(`base https://${host}/`);
  });
});
