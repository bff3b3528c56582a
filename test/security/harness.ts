/**
 * What the security scenarios run on: every target of test/http/targets.ts (node:http,
 * Express, Fastify, Hono, Fetch through `CachingMiddleware`, and `serve`), in front of an
 * origin that does what attacked origins do — reflect request fields into the body, answer
 * per user from a session cookie or `Authorization` without saying so, hand out cookies,
 * fail — so a test can tell whether a cached body was made for another request.
 *
 * Requests go out with node's client and a raw `path` (never through `new URL`, which would
 * resolve `..` and re-encode the path before the cache sees it) and with the header list
 * given as is (several `Host` lines, no `Host` at all).
 */
import { randomUUID } from 'node:crypto';
import { type IncomingHttpHeaders, request } from 'node:http';
import { inject } from 'vitest';
import type { Cache } from '../../src/core/types.js';
import type { CachingMiddlewareOptions } from '../../src/http/caching-middleware.js';
import { MemoryCache } from '../../src/stores/memory/memory-cache.js';
import { RedisCache } from '../../src/stores/redis/redis-cache.js';
import { until } from '../http/client.js';
import { Origin, type OriginReply } from '../http/origin.js';
import { TARGETS, type Target } from '../http/targets.js';

/** Request fields an origin (or its framework) may read and reflect into a response. */
export const REFLECTED = [
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-for',
  'x-real-ip',
  'forwarded',
  'x-original-url',
  'x-rewrite-url',
  'x-http-method-override',
  'x-host',
  'x-forwarded-port',
  'x-forwarded-prefix',
] as const;

/** The session an app reads from its `sid` cookie, or from `Authorization`. */
function userOf(header: (name: string) => string | undefined): string {
  const sid = /(?:^|;\s*)sid=([^;]*)/.exec(header('cookie') ?? '')?.[1];
  return sid ?? header('authorization') ?? 'anonymous';
}

/**
 * The origin the security rows attack. Its bodies never carry a call counter, so the same
 * route answered with and without a cache can be compared byte for byte; `count(path)` still
 * tells a hit from a miss. Everything else falls through to the scenario table's origin.
 */
export class AttackedOrigin extends Origin {
  /** Serial of the cookies `/sec/set-cookie` hands out. */
  #issued = 0;

  override async handle(
    method: string,
    url: string,
    header: (name: string) => string | undefined,
  ): Promise<OriginReply> {
    const path = url.split('?')[0] ?? '/';
    // `/sec/…` under the default policy, or under one of the table's route policies
    // (`/auth/sec/…` varies by Authorization, `/cookies/sec/…` by every cookie).
    const sec = /^(?:\/(?:auth|cookies|sid|nottl))?\/sec(\/.*)$/.exec(path);
    if (sec === null && !/account/i.test(url)) return super.handle(method, url, header);
    this.calls.set(path, (this.calls.get(path) ?? 0) + 1);
    const text = (status: number, body: string, headers: Record<string, string | string[]> = {}) =>
      ({
        status,
        headers: { 'content-type': 'text/plain; charset=utf-8', ...headers },
        body: Buffer.from(body),
      }) satisfies OriginReply;
    const fresh = { 'cache-control': 'max-age=60' };
    // A dynamic per-user page that says nothing about caching, reached however the path is
    // dressed up (`/account/x.css`, `/account;x.css`, …: frameworks that ignore what follows).
    if (/account/i.test(url)) return text(200, `account of ${userOf(header)} at ${url}`);
    const route = sec?.[1] ?? '';
    // Reflects every field a poisoning attack forges, and the target, as a page that builds
    // absolute links or redirects from them would.
    if (route === '/reflect' || route.startsWith('/reflect/')) {
      const seen: Record<string, string> = { host: header('host') ?? '', url };
      for (const name of REFLECTED) {
        const v = header(name);
        if (v !== undefined) seen[name] = v;
      }
      return text(200, JSON.stringify(seen), fresh);
    }
    if (route === '/me') return text(200, `user ${userOf(header)}`, fresh);
    if (route === '/me-private') {
      return text(200, `user ${userOf(header)}`, { 'cache-control': 'private, max-age=60' });
    }
    if (route === '/me-must-revalidate') {
      return text(200, `user ${userOf(header)}`, {
        'cache-control': 'max-age=60, must-revalidate',
      });
    }
    if (route === '/me-vary-cookie') {
      return text(200, `user ${userOf(header)}`, { ...fresh, vary: 'Cookie' });
    }
    if (route.startsWith('/set-cookie')) {
      const n = ++this.#issued;
      const cc = route.endsWith('/public') ? 'public, max-age=60' : 'max-age=60';
      return text(200, `welcome ${n}`, {
        'cache-control': cc,
        'set-cookie': [`sid=session-${n}; HttpOnly; Path=/`, `csrf=token-${n}`],
      });
    }
    const err = /^\/err\/(\d{3})$/.exec(route);
    if (err !== null) return text(Number(err[1]), `error ${err[1]} ${randomUUID()}`);
    return text(404, 'no such security route');
  }
}

