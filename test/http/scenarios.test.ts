/**
 * Runs the scenario table against every adapter × every backend, each on a real server on
 * 127.0.0.1. Adding a backend is one line in BACKENDS; adding an adapter is one line in
 * servers.ts.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Cache } from '../../src/core/types.js';
import {
  CachingMiddleware,
  type CachingMiddlewareOptions,
} from '../../src/http/caching-middleware.js';
import { MemoryCache } from '../../src/stores/memory/memory-cache.js';
import { RedisCache } from '../../src/stores/redis/redis-cache.js';
import { send, until } from './client.js';
import { Origin } from './origin.js';
import { type Env, SCENARIOS, TABLE_OPTIONS } from './scenarios.js';
import { ADAPTERS, type Running } from './servers.js';

/** Backends the table runs on: each returns a started cache. */
const BACKENDS: Record<string, () => Promise<Cache>> = {
  memory: async () => {
    const cache = new MemoryCache({ maxMemory: '64mb' });
    await cache.start();
    return cache;
  },
  redis: async () => {
    // The shared test server: a prefix of our own keeps runs and files apart.
    const cache = new RedisCache({ url: inject('redisUrl'), prefix: `http-${randomUUID()}` });
    await cache.start();
    return cache;
  },
};

for (const [backendName, makeCache] of Object.entries(BACKENDS)) {
  for (const [adapterName, start] of Object.entries(ADAPTERS)) {
    describe(`${adapterName} on ${backendName}`, () => {
      let cache: Cache | undefined;
      let server: Running | undefined;
      let mw: CachingMiddleware | undefined;

      /** A server of this adapter on this backend, with the table's options plus `options`. */
      const open = async (options: CachingMiddlewareOptions = {}): Promise<Env> => {
        const c = await makeCache();
        cache = c;
        let offset = 0;
        const m = new CachingMiddleware(c, {
          ...TABLE_OPTIONS,
          ...options,
          clock: { now: () => Date.now() + offset },
        });
        mw = m;
        const origin = new Origin();
        const s = await start(m, origin);
        server = s;
        return {
          adapter: adapterName,
          url: s.url,
          origin,
          mw: m,
          advance: (ms) => {
            offset += ms;
          },
          get: (path, headers, method) => send(s.url, path, { method, headers }),
          stored: (n) => until(() => m.stats().stores >= n, 10_000, `${n} stored responses`),
        };
      };

      afterEach(async () => {
        await server?.close();
        mw?.stop();
        await cache?.stop();
        server = undefined;
        mw = undefined;
        cache = undefined;
      });

      for (const scenario of SCENARIOS) {
        it(scenario.name, async () => scenario.run(await open(scenario.options)));
      }
    });
  }
}

/** A cache whose every operation rejects, as a dead Redis would. */
function brokenCache(): Cache {
  return new Proxy({} as Cache, {
    get(_target, prop) {
      if (prop === 'then') return undefined;
      return () => Promise.reject(new Error(`cache down (${String(prop)})`));
    },
  });
}

for (const [adapterName, start] of Object.entries(ADAPTERS)) {
  describe(`${adapterName} with a failing cache`, () => {
    it('answers every request from the origin and counts the failures', async () => {
      const mw = new CachingMiddleware(brokenCache());
      const errors: string[] = [];
      mw.on('cacheError', (e) => errors.push(e.operation));
      const origin = new Origin();
      const server = await start(mw, origin);
      try {
        const a = await send(server.url, '/cached');
        const b = await send(server.url, '/cached');
        expect([a.status, b.status]).toEqual([200, 200]);
        expect(JSON.parse(b.text)).toMatchObject({ n: 2 });
        const put = await send(server.url, '/posts/1', { method: 'PUT' });
        expect(put.status).toBe(200);
        expect(mw.stats().errors).toBeGreaterThanOrEqual(5);
        expect(errors).toContain('get');
        expect(errors).toContain('invalidateTags');
      } finally {
        await server.close();
      }
    });
  });
}
