/**
 * The scenario table: every row runs unchanged against every target (each adapter, and
 * `serve`) and every backend (see scenarios.test.ts). Rows read as specs; each drives a
 * real server over loopback.
 *
 * A row covering an item of issue #10 starts its name with `#10.N` (several: `#10.N, #10.M`)
 * and names its RFC section; coverage.test.ts checks that every item 1–10 has one.
 */
import { Agent } from 'node:http';
import { expect } from 'vitest';
import type { CachingMiddlewareOptions } from '../../src/http/caching-middleware.js';
import { countCacheMisses, outcome, type Received, send, until } from './client.js';
import {
  BIG,
  BINARY,
  FAULTS,
  type Fault,
  FIXED_DATE,
  GZIP_TEXT,
  GZIPPED,
  LAST_MODIFIED,
  type Origin,
} from './origin.js';
import type { TableMiddleware } from './targets.js';

/** What a scenario gets: a running server of one target on one backend. */
export interface Env {
  /** The target's name: an adapter of servers.ts, or `serve`. */
  adapter: string;
  url: string;
  origin: Origin;
  /** The cache under test: the middleware, or the proxy's (stats summed, admin invalidation). */
  mw: TableMiddleware;
  /** Moves the middleware's clock forward. */
  advance(ms: number): void;
  get(path: string, headers?: Record<string, string>, method?: string): Promise<Received>;
  /** Waits until the middleware has stored `n` responses in total. */
  stored(n: number): Promise<void>;
  /** Why each response of this test went unstored so far (the middleware's `skip` events). */
  skips(): readonly string[];
  /** The URL of the same origin served without any cache (started on first use). */
  bare(): Promise<string>;
}

/** One row of the table. */
export interface Scenario {
  name: string;
  /** Middleware options for this row, on top of {@link TABLE_OPTIONS}. */
  options?: CachingMiddlewareOptions;
  /** Targets this row cannot run on, each with the reason (shown in the skipped test's name). */
  skip?: Readonly<Record<string, string>>;
  /** Targets with a known bug this row shows: it runs as `it.fails`, so the fix is noticed. */
  fails?: Readonly<Record<string, string>>;
  run(env: Env): Promise<void>;
}

/** Why `serve` skips a row: it has no route policy, the origin's headers alone decide. */
const NO_POLICY = 'a route policy (ttl, varyBy, ignoreCookies); serve without a spec has none';

/** Middleware options every row runs with. */
export const TABLE_OPTIONS: CachingMiddlewareOptions = { ignoreCookies: ['_ga', '_ga_*'] };

async function missThenHit(env: Env, path: string, headers?: Record<string, string>) {
  const stores = env.mw.stats().stores;
  const first = await env.get(path, headers);
  expect(first.xCache).toBe('MISS');
  await env.stored(stores + 1);
  const second = await env.get(path, headers);
  expect(second.xCache).toBe('HIT');
  return [first, second] as const;
}

/** How each fault reads in a row name. */
const FAULT_WORDS: Readonly<Record<Fault, string>> = {
  longer: 'body longer than its Content-Length',
  shorter: 'body shorter than its Content-Length',
  reset: 'reset mid-body',
  'write-after-end': 'handler writing after end()',
  'head-twice': 'handler writing its head twice',
};

/** Why the recorder leaves each fault unstored (events.ts `SkipReason`). */
const FAULT_REASONS: Readonly<Record<Fault, string>> = {
  longer: 'incomplete',
  shorter: 'incomplete',
  reset: 'aborted',
  'write-after-end': 'write-after-end',
  'head-twice': 'headers-twice',
};

/**
 * Behind `serve` the fault reaches the proxy over the wire: node's HTTP client reads a body
 * that does not match its length as a cut connection, and the forwarder cuts its own client
 * off (src/proxy/forward.ts): the recorder sees an abort.
 */
const SERVE_FAULT_REASONS: Readonly<Record<Fault, string>> = {
  ...FAULT_REASONS,
  longer: 'aborted',
  shorter: 'aborted',
};

const ONE_PAYLOAD =
  'a handler that returns one payload never calls end() and never writes a head itself';
const ABSORBED =
  "the origin's own node:http server absorbs it before the wire (it throws in the origin); serve receives a well-formed response";

/** Targets a fault cannot be written on, and why. */
const FAULT_SKIPS: Readonly<Record<Fault, Readonly<Record<string, string>> | undefined>> = {
  longer: undefined,
  shorter: undefined,
  reset: undefined,
  'write-after-end': {
    fastify: ONE_PAYLOAD,
    hono: ONE_PAYLOAD,
    fetch: ONE_PAYLOAD,
    serve: ABSORBED,
  },
  'head-twice': { fastify: ONE_PAYLOAD, hono: ONE_PAYLOAD, fetch: ONE_PAYLOAD, serve: ABSORBED },
};