/** Backends a row runs on; Redis only for the rows marked so (the shared test server). */
export const BACKENDS: Record<string, () => Promise<Cache>> = {
  memory: async () => {
    const cache = new MemoryCache({ maxMemory: '16mb' });
    await cache.start();
    return cache;
  },
  redis: async () => {
    const cache = new RedisCache({ url: inject('redisUrl'), prefix: `sec-${randomUUID()}` });
    await cache.start();
    return cache;
  },
};

/** A response as received. */
export interface Got {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  xCache: string | undefined;
}

/**
 * Sends one request with `path` as the raw request target and `headers` as a flat list of
 * name, value pairs sent as given (`Host` included: none is added).
 */
export function raw(
  base: string,
  path: string,
  headers: readonly string[] = [],
  method = 'GET',
): Promise<Got> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: hostname,
        port,
        path,
        method,
        setHost: false,
        headers: headers.length === 0 ? {} : [...headers],
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const x = res.headers['x-cache'];
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
            xCache: Array.isArray(x) ? x.join(',') : x,
          });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** One running target on one backend, for one test. */
export interface SecEnv {
  target: string;
  backend: string;
  url: string;
  origin: AttackedOrigin;
  /** GET (or `method`) `path` as a raw target, with `Host: 127.0.0.1:<port>` unless given. */
  get(path: string, headers?: Record<string, string>, method?: string): Promise<Got>;
  /** Same as `get`, with a flat header list sent exactly as given. */
  raw(path: string, headers: readonly string[], method?: string): Promise<Got>;
  /** The same origin without a cache: what a client would get from it directly. */
  bare(path: string, headers?: Record<string, string>): Promise<Got>;
  /** Waits until `n` responses have been stored in total. */
  stored(n: number): Promise<void>;
  stores(): number;
}

/** Opens `target` on `backend` with middleware `options`; `close` releases everything. */
export async function openEnv(
  target: string,
  backend: string,
  options: CachingMiddlewareOptions = {},
): Promise<SecEnv & { close(): Promise<void> }> {
  const cache = await BACKENDS[backend]!();
  const origin = new AttackedOrigin();
  let t: Target;
  try {
    t = await TARGETS[target]!(cache, options, origin);
  } catch (err) {
    await cache.stop();
    throw err;
  }
  const hostOf = (url: string) => new URL(url).host;
  const flat = (host: string, headers: Record<string, string>) => {
    const out: string[] = [];
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'host')) out.push('Host', host);
    for (const [k, v] of Object.entries(headers)) out.push(k, v);
    return out;
  };
  return {
    target,
    backend,
    url: t.url,
    origin,
    get: (path, headers = {}, method) => raw(t.url, path, flat(hostOf(t.url), headers), method),
    raw: (path, headers, method) => raw(t.url, path, headers, method),
    bare: async (path, headers = {}) => {
      const url = await t.bare();
      return raw(url, path, flat(hostOf(url), headers));
    },
    stored: (n) => until(() => t.mw.stats().stores >= n, 10_000, `${n} stored responses`),
    stores: () => t.mw.stats().stores,
    close: async () => {
      await t.close();
      await cache.stop();
    },
  };
}

/** Every target's name: the five adapters, then `serve`. */
export const TARGET_NAMES = Object.keys(TARGETS);
