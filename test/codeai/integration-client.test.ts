/**
 * Outbound integration caching against a real API on 127.0.0.1: the plan's TTLs, the
 * fallback to the last good answer (with its age) when the API fails, and what is never
 * cached. Time is injected: the cache and the client share one clock.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { integrationClient, loadCodeAI, MemoryCache } from '../../src/index.js';

const SPEC = `
integration Weather {
    default_cache_ttl: 15m
    fallback: cache
    operation current { method: GET path: "/weather/{city}" cache: 10m }
    operation forecast { method: GET path: "/forecast" }
    operation report { method: POST path: "/reports" }
}
integration Fragile {
    operation status { method: GET path: "/status" cache: 1m }
}`;

/** The API: counts calls per URL; `mode` makes it fail. */
class Api {
  calls = new Map<string, number>();
  mode: 'ok' | '500' | '429' | '404' = 'ok';
  server!: Server;
  url = '';
  count(url: string) {
    return this.calls.get(url) ?? 0;
  }
  async start() {
    this.server = createServer((req, res) => {
      const n = this.count(req.url!) + 1;
      this.calls.set(req.url!, n);
      if (this.mode !== 'ok') {
        res.writeHead(Number(this.mode), { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: this.mode }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ url: req.url, n, auth: req.headers.authorization ?? null }));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  async stop() {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

const plan = loadCodeAI(SPEC, { env: {} }).plan!;
let now = Date.UTC(2030, 0, 1);
const clock = { now: () => now };
let api: Api;
let cache: MemoryCache;

beforeEach(async () => {
  api = new Api();
  await api.start();
  cache = new MemoryCache({ maxMemory: '8mb', clock });
  await cache.start();
});
afterEach(async () => {
  await api.stop();
  await cache.stop();
});

const weather = () => integrationClient(cache, plan, 'Weather', { baseUrl: api.url, clock });

describe('integration client', () => {
  it('caches an operation for its cache: TTL, with the age of what it serves', async () => {
    const w = weather();
    const first = await w.call('current', {
      params: { city: 'Paris' },
      query: { units: 'metric', lang: 'fr' },
    });
    expect(first).toMatchObject({ status: 200, source: 'network', ageMs: 0 });
    expect(first.json()).toMatchObject({ url: '/weather/Paris?lang=fr&units=metric', n: 1 });
    now += 4_000;
    const second = await w.call('current', {
      params: { city: 'Paris' },
      query: { lang: 'fr', units: 'metric' },
    });
    expect(second).toMatchObject({ source: 'cache', ageMs: 4_000 });
    expect(second.json()).toMatchObject({ n: 1 });
    expect(api.count('/weather/Paris?lang=fr&units=metric')).toBe(1);
    now += 10 * 60_000; // past the 10-minute TTL
    expect(
      (
        await w.call('current', {
          params: { city: 'Paris' },
          query: { lang: 'fr', units: 'metric' },
        })
      ).source,
    ).toBe('network');
    expect(api.count('/weather/Paris?lang=fr&units=metric')).toBe(2);
  });

  it('an operation without cache: takes default_cache_ttl', async () => {
    const w = weather();
    await w.call('forecast');
    now += 14 * 60_000;
    expect((await w.call('forecast')).source).toBe('cache');
    now += 2 * 60_000;
    expect((await w.call('forecast')).source).toBe('network');
  });

  it('fallback: cache serves the last good answer with its age when the API fails', async () => {
    const w = weather();
    await w.call('current', { params: { city: 'Oslo' } });
    now += 11 * 60_000; // expired
    api.mode = '500';
    const rescued = await w.call('current', { params: { city: 'Oslo' } });
    expect(rescued).toMatchObject({ status: 200, source: 'fallback', ageMs: 11 * 60_000 });
    expect(rescued.json()).toMatchObject({ n: 1 });
    expect(String(rescued.error)).toContain('500');
    api.mode = '429';
    expect((await w.call('current', { params: { city: 'Oslo' } })).source).toBe('fallback');
    // A network failure falls back too.
    await api.stop();
    const offline = await w.call('current', { params: { city: 'Oslo' } });
    expect(offline).toMatchObject({ source: 'fallback', status: 200 });
    await api.start(); // for afterEach
  });

  it('without fallback a failing answer reaches the caller and is never cached', async () => {
    const f = integrationClient(cache, plan, 'Fragile', { baseUrl: api.url, clock });
    api.mode = '500';
    expect(await f.call('status')).toMatchObject({ status: 500, source: 'network' });
    api.mode = 'ok';
    expect(await f.call('status')).toMatchObject({ status: 200, source: 'network' });
    expect(api.count('/status')).toBe(2);
    now += 61_000;
    api.mode = '500';
    expect(await f.call('status')).toMatchObject({ status: 500, source: 'network' });
  });

  it('a network error with nothing to fall back on rejects with that error', async () => {
    const f = integrationClient(cache, plan, 'Fragile', { baseUrl: 'http://127.0.0.1:9', clock });
    await expect(f.call('status')).rejects.toThrow();
  });

  it('caches a 404 as an answer, not a failure', async () => {
    const w = weather();
    api.mode = '404';
    expect((await w.call('forecast')).status).toBe(404);
    expect((await w.call('forecast')).source).toBe('cache');
  });

  it('never caches an operation the plan does not cache', async () => {
    const w = weather();
    await w.call('report', { body: '{}' });
    expect((await w.call('report', { body: '{}' })).source).toBe('network');
    expect(api.count('/reports')).toBe(2);
  });

  it('keys per-call headers: two callers with different credentials never share an answer', async () => {
    const w = weather();
    const a = await w.call('forecast', { headers: { authorization: 'Bearer a' } });
    const b = await w.call('forecast', { headers: { authorization: 'Bearer b' } });
    expect([a.source, b.source]).toEqual(['network', 'network']);
    expect(b.json()).toMatchObject({ auth: 'Bearer b' });
    expect(
      (await w.call('forecast', { headers: { authorization: 'Bearer a' } })).json(),
    ).toMatchObject({
      auth: 'Bearer a',
    });
  });

  it('rejects unknown operations, missing parameters and a missing base URL', async () => {
    const w = weather();
    await expect(w.call('nope')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(w.call('current')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => integrationClient(cache, plan, 'Weather')).toThrow(/baseUrl/);
    expect(() => integrationClient(cache, plan, 'Missing')).toThrow(/no integration/);
  });
});