export const SCENARIOS: Scenario[] = [
  {
    name: 'stores a fresh GET and replays status, headers and body as a HIT with Age',
    async run(env) {
      const [miss, hit] = await missThenHit(env, '/cached');
      expect(hit.status).toBe(200);
      expect(hit.text).toBe(miss.text);
      expect(JSON.parse(hit.text)).toMatchObject({ path: '/cached', n: 1 });
      expect(hit.headers['content-type']).toBe(miss.headers['content-type']);
      expect(hit.headers['x-custom']).toBe('kept');
      expect(hit.headers.link).toBe('</a>; rel=a, </b>; rel=b');
      expect(hit.headers.age).toBe('0');
      expect(miss.headers.age).toBeUndefined();
      expect(env.origin.count('/cached')).toBe(1);
    },
  },
  {
    name: 'replays a binary body written in several pieces byte for byte',
    async run(env) {
      const [miss, hit] = await missThenHit(env, '/binary');
      expect(Buffer.compare(miss.body, BINARY)).toBe(0);
      expect(Buffer.compare(hit.body, BINARY)).toBe(0);
      expect(hit.headers['content-length']).toBe(String(BINARY.length));
    },
  },
  {
    name: 'serves HEAD from the GET entry without a body, and never stores a HEAD',
    async run(env) {
      const head0 = await env.get('/posts/head', {}, 'HEAD');
      expect(head0.body.length).toBe(0);
      const [miss] = await missThenHit(env, '/posts/head');
      const head = await env.get('/posts/head', {}, 'HEAD');
      expect(head.status).toBe(200);
      expect(head.xCache).toBe('HIT');
      expect(head.body.length).toBe(0);
      expect(head.headers['content-length']).toBe(String(miss.body.length));
    },
  },
  {
    name: 'answers If-None-Match and If-Modified-Since with 304 from the stored entry',
    async run(env) {
      await missThenHit(env, '/etag');
      const inm = await env.get('/etag', { 'if-none-match': 'W/"v1"' });
      expect(inm.status).toBe(304);
      expect(inm.xCache).toBe('HIT');
      expect(inm.headers.etag).toBe('"v1"');
      expect(inm.body.length).toBe(0);
      const ims = await env.get('/etag', { 'if-modified-since': 'Tue, 01 Jan 2029 00:00:00 GMT' });
      expect(ims.status).toBe(304);
      const other = await env.get('/etag', { 'if-none-match': '"v2"' });
      expect(other.status).toBe(200);
      expect(other.text).toBe('etag 1');
      expect(other.headers.date).toBe(FIXED_DATE);
    },
  },
  {
    name: 'answers a conditional MISS with 304 and still stores the full response',
    async run(env) {
      const first = await env.get('/etag', { 'if-none-match': '"v1"' });
      expect(first.status).toBe(304);
      expect(first.xCache).toBe('MISS');
      await env.stored(1);
      const full = await env.get('/etag');
      expect(full.status).toBe(200);
      expect(full.xCache).toBe('HIT');
      expect(full.text).toBe('etag 1');
    },
  },
  {
    name: 'revalidates a no-cache entry with the origin and serves the stored body on 304',
    async run(env) {
      const first = await env.get('/validate');
      expect([first.xCache, first.text]).toEqual(['MISS', 'validate 1']);
      await env.stored(1);
      const second = await env.get('/validate');
      expect([second.status, second.xCache, second.text]).toEqual([200, 'HIT', 'validate 1']);
      expect(second.headers.etag).toBe('"v1"');
      expect(env.origin.count('/validate')).toBe(2);
      expect(env.mw.stats().revalidated).toBe(1);
      await env.stored(2);
      const conditional = await env.get('/validate', { 'if-none-match': '"v1"' });
      expect(conditional.status).toBe(304);
    },
  },
  {
    name: 'uses the policy ttl for responses that state no freshness, then refetches',
    skip: { serve: NO_POLICY },
    async run(env) {
      await missThenHit(env, '/ttl');
      env.advance(31_000);
      const later = await env.get('/ttl');
      expect(later.xCache).toBe('MISS');
      expect(later.text).toBe('ttl 2');
    },
  },
  {
    name: 'never stores no-store, private, Set-Cookie, 5xx or Vary: *',
    async run(env) {
      for (const path of ['/nostore', '/private', '/cookie', '/error', '/vary-star']) {
        const a = await env.get(path);
        const b = await env.get(path);
        expect([path, a.xCache, b.xCache]).toEqual([path, 'MISS', 'MISS']);
        expect(env.origin.count(path)).toBe(2);
      }
      expect(env.mw.stats().stores).toBe(0);
    },
  },
  {
    name: 'lets requests carrying Authorization bypass unless the policy varies by it',
    async run(env) {
      const a = await env.get('/me', { authorization: 'Bearer a' });
      const b = await env.get('/me', { authorization: 'Bearer a' });
      expect([a.xCache, b.xCache]).toEqual(['BYPASS', 'BYPASS']);
      expect(env.origin.count('/me')).toBe(2);
    },
  },
  {
    name: "keeps each user's responses apart when the policy varies by Authorization",
    skip: { serve: NO_POLICY },
    async run(env) {
      const [a1, a2] = await missThenHit(env, '/auth/me', { authorization: 'Bearer alice' });
      const [b1, b2] = await missThenHit(env, '/auth/me', { authorization: 'Bearer bob' });
      expect([a1.text, a2.text]).toEqual(['user Bearer alice 1', 'user Bearer alice 1']);
      expect([b1.text, b2.text]).toEqual(['user Bearer bob 2', 'user Bearer bob 2']);
    },
  },
  {
    name: "never serves one user's cookie-personalised response to another (cookies are credentials)",
    async run(env) {
      const bob = await env.get('/session/me', { cookie: 'sid=bob' });
      const alice = await env.get('/session/me', { cookie: 'sid=alice' });
      expect([bob.xCache, bob.text]).toEqual(['BYPASS', 'user bob 1']);
      expect([alice.xCache, alice.text]).toEqual(['BYPASS', 'user alice 2']);
      // The anonymous answer is stored, but never answers a request that carries a session.
      const [anonymous] = await missThenHit(env, '/session/me');
      expect(anonymous.text).toBe('user anonymous 3');
      const again = await env.get('/session/me', { cookie: 'sid=alice' });
      expect([again.xCache, again.text]).toEqual(['BYPASS', 'user alice 4']);
      expect(env.mw.stats().stores).toBe(1);
    },
  },
  {
    name: 'stores and serves explicitly public or s-maxage responses whatever the credentials',
    async run(env) {
      let stores = 0;
      for (const path of ['/session/public', '/session/s-maxage']) {
        const [first, second] = await missThenHit(env, path, { cookie: 'sid=bob' });
        stores++;
        expect(second.text).toBe(first.text);
        const others: Record<string, string>[] = [
          { cookie: 'sid=alice' },
          { authorization: 'Bearer carol' },
          {},
        ];
        for (const headers of others) {
          const r = await env.get(path, headers);
          expect([path, r.xCache, r.text]).toEqual([path, 'HIT', first.text]);
        }
        expect(env.origin.count(path)).toBe(1);
      }
      expect(env.mw.stats().stores).toBe(stores);
    },
  },
  {
    name: 'treats a request whose only cookies are ignored as one without cookies',
    skip: { serve: NO_POLICY },
    async run(env) {
      const [first] = await missThenHit(env, '/session/me', { cookie: '_ga=GA1.1.1; _ga_XY=GS1' });
      expect(first.text).toBe('user anonymous 1');
      for (const headers of [{ cookie: '_ga=GA1.1.2' }, {}] as Record<string, string>[]) {
        expect((await env.get('/session/me', headers)).xCache).toBe('HIT');
      }
      const session = await env.get('/session/me', { cookie: '_ga=GA1.1.1; sid=alice' });
      expect([session.xCache, session.text]).toEqual(['BYPASS', 'user alice 2']);
      // A policy's own ignoreCookies add to the middleware's.
      await missThenHit(env, '/themed/me', { cookie: 'theme=dark; _ga=GA1.1.3' });
      expect((await env.get('/themed/me', { cookie: 'theme=light' })).xCache).toBe('HIT');
      expect((await env.get('/session/me', { cookie: 'theme=light' })).xCache).toBe('BYPASS');
    },
  },
  {
    name: 'keys only the named cookies with varyBy cookie:sid, in any order',
    skip: { serve: NO_POLICY },
    async run(env) {
      const [alice] = await missThenHit(env, '/sid/me', { cookie: 'sid=alice; theme=dark' });
      expect(alice.text).toBe('user alice 1');
      const reordered = await env.get('/sid/me', { cookie: 'theme=light; _ga=GA1; sid=alice' });
      expect([reordered.xCache, reordered.text]).toEqual(['HIT', 'user alice 1']);
      const bob = await env.get('/sid/me', { cookie: 'sid=bob' });
      expect([bob.xCache, bob.text]).toEqual(['MISS', 'user bob 2']);
      await env.stored(2);
      const other = await env.get('/sid/me', { cookie: 'theme=dark' });
      expect([other.xCache, other.text]).toEqual(['MISS', 'user anonymous 3']);
      await env.stored(3);
      expect((await env.get('/sid/me')).text).toBe('user anonymous 3');
      const bob2 = await env.get('/sid/me', { cookie: 'sid=bob' });
      expect([bob2.xCache, bob2.text]).toEqual(['HIT', 'user bob 2']);
    },
  },
  {
    name: 'keys every cookie but the ignored ones, in any order, when varyBy names cookie',
    skip: { serve: NO_POLICY },
    async run(env) {
      const [alice] = await missThenHit(env, '/cookies/me', { cookie: 'sid=alice; lang=en' });
      expect(alice.text).toBe('user alice 1');
      const reordered = await env.get('/cookies/me', { cookie: 'lang=en; _ga=GA1; sid=alice' });
      expect([reordered.xCache, reordered.text]).toEqual(['HIT', 'user alice 1']);
      const fewer = await env.get('/cookies/me', { cookie: 'sid=alice' });
      expect([fewer.xCache, fewer.text]).toEqual(['MISS', 'user alice 2']);
      const bob = await env.get('/cookies/me', { cookie: 'sid=bob; lang=en' });
      expect([bob.xCache, bob.text]).toEqual(['MISS', 'user bob 3']);
    },
  },
  {
    name: "keeps each host's entries and invalidations apart by default",
    async run(env) {
      const a = { host: 'a.test' };
      const b = { host: 'b.test' };
      await missThenHit(env, '/posts/3', a);
      expect((await env.get('/posts/3', b)).xCache).toBe('MISS');
      await env.stored(2);
      expect((await env.get('/posts/3', b)).xCache).toBe('HIT');
      expect((await env.get('/posts/3', a, 'PUT')).status).toBe(200);
      expect((await env.get('/posts/3', a)).xCache).toBe('MISS');
      expect((await env.get('/posts/3', b)).xCache).toBe('HIT');
    },
  },
  {
    name: 'shares entries and invalidations between the names of a service with the host option',
    options: { host: 'shop.example' },
    async run(env) {
      const internal = { host: 'internal.svc:8080' };
      const pub = { host: 'shop.example' };
      await missThenHit(env, '/posts/4', internal);
      expect((await env.get('/posts/4', pub)).xCache).toBe('HIT');
      expect((await env.get('/posts/4')).xCache).toBe('HIT');
      await missThenHit(env, '/posts', pub);
      expect((await env.get('/posts/4', internal, 'PUT')).status).toBe(200);
      expect((await env.get('/posts/4', pub)).xCache).toBe('MISS');
      expect((await env.get('/posts')).xCache).toBe('MISS');
      // A POST's relative Location resolves against the name it was sent to.
      await env.stored(4);
      expect((await env.get('/posts/9', pub)).xCache).toBe('MISS');
      await env.stored(5);
      expect((await env.get('/posts', internal, 'POST')).status).toBe(201);
      expect((await env.get('/posts/9', pub)).xCache).toBe('MISS');
    },
  },
  {
    name: 'shares entries across ports with a host function',
    options: { host: (request) => request.host.replace(/:\d+$/, '') },
    async run(env) {
      await missThenHit(env, '/posts/5', { host: 'shop.example:3917' });
      expect((await env.get('/posts/5', { host: 'shop.example:3918' })).xCache).toBe('HIT');
      expect((await env.get('/posts/5', { host: 'other.example:3917' })).xCache).toBe('MISS');
      await env.get('/posts/5', { host: 'shop.example:3918' }, 'DELETE');
      expect((await env.get('/posts/5', { host: 'shop.example:3917' })).xCache).toBe('MISS');
    },
  },
  {
    name: "keys the response's own Vary fields",
    async run(env) {
      const [en] = await missThenHit(env, '/lang', { 'accept-language': 'en' });
      const fr = await env.get('/lang', { 'accept-language': 'fr' });
      expect(fr.xCache).toBe('MISS');
      expect(fr.text).toBe('lang fr 2');
      await env.stored(2);
      const en2 = await env.get('/lang', { 'accept-language': 'en' });
      expect([en2.xCache, en2.text]).toEqual(['HIT', en.text]);
      const fr2 = await env.get('/lang', { 'accept-language': 'fr' });
      expect([fr2.xCache, fr2.text]).toEqual(['HIT', 'lang fr 2']);
    },
  },
  {
    name: 'keeps compressed bodies with their Content-Encoding, keyed by Accept-Encoding',
    async run(env) {
      const [gz, gzHit] = await missThenHit(env, '/gzip', { 'accept-encoding': 'gzip, deflate' });
      expect(gz.headers['content-encoding']).toBe('gzip');
      expect(Buffer.compare(gzHit.body, GZIPPED)).toBe(0);
      expect(gzHit.headers['content-encoding']).toBe('gzip');
      const plain = await env.get('/gzip', { 'accept-encoding': 'identity' });
      expect(plain.xCache).toBe('MISS');
      expect(plain.text).toBe(GZIP_TEXT);
      expect(plain.headers['content-encoding']).toBeUndefined();
      const reordered = await env.get('/gzip', { 'accept-encoding': 'deflate, gzip' });
      expect(reordered.xCache).toBe('HIT');
      expect(Buffer.compare(reordered.body, GZIPPED)).toBe(0);
    },
  },
  {
    name: 'treats query parameters in any order as one entry',
    async run(env) {
      await missThenHit(env, '/cached?a=1&b=2');
      const swapped = await env.get('/cached?b=2&a=1');
      expect(swapped.xCache).toBe('HIT');
      const other = await env.get('/cached?a=1&b=3');
      expect(other.xCache).toBe('MISS');
    },
  },
  {
    name: 'keys the headers that poison caches, so a forged one only reaches its own entry',
    async run(env) {
      const evil = { 'x-forwarded-host': 'evil.example' };
      await missThenHit(env, '/cached', evil);
      const clean = await env.get('/cached');
      // serve drops a forwarding field nobody vouches for before the cache reads the request
      // (the origin never sees it), so both requests are the same request there.
      expect(clean.xCache).toBe(env.adapter === 'serve' ? 'HIT' : 'MISS');
      expect(env.origin.count('/cached')).toBe(env.adapter === 'serve' ? 1 : 2);
      const override = await env.get('/cached', { 'x-http-method-override': 'DELETE' });
      expect(override.xCache).toBe('MISS');
    },
  },
  {
    name: 'invalidates a path and its collection after a successful write',
    async run(env) {
      await missThenHit(env, '/posts/7');
      await missThenHit(env, '/posts');
      const put = await env.get('/posts/7', {}, 'PUT');
      expect([put.status, put.xCache]).toEqual([200, 'BYPASS']);
      expect((await env.get('/posts/7')).xCache).toBe('MISS');
      expect((await env.get('/posts')).xCache).toBe('MISS');
    },
  },
  {
    name: 'keeps entries after a failed write',
    async run(env) {
      await missThenHit(env, '/posts/8');
      const put = await env.get('/posts/8', { 'x-fail': '1' }, 'PUT');
      expect(put.status).toBe(404);
      expect((await env.get('/posts/8')).xCache).toBe('HIT');
    },
  },
  {
    name: 'invalidates a same-host Location after a POST',
    async run(env) {
      await missThenHit(env, '/posts/9');
      const post = await env.get('/posts', {}, 'POST');
      expect(post.status).toBe(201);
      expect((await env.get('/posts/9')).xCache).toBe('MISS');
    },
  },
  {
    name: 'drops Cache-Tag entries on invalidateTags',
    async run(env) {
      await missThenHit(env, '/tagged');
      await env.mw.invalidateTags(['sports']);
      const after = await env.get('/tagged');
      expect([after.xCache, after.text]).toEqual(['MISS', 'tagged 2']);
    },
  },
  {
    name: 'coalesces 50 concurrent misses into one origin call and counts the 49 followers',
    async run(env) {
      const release = env.origin.hold('/slow/c');
      const misses = countCacheMisses();
      const all = Array.from({ length: 50 }, () => env.get('/slow/c'));
      await until(() => env.origin.count('/slow/c') === 1, 10_000, 'the leader');
      // Every request has read the cache; a follower joins the flight in the same turn.
      await until(() => misses.count >= 50, 10_000, 'all fifty cache reads');
      misses.stop();
      await new Promise((r) => setImmediate(r));
      release();
      const responses = await Promise.all(all);
      expect(responses.map((r) => r.text)).toEqual(Array(50).fill('slow 1'));
      expect(env.origin.count('/slow/c')).toBe(1);
      expect(responses.filter((r) => r.xCache === 'MISS')).toHaveLength(1);
      const { hits, misses: missed, coalesced } = env.mw.stats();
      expect({ hits, misses: missed, coalesced }).toEqual({ hits: 49, misses: 1, coalesced: 49 });
    },
  },
  {
    name: 'never writes back a response that a write invalidated while it was in flight',
    async run(env) {
      const release = env.origin.hold('/slow/w');
      const read = env.get('/slow/w');
      await until(() => env.origin.count('/slow/w') === 1, 10_000, 'the read');
      const put = await env.get('/slow/w', {}, 'PUT');
      expect(put.status).toBe(200);
      // A read that starts after the write must not join the one that started before it.
      const late = env.get('/slow/w');
      await until(() => env.origin.count('/slow/w') === 3, 10_000, 'the late read');
      release();
      expect((await read).text).toBe('slow 1');
      expect((await late).text).toBe('slow 3');
      await env.stored(2);
      const next = await env.get('/slow/w');
      expect(next.text).toBe('slow 3');
    },
  },
  {
    name: '#10.2 RFC 5861 §3: stale-while-revalidate answers the first stale request at once and refreshes in the background',
    async run(env) {
      await missThenHit(env, '/swr');
      env.advance(2000);
      const release = env.origin.hold('/swr');
      // The origin is held: only a background refresh lets this request be answered now.
      const first = await env.get('/swr');
      expect([first.xCache, first.text]).toEqual(['STALE', 'swr 1']);
      await until(() => env.origin.count('/swr') === 2, 10_000, 'the background refresh');
      const during = await env.get('/swr');
      expect([during.xCache, during.text]).toEqual(['STALE', 'swr 1']);
      expect(env.origin.count('/swr')).toBe(2);
      release();
      await env.stored(2);
      const after = await env.get('/swr');
      expect([after.xCache, after.text]).toEqual(['HIT', 'swr 2']);
    },
  },
  {
    name: '#10.2 RFC 5861 §4: serves stale when the origin fails within stale-if-error, not after',
    async run(env) {
      await missThenHit(env, '/sie');
      env.origin.failing.add('/sie');
      env.advance(2000);
      const stale = await env.get('/sie');
      expect([stale.status, stale.xCache, stale.text]).toEqual([200, 'STALE', 'sie 1']);
      env.advance(60_000);
      const failed = await env.get('/sie');
      expect([failed.status, failed.text]).toEqual([503, 'down']);
    },
  },
  {
    name: 'streams bodies over maxBodySize through without storing them',
    async run(env) {
      const a = await env.get('/big');
      const b = await env.get('/big');
      expect(Buffer.compare(a.body, BIG)).toBe(0);
      expect([a.xCache, b.xCache]).toEqual(['MISS', 'MISS']);
      expect(env.origin.count('/big')).toBe(2);
    },
  },
  {
    name: 'replays a 204 without a body',
    async run(env) {
      const [, hit] = await missThenHit(env, '/empty');
      expect([hit.status, hit.body.length]).toEqual([204, 0]);
    },
  },
  {
    name: "50 users × 20 interleaved requests never see another user's response",
    skip: { serve: NO_POLICY },
    async run(env) {
      const agent = new Agent({ keepAlive: true, maxSockets: 50 });
      try {
        const users = Array.from({ length: 50 }, (_, i) => `Bearer user-${i}-token`);
        let wrong = 0;
        for (let round = 0; round < 20; round++) {
          const results = await Promise.all(
            users.map((u) => send(env.url, '/auth/me', { headers: { authorization: u }, agent })),
          );
          results.forEach((r, i) => {
            if (!r.text.startsWith(`user ${users[i]} `)) wrong++;
          });
        }
        expect(wrong).toBe(0);
        expect(env.origin.count('/auth/me')).toBeLessThanOrEqual(100);
      } finally {
        agent.destroy();
      }
    },
  },
  // ── RFC 9111 / 9110 / 9213 to the letter (issue #10) ──────────────────────────────────
  {
    name: '#10.1 RFC 9110 §5.6.7, RFC 9111 §5.3: Expires in the three date forms keeps; near-misses are expired',
    async run(env) {
      for (const form of ['imf', 'rfc850', 'asctime']) {
        await missThenHit(env, `/expires/${form}`);
      }
      // The policy ttl (30 s) must not rescue them: the origin did state a lifetime.
      for (const form of ['utc', 'no-comma', 'spaces', 'dashes', 'one-digit-hour', 'lines']) {
        const a = await env.get(`/expires/${form}`);
        const b = await env.get(`/expires/${form}`);
        expect([form, a.xCache, b.xCache]).toEqual([form, 'MISS', 'MISS']);
      }
    },
  },
  {
    name: '#10.1 RFC 9111 §5.1, §4.2.1: Age takes its first value, a non-numeric Age is ignored, conflicting max-age is stale',
    async run(env) {
      for (const path of ['/age/list', '/age/lines', '/age/invalid']) await missThenHit(env, path);
      env.advance(11_000);
      // Age 50 + 11 s is past max-age=60; an ignored Age leaves the entry fresh.
      expect((await env.get('/age/list')).xCache).toBe('MISS');
      expect((await env.get('/age/lines')).xCache).toBe('MISS');
      expect((await env.get('/age/invalid')).xCache).toBe('HIT');
      const a = await env.get('/duplicate-max-age');
      const b = await env.get('/duplicate-max-age');
      expect([a.xCache, b.xCache]).toEqual(['MISS', 'MISS']);
    },
  },
  {
    name: '#10.2 RFC 9111 §5.2.2.2, §4.3.3, §5.2.1.2: a must-revalidate entry is never served stale (an origin 5xx and only-if-cached get 504); max-stale serves others',
    async run(env) {
      await missThenHit(env, '/must-revalidate');
      await missThenHit(env, '/max-stale');
      env.advance(2000);
      const ms = await env.get('/max-stale', { 'cache-control': 'max-stale=60' });
      expect([ms.xCache, ms.text]).toEqual(['STALE', 'ms 1']);
      env.origin.failing.add('/must-revalidate');
      // stale-if-error=60 on the response does not override must-revalidate.
      const failed = await env.get('/must-revalidate', { 'cache-control': 'max-stale=60' });
      expect([failed.status, failed.text, failed.xCache]).toEqual([504, '', 'MISS']);
      const cached = await env.get('/must-revalidate', {
        'cache-control': 'max-stale=60, only-if-cached',
      });
      expect(cached.status).toBe(504);
    },
  },
  {
    name: '#10.2 RFC 9111 §5.2.2.4: no-cache without a policy ttl is stored and revalidated on every use',
    async run(env) {
      const first = await env.get('/nottl/validate');
      expect([first.xCache, first.text]).toEqual(['MISS', 'validate 1']);
      await env.stored(1);
      for (let i = 2; i <= 3; i++) {
        const again = await env.get('/nottl/validate');
        expect([again.status, again.xCache, again.text]).toEqual([200, 'HIT', 'validate 1']);
        expect(env.origin.count('/nottl/validate')).toBe(i);
        await env.stored(i);
      }
      expect(env.mw.stats().revalidated).toBe(2);
    },
  },
  {
    name: '#10.2 RFC 9111 §5.2.2.7, §5.2.2.4, §5.2.2.3, RFC 8246: private="field" and no-cache="field" store without the fields; must-understand overrides no-store; immutable ignores a reload',
    async run(env) {
      const [miss, hit] = await missThenHit(env, '/private-field');
      expect([miss.headers['x-user'], miss.headers['x-secret']]).toEqual(['alice', 's3cret']);
      expect([hit.headers['x-user'], hit.headers['x-secret']]).toEqual([undefined, undefined]);
      expect(hit.headers['x-public']).toBe('kept');
      await missThenHit(env, '/must-understand');
      await missThenHit(env, '/immutable');
      const reload = await env.get('/immutable', { 'cache-control': 'no-cache' });
      expect([reload.xCache, reload.text]).toEqual(['HIT', 'im 1']);
      expect(env.origin.count('/immutable')).toBe(1);
    },
  },
  {
    name: '#10.2 RFC 9111 §5.2.1: request max-age, min-fresh, no-cache, no-store and only-if-cached',
    async run(env) {
      await missThenHit(env, '/cached');
      env.advance(5000);
      for (const cc of ['max-age=2', 'min-fresh=120', 'no-cache']) {
        const r = await env.get('/cached', { 'cache-control': cc });
        expect([cc, r.xCache]).toEqual([cc, 'MISS']);
      }
      expect((await env.get('/cached', { 'cache-control': 'max-age=30' })).xCache).toBe('HIT');
      const gone = await env.get('/posts/77', { 'cache-control': 'only-if-cached' });
      expect(gone.status).toBe(504);
      expect(env.origin.count('/posts/77')).toBe(0);
      const stores = env.mw.stats().stores;
      const noStore = await env.get('/posts/78', { 'cache-control': 'no-store' });
      expect(noStore.xCache).toBe('MISS');
      expect((await env.get('/posts/78')).xCache).toBe('MISS');
      await env.stored(stores + 1);
      expect(env.origin.count('/posts/78')).toBe(2);
    },
  },
  {
    name: '#10.3 RFC 9111 §3: explicit freshness makes 302, 307, 404 and 500 storable; the policy ttl never stores a 5xx',
    async run(env) {
      for (const status of [302, 307, 404, 500]) {
        const [miss, hit] = await missThenHit(env, `/status/${status}`);
        expect([miss.status, hit.status, hit.text]).toEqual([status, status, miss.text]);
      }
      const a = await env.get('/error');
      const b = await env.get('/error');
      expect([a.xCache, b.xCache]).toEqual(['MISS', 'MISS']);
    },
  },
  {
    name: '#10.3 RFC 9111 §4.2.2: heuristic freshness from Last-Modified for heuristically cacheable codes, without a policy ttl',
    async run(env) {
      // Last-Modified 5 days ago: 10 % is 12 hours.
      await missThenHit(env, '/nottl/heuristic');
      await missThenHit(env, '/nottl/heuristic-501');
      env.advance(11 * 3_600_000);
      expect((await env.get('/nottl/heuristic')).xCache).toBe('HIT');
      env.advance(2 * 3_600_000);
      expect((await env.get('/nottl/heuristic')).text).toBe('heuristic 2');
      const a = await env.get('/nottl/heuristic-302');
      const b = await env.get('/nottl/heuristic-302');
      expect([a.xCache, b.xCache]).toEqual(['MISS', 'MISS']);
    },
  },
  {
    name: '#10.3 RFC 9111 §3.5: Authorization may reuse a must-revalidate response; a session cookie may not',
    async run(env) {
      const [first, second] = await missThenHit(env, '/me-revalidate', {
        authorization: 'Bearer a',
      });
      expect(second.text).toBe(first.text);
      const other = await env.get('/me-revalidate', { authorization: 'Bearer b' });
      expect([other.xCache, other.text]).toEqual(['HIT', first.text]);
      const cookie = await env.get('/me-revalidate', { cookie: 'sid=bob' });
      expect([cookie.xCache, cookie.text]).toEqual(['BYPASS', 'user bob 2']);
    },
  },
  {
    name: '#10.4 RFC 9111 §4.3: an ETag-only response is stored and revalidated with If-None-Match (origin answers 304)',
    async run(env) {
      const first = await env.get('/nottl/etag-only');
      expect([first.xCache, first.text]).toEqual(['MISS', 'etag-only 1']);
      await env.stored(1);
      const second = await env.get('/nottl/etag-only');
      expect([second.status, second.xCache, second.text]).toEqual([200, 'HIT', 'etag-only 1']);
      expect(env.origin.count('/nottl/etag-only')).toBe(2);
      expect(env.mw.stats().revalidated).toBe(1);
    },
  },
  {
    name: '#10.4 RFC 9111 §4.3.1, §4.3.4, §3.2: a stale entry is revalidated with If-Modified-Since, the 304 updates its headers, a client conditional is forwarded with the cache validators',
    async run(env) {
      await missThenHit(env, '/lm-only');
      env.advance(2000);
      const refreshed = await env.get('/lm-only');
      expect([refreshed.xCache, refreshed.text]).toEqual(['HIT', 'lm 1']);
      expect(refreshed.headers['x-refreshed']).toBe('2');
      expect(refreshed.headers['content-length']).toBe('4');
      expect(env.mw.stats().revalidated).toBe(1);
      await env.stored(2);
      env.advance(2000);
      const conditional = await env.get('/lm-only', { 'if-modified-since': LAST_MODIFIED });
      expect(conditional.status).toBe(304);
      expect(env.mw.stats().revalidated).toBe(2);
      expect(env.origin.count('/lm-only')).toBe(3);
    },
  },
  {
    name: '#10.3, #10.4 RFC 9110 §13.1.1, §13.1.4, RFC 9111 §4, §4.3.2: a 412 to If-Match or If-Unmodified-Since is never stored, and never replaces the entry a plain GET is served',
    async run(env) {
      const OLD = 'Sat, 01 Jan 2000 00:00:00 GMT';
      const failed = await env.get('/precondition', { 'if-match': '"other"' });
      expect([failed.status, failed.xCache]).toEqual([412, 'MISS']);
      const old = await env.get('/precondition', { 'if-unmodified-since': OLD });
      expect([old.status, old.xCache]).toEqual([412, 'MISS']);
      // A plain GET is not served either 412: it goes to the origin.
      const plain = await env.get('/precondition');
      expect([plain.status, plain.xCache, plain.text]).toEqual([200, 'MISS', 'precondition 3']);
      await env.stored(1);
      await until(() => env.skips().length === 2, 10_000, 'the decisions on the 412s');
      expect(env.skips()).toEqual(['precondition', 'precondition']);
      // Stale: the 412 a preconditioned request gets back from the revalidation is the
      // client's alone; the entry stays, and the next plain GET revalidates it (304).
      env.advance(2000);
      const stale = await env.get('/precondition', { 'if-match': '"other"' });
      expect(stale.status).toBe(412);
      await until(() => env.skips().length === 3, 10_000, 'the decision on the stale 412');
      expect(env.skips()[2]).toBe('precondition');
      const after = await env.get('/precondition');
      expect([after.status, after.xCache, after.text]).toEqual([200, 'HIT', 'precondition 3']);
      expect(env.origin.count('/precondition')).toBe(5);
    },
  },
  {
    name: '#10.5 RFC 9110 §14: Range is answered 206 / 416 from a stored complete response; If-Range that does not match gets 200',
    async run(env) {
      await missThenHit(env, '/binary');
      const part = await env.get('/binary', { range: 'bytes=0-9' });
      expect([part.status, part.xCache, part.headers['content-range']]).toEqual([
        206,
        'HIT',
        'bytes 0-9/4096',
      ]);
      expect(Buffer.compare(part.body, BINARY.subarray(0, 10))).toBe(0);
      const suffix = await env.get('/binary', { range: 'bytes=-10' });
      expect(suffix.status).toBe(206);
      expect(Buffer.compare(suffix.body, BINARY.subarray(4086))).toBe(0);
      const other = await env.get('/binary', { range: 'bytes=0-9', 'if-range': '"nope"' });
      expect([other.status, other.body.length]).toEqual([200, BINARY.length]);
      const past = await env.get('/binary', { range: 'bytes=5000-' });
      expect([past.status, past.headers['content-range']]).toEqual([416, 'bytes */4096']);
      expect(env.origin.count('/binary')).toBe(1);
    },
  },
  {
    name: '#10.5 RFC 9111 §3.3: a Range miss is forwarded and its 206 stored; ranges it holds are 206 from it, others go to the origin',
    async run(env) {
      const stores = env.mw.stats().stores;
      const miss = await env.get('/ranged', { range: 'bytes=0-9' });
      expect([miss.status, miss.xCache, miss.headers['content-range']]).toEqual([
        206,
        'MISS',
        'bytes 0-9/4096',
      ]);
      await env.stored(stores + 1);
      const part = await env.get('/ranged', { range: 'bytes=2-5' });
      expect([part.status, part.xCache, part.headers['content-range']]).toEqual([
        206,
        'HIT',
        'bytes 2-5/4096',
      ]);
      expect(Buffer.compare(part.body, BINARY.subarray(2, 6))).toBe(0);
      const past = await env.get('/ranged', { range: 'bytes=5000-6000' });
      expect([past.status, past.xCache]).toEqual([416, 'HIT']);
      expect(env.origin.count('/ranged')).toBe(1);
      // Bytes not held, and a plain GET, are never answered from the partial entry.
      const other = await env.get('/ranged', { range: 'bytes=10-19' });
      expect([other.status, other.xCache]).toEqual([206, 'MISS']);
      const whole = await env.get('/ranged');
      expect([whole.status, whole.xCache, whole.body.length]).toEqual([200, 'MISS', 4096]);
      expect(env.origin.count('/ranged')).toBe(3);
    },
  },
  {
    name: '#10.4 RFC 9111 §4.3.4: a 304 with a different strong ETag updates nothing; the entry is dropped',
    async run(env) {
      await missThenHit(env, '/etag-moved');
      env.advance(2000);
      const moved = await env.get('/etag-moved');
      expect([moved.status, moved.xCache, moved.text]).toEqual([502, 'MISS', '']);
      expect(env.mw.stats().revalidated).toBe(0);
      // Not left to revalidate into the same 304 again: the next request fetches it whole.
      const next = await env.get('/etag-moved');
      expect([next.status, next.xCache, next.text]).toEqual([200, 'MISS', 'moved 3']);
      // A client holding the new ETag may take the origin's 304 as its own.
      env.advance(2000);
      const own = await env.get('/etag-moved', { 'if-none-match': '"v2"' });
      expect([own.status, own.xCache]).toEqual([304, 'MISS']);
    },
  },
  {
    name: '#10.6 RFC 9111 §4.4: methods of unknown safety (PURGE, M-SEARCH) invalidate on success',
    async run(env) {
      for (const [method, path] of [
        ['PURGE', '/posts/12'],
        ['M-SEARCH', '/posts/13'],
      ] as const) {
        await missThenHit(env, path);
        const r = await env.get(path, {}, method);
        expect([method, r.status]).toEqual([method, 200]);
        expect([method, (await env.get(path)).xCache]).toEqual([method, 'MISS']);
      }
    },
  },
  {
    name: '#10.7 RFC 9111 §4.1: equivalent Vary values (case, whitespace, q=1) share an entry',
    async run(env) {
      await missThenHit(env, '/lang', { 'accept-language': 'en-US, fr;q=0.5' });
      const same = await env.get('/lang', { 'accept-language': 'en-us,FR ; q=0.50' });
      expect([same.xCache, same.text]).toEqual(['HIT', 'lang en-US, fr;q=0.5 1']);
      const other = await env.get('/lang', { 'accept-language': 'fr, en-US;q=0.5' });
      expect(other.xCache).toBe('MISS');
    },
  },
  // #10.9: one row per fault; each target writes it with its own means (servers.ts).
  ...FAULTS.map(
    (fault): Scenario => ({
      name: `#10.9 RFC 9112 §6.3, RFC 9111 §3: an origin ${FAULT_WORDS[fault]}: no uncaught error, nothing stored, the client sees what it sees without the cache`,
      skip: FAULT_SKIPS[fault],
      async run(env) {
        const path = `/fault/${fault}`;
        // Vitest fails the run on an uncaught error, so getting here at all is the first check.
        const first = await outcome(`${env.url}${path}`);
        await until(() => env.skips().length >= 1, 10_000, 'the skip decision');
        const second = await outcome(`${env.url}${path}`);
        await until(() => env.skips().length >= 2, 10_000, 'the second skip decision');
        // The route states max-age=60: only the fault keeps it out of the cache.
        const reason = env.adapter === 'serve' ? SERVE_FAULT_REASONS[fault] : FAULT_REASONS[fault];
        expect(env.skips()).toEqual([reason, reason]);
        expect(env.mw.stats().stores).toBe(0);
        expect(env.origin.count(path)).toBe(2);
        expect(second).toBe(first);
        expect(first).toBe(await outcome(`${await env.bare()}${path}`));
      },
    }),
  ),
  {
    name: '#10.10 RFC 9111 §3, §3.5: one storage decision per response, named once by the recorder, the same on every target',
    async run(env) {
      const unstored: [string, Record<string, string>, string, string][] = [
        ['/nostore', {}, 'GET', 'no-store'],
        ['/private', {}, 'GET', 'private'],
        ['/cookie', {}, 'GET', 'set-cookie'],
        ['/vary-star', {}, 'GET', 'vary-star'],
        ['/error', {}, 'GET', 'status'],
        ['/big', {}, 'GET', 'too-large'],
        ['/posts/80', { 'cache-control': 'no-store' }, 'GET', 'request-no-store'],
        ['/me', { authorization: 'Bearer a' }, 'GET', 'credentials'],
      ];
      for (const [i, [path, headers, method]] of unstored.entries()) {
        expect((await env.get(path, headers, method)).status).toBeLessThan(600);
        await until(() => env.skips().length > i, 10_000, `the decision on ${path}`);
      }
      expect(env.skips()).toEqual(unstored.map(([, , , reason]) => reason));
      // A stored response gets no skip; a hit is no new decision.
      await missThenHit(env, '/cached');
      expect(env.skips()).toHaveLength(unstored.length);
      expect(env.mw.stats().stores).toBe(1);
    },
  },
  {
    name: '#10.8 RFC 9213 §2.1: CDN-Cache-Control takes precedence over Cache-Control and is forwarded',
    async run(env) {
      const [miss, hit] = await missThenHit(env, '/targeted');
      for (const r of [miss, hit]) {
        expect(r.headers['cdn-cache-control']).toBe('max-age=60');
        expect(r.headers['cache-control']).toBe('no-store');
      }
      const a = await env.get('/targeted-private');
      const b = await env.get('/targeted-private');
      expect([a.xCache, b.xCache]).toEqual(['MISS', 'MISS']);
      // Not in the default list: CDN-Cache-Control decides.
      await missThenHit(env, '/targeted-codeai');
    },
  },
  {
    name: '#10.8 RFC 9213 §2.1: the targeted fields are configurable, first listed wins',
    options: { targetedFields: ['CodeAI-Cache-Control', 'CDN-Cache-Control'] },
    async run(env) {
      const a = await env.get('/targeted-codeai');
      const b = await env.get('/targeted-codeai');
      expect([a.xCache, b.xCache]).toEqual(['MISS', 'MISS']);
      expect(b.headers['codeai-cache-control']).toBe('no-store');
      await missThenHit(env, '/targeted');
    },
  },
];
