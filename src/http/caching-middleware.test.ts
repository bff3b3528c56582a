import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Cache } from '../core/types.js';
import { MemoryCache } from '../stores/memory/memory-cache.js';
import { CachingMiddleware } from './caching-middleware.js';
import type { FlatHeaders } from './headers.js';
import type { CachePolicy } from './policy.js';
import type { ReplayResponse } from './replay.js';

/** Drives the framework-neutral flow in process: what every adapter does, minus sockets. */
class Harness {
  now = Date.UTC(2030, 0, 1);
  readonly mw: CachingMiddleware;
  originCalls = 0;

  constructor(cache: Cache) {
    this.mw = new CachingMiddleware(cache, { clock: { now: () => this.now } });
  }

  /** One request; on a miss the origin answers `status`, `headers`, `body`. */
  async request(
    policy: CachePolicy,
    url: string,
    origin: { status?: number; headers?: FlatHeaders; body?: string },
    requestHeaders: Record<string, string> = {},
  ): Promise<ReplayResponse | { xCache: string; status: number }> {
    const route = this.mw.route(policy);
    const all: Record<string, string> = { host: 'a.test', ...requestHeaders };
    const plan = route.begin('GET', url, (n) => all[n]);
    if (plan.kind !== 'read') return { xCache: 'BYPASS', status: 0 };
    const outcome = await route.lookup(plan.ctx);
    if (outcome.kind === 'replay') return outcome.response;
    this.originCalls++;
    const status = origin.status ?? 200;
    const decided = decision(this.mw);
    const action = outcome.recorder.head(status, origin.headers ?? []);
    outcome.recorder.chunk(Buffer.from(origin.body ?? 'body'));
    outcome.recorder.end();
    this.decisions.push(await decided);
    return action.replace ?? { xCache: action.xCache, status };
  }

  /** What became of each response the origin sent: `store`, or the skip reason. */
  readonly decisions: string[] = [];
}

/**
 * Resolves with the recorder's decision on the next response: `store` once it is written,
 * or the reason it is not (`skip`), or `cacheError` when the write failed. The recorder
 * makes exactly one per response, so this is the event to wait for, not a guess at time.
 */
function decision(mw: CachingMiddleware): Promise<string> {
  return new Promise((resolve) => {
    const done = (what: string) => {
      mw.off('store', onStore);
      mw.off('skip', onSkip);
      mw.off('cacheError', onError);
      resolve(what);
    };
    const onStore = () => done('store');
    const onSkip = ({ reason }: { reason: string }) => done(reason);
    const onError = () => done('cacheError');
    mw.on('store', onStore);
    mw.on('skip', onSkip);
    mw.on('cacheError', onError);
  });
}

let cache: MemoryCache;
let h: Harness;

beforeEach(async () => {
  cache = new MemoryCache({ maxMemory: '8mb' });
  await cache.start();
  h = new Harness(cache);
});

afterEach(async () => {
  h.mw.stop();
  await cache.stop();
});

describe('CachingMiddleware', () => {
  it('does not store a response without freshness when the policy has no ttl', async () => {
    await h.request({}, '/x', {});
    const again = await h.request({}, '/x', {});
    expect(again.xCache).toBe('MISS');
    expect(h.originCalls).toBe(2);
    expect(h.decisions).toEqual(['no-freshness', 'no-freshness']);
    // The same response with a lifetime is stored: the refusal above is about freshness.
    await h.request({}, '/y', { headers: ['cache-control', 'max-age=60'] });
    expect((await h.request({}, '/y', {})).xCache).toBe('HIT');
  });

  it('never serves a no-cache response without going to the origin', async () => {
    const origin = { headers: ['cache-control', 'no-cache, max-age=60'] };
    await h.request({}, '/x', origin);
    expect((await h.request({}, '/x', origin)).xCache).toBe('MISS');
    expect(h.originCalls).toBe(2);
  });

  it('never stores connection-specific fields or fields named by no-cache="…"', async () => {
    await h.request({ ttl: '1m' }, '/x', {
      headers: [
        'connection',
        'x-hop',
        'x-hop',
        '1',
        'keep-alive',
        'timeout=5',
        'transfer-encoding',
        'chunked',
        'cache-control',
        'no-cache="x-secret", max-age=60',
        'x-secret',
        's',
        'x-kept',
        'k',
      ],
    });
    const hit = (await h.request({ ttl: '1m' }, '/x', {})) as ReplayResponse;
    expect(hit.xCache).toBe('HIT');
    const names = hit.headers.filter((_, i) => i % 2 === 0);
    expect(names).toEqual(['cache-control', 'x-kept', 'date', 'age', 'x-cache', 'content-length']);
  });

  it('grows Age with the clock, starting from the origin Age', async () => {
    await h.request({}, '/x', { headers: ['cache-control', 'max-age=600', 'age', '30'] });
    h.now += 5000;
    const hit = (await h.request({}, '/x', {})) as ReplayResponse;
    expect(hit.headers[hit.headers.indexOf('age') + 1]).toBe('35');
  });

  it('sends a request with max-age=0 to the origin and replaces the entry', async () => {
    await h.request({ ttl: '1m' }, '/x', { body: 'one' });
    // RFC 9111 §5.2.1.1: max-age=0 still accepts a response of age 0; one second later it does not.
    h.now += 1000;
    const forced = await h.request(
      { ttl: '1m' },
      '/x',
      { body: 'two' },
      { 'cache-control': 'max-age=0' },
    );
    expect(forced.xCache).toBe('MISS');
    const hit = (await h.request({ ttl: '1m' }, '/x', {})) as ReplayResponse;
    expect(hit.body?.toString()).toBe('two');
  });

  it('serves but never stores for a request with no-store', async () => {
    const served = await h.request({ ttl: '1m' }, '/x', {}, { 'cache-control': 'no-store' });
    expect(served).toMatchObject({ xCache: 'MISS', status: 200 });
    expect(h.decisions).toEqual(['request-no-store']);
    // Nothing was kept: the next plain request goes to the origin, and is stored.
    expect((await h.request({ ttl: '1m' }, '/x', {})).xCache).toBe('MISS');
    expect((await h.request({ ttl: '1m' }, '/x', {})).xCache).toBe('HIT');
    expect(h.originCalls).toBe(2);
  });

  it('never stores a response announcing trailers (RFC 9110 §6.6.2, RFC 9111 §3.1)', async () => {
    const headers = ['cache-control', 'max-age=60', 'trailer', 'x-checksum'];
    await h.request({}, '/t', { headers });
    expect((await h.request({}, '/t', { headers })).xCache).toBe('MISS');
    expect(h.decisions).toEqual(['trailers', 'trailers']);
  });

  it('never stores a 412, nor a non-2xx answer to If-Match / If-Unmodified-Since (RFC 9110 §13.1.1, §13.1.4)', async () => {
    const fresh = ['cache-control', 'max-age=60'];
    await h.request({}, '/p', { status: 412, headers: fresh });
    await h.request({}, '/p', { status: 404, headers: fresh }, { 'if-match': '"a"' });
    await h.request({}, '/p', { status: 404, headers: fresh }, { 'if-unmodified-since': 'x' });
    await h.request({}, '/p', { status: 200, headers: fresh }, { 'if-match': '"a"' });
    expect(h.decisions).toEqual(['status', 'precondition', 'precondition', 'store']);
    expect((await h.request({}, '/p', {})).xCache).toBe('HIT');
  });

  it('does not store statuses outside the policy', async () => {
    await h.request({ ttl: '1m', statuses: [200] }, '/x', { status: 404 });
    expect(h.mw.stats().stores).toBe(0);
    await h.request({ ttl: '1m' }, '/y', { status: 404 });
    expect(h.mw.stats().stores).toBe(1);
  });

  it('answers only-if-cached with 504 when nothing usable is stored, never asking the origin', async () => {
    const miss = await h.request({ ttl: '1m' }, '/x', {}, { 'cache-control': 'only-if-cached' });
    expect(miss.status).toBe(504);
    expect(h.originCalls).toBe(0);
    await h.request({ ttl: '1m' }, '/x', {});
    const hit = await h.request({ ttl: '1m' }, '/x', {}, { 'cache-control': 'only-if-cached' });
    expect([hit.status, hit.xCache]).toEqual([200, 'HIT']);
  });

  it('replaces a Date that is not an HTTP-date with its own (RFC 9110 §5.6.7)', async () => {
    const headers = ['date', '2030-01-01T00:00:00Z', 'cache-control', 'max-age=60'];
    await h.request({}, '/d', { headers });
    const hit = (await h.request({}, '/d', {})) as ReplayResponse;
    expect(hit.xCache).toBe('HIT');
    const dates = hit.headers.filter((_, i) => i % 2 === 0 && hit.headers[i] === 'date');
    expect(dates).toHaveLength(1);
    expect(hit.headers[hit.headers.indexOf('date') + 1]).toBe(new Date(h.now).toUTCString());
  });

  it('answers Range requests from a stored complete response (RFC 9110 §14)', async () => {
    const first = await h.request({ ttl: '1m' }, '/x', { body: 'abcdef' }, { range: 'bytes=0-1' });
    expect(first.xCache).toBe('MISS');
    const part = (await h.request(
      { ttl: '1m' },
      '/x',
      {},
      { range: 'bytes=2-3' },
    )) as ReplayResponse;
    expect([part.status, part.xCache, part.body?.toString()]).toEqual([206, 'HIT', 'cd']);
    const none = (await h.request(
      { ttl: '1m' },
      '/x',
      {},
      { range: 'bytes=9-' },
    )) as ReplayResponse;
    expect([none.status, none.headers.includes('bytes */6')]).toEqual([416, true]);
    expect(h.originCalls).toBe(1);
  });
});

describe('requests with credentials (RFC 9111 §3.5)', () => {
  const shared = { headers: ['cache-control', 'public, max-age=60'], body: 'shared' };

  it('are never served what was stored for a request without them', async () => {
    await h.request({ ttl: '1m' }, '/x', { body: 'anonymous' });
    const all: Record<string, string>[] = [{ authorization: 'Bearer a' }, { cookie: 'sid=a' }];
    for (const credentials of all) {
      const r = await h.request({ ttl: '1m' }, '/x', { body: 'mine' }, credentials);
      expect(r.xCache).toBe('BYPASS');
    }
    expect(h.originCalls).toBe(3);
    expect(h.mw.stats()).toMatchObject({ stores: 1, misses: 1, bypass: 2, hits: 0 });
  });

  it('store and share an explicitly public response, Authorization and Cookie alike', async () => {
    const first = await h.request({ ttl: '1m' }, '/x', shared, { authorization: 'Bearer a' });
    expect(first.xCache).toBe('MISS');
    const others: Record<string, string>[] = [
      { authorization: 'Bearer b' },
      { cookie: 'sid=b' },
      {},
    ];
    for (const credentials of others) {
      expect((await h.request({ ttl: '1m' }, '/x', shared, credentials)).xCache).toBe('HIT');
    }
    expect(h.originCalls).toBe(1);
  });

  it('are cacheable per user when the policy keys the credential', async () => {
    const policy: CachePolicy = { ttl: '1m', varyBy: ['Cookie:sid'] };
    await h.request(policy, '/x', { body: 'a' }, { cookie: 'sid=a' });
    const hit = (await h.request(policy, '/x', {}, { cookie: 'x=1; sid=a' })) as ReplayResponse;
    expect([hit.xCache, hit.body?.toString()]).toEqual(['HIT', 'a']);
    expect((await h.request(policy, '/x', {}, { cookie: 'sid=A' })).xCache).toBe('MISS');
  });

  it("follow a policy's ignoreCookies added to the middleware's", async () => {
    const mw = new CachingMiddleware(cache, { ignoreCookies: ['_ga*'] });
    const classify = (policy: CachePolicy, cookie: string) => {
      const plan = mw.route(policy).begin('GET', '/', (n) => ({ host: 'a', cookie })[n]);
      return plan.kind === 'read' && plan.ctx.credentialed;
    };
    expect(classify({}, '_ga=1; _gid=2')).toBe(true);
    expect(classify({ ignoreCookies: ['_gid'] }, '_ga=1; _gid=2')).toBe(false);
    expect(classify({ ignoreCookies: ['_gid'] }, '_ga=1; sid=2')).toBe(true);
  });

  it('neither join nor lead a flight', async () => {
    const route = h.mw.route({ ttl: '1m' });
    const begin = (headers: Record<string, string>) => {
      const plan = route.begin('GET', '/c', (n) => ({ host: 'a.test', ...headers })[n]);
      if (plan.kind !== 'read') throw new Error('not a read');
      return route.lookup(plan.ctx);
    };
    const leader = await begin({});
    // The leader's origin has not answered; a request with a cookie goes to the origin itself.
    const withCookie = await begin({ cookie: 'sid=a' });
    expect(withCookie.kind).toBe('fetch');
    if (leader.kind === 'fetch') leader.recorder.abort();
    if (withCookie.kind === 'fetch') withCookie.recorder.abort();
  });
});

describe('coalescing', () => {
  it('counts the followers of a flight, not the leader: 49 of 50', async () => {
    const route = h.mw.route({ ttl: '1m' });
    const lookups = Array.from({ length: 50 }, () => {
      const plan = route.begin('GET', '/c', (n) => ({ host: 'a.test' })[n]);
      if (plan.kind !== 'read') throw new Error('not a read');
      return route.lookup(plan.ctx);
    });
    const leader = await lookups[0]!;
    if (leader.kind !== 'fetch') throw new Error('the first request must go to the origin');
    leader.recorder.head(200, ['cache-control', 'max-age=60']);
    leader.recorder.chunk(Buffer.from('one'));
    leader.recorder.end();
    const outcomes = await Promise.all(lookups.slice(1));
    expect(outcomes.every((o) => o.kind === 'replay' && o.response.xCache === 'HIT')).toBe(true);
    expect(h.mw.stats()).toMatchObject({ hits: 49, misses: 1, coalesced: 49 });
  });
});

describe('validation', () => {
  it('names the offending policy option', () => {
    // @ts-expect-error a JavaScript caller can pass any string: it is checked at run time.
    expect(() => h.mw.route({ ttl: 'soon' })).toThrow(/policy\.ttl/);
    expect(() => h.mw.route({ varyBy: ['bad header'] })).toThrow(/policy\.varyBy\[0\]/);
    expect(() => h.mw.route({ statuses: [200, 503] })).toThrow(/policy\.statuses\[1\]/);
    expect(() => h.mw.route({ tags: [''] })).toThrow(/policy\.tags\[0\]/);
    expect(() => h.mw.route({ maxBodySize: 'lots' })).toThrow(/policy\.maxBodySize/);
    expect(() => new CachingMiddleware(cache, { targetedFields: ['ok', 'not ok'] })).toThrow(
      /options\.targetedFields\[1\]/,
    );
    expect(() => h.mw.route({ varyBy: ['cookie:'] })).toThrow(/policy\.varyBy\[0\]/);
    expect(() => h.mw.route({ varyBy: ['x', 'cookie:a b'] })).toThrow(/policy\.varyBy\[1\]/);
    expect(() => h.mw.route({ ignoreCookies: ['a;b'] })).toThrow(/policy\.ignoreCookies\[0\]/);
  });

  it('names the offending middleware option', () => {
    expect(() => new CachingMiddleware(cache, { maxBodySize: -1 })).toThrow(/maxBodySize/);
    // @ts-expect-error a JavaScript caller can pass any string: it is checked at run time.
    expect(() => new CachingMiddleware(cache, { coalesceWait: 'never' })).toThrow(/coalesceWait/);
    expect(() => new CachingMiddleware(cache, { clock: {} as never })).toThrow(/clock/);
    expect(() => new CachingMiddleware(undefined as never)).toThrow(/Cache/);
    const config = (message: RegExp) =>
      expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringMatching(message) });
    expect(() => new CachingMiddleware(cache, { host: 'https://shop.example' })).toThrow(
      config(/options\.host/),
    );
    expect(() => new CachingMiddleware(cache, { host: 3 as never })).toThrow(
      config(/options\.host/),
    );
    expect(() => new CachingMiddleware(cache, { ignoreCookies: [''] })).toThrow(
      config(/options\.ignoreCookies\[0\]/),
    );
    // Only a field the cache keys on its own can be left out: a misspelt one is an error.
    expect(() => new CachingMiddleware(cache, { ignoreHeaders: ['X-Forwarded-Fro'] })).toThrow(
      config(/options\.ignoreHeaders: "x-forwarded-fro"/),
    );
    expect(
      () => new CachingMiddleware(cache, { ignoreHeaders: ['X-Forwarded-For'] }),
    ).not.toThrow();
  });
});
