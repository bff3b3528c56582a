import { describe, expect, it } from 'vitest';
import { createCache } from '../create-cache.js';
import { cacheConfigForPlan } from './cache-config.js';
import { loadCodeAI } from './load.js';

const plan = (src: string, env: Record<string, string> = {}) => loadCodeAI(src, { env }).plan!;

describe('cacheConfigForPlan', () => {
  it('memory by default, with the default TTL', () => {
    expect(cacheConfigForPlan(plan(''))).toEqual({ type: 'memory', defaultTTL: 300_000 });
  });

  it('redis with the spec URL, prefix and TTL; 127.0.0.1:6379 when no URL is given anywhere', () => {
    const spec = 'config { cache: redis { ttl: 1m prefix: "shop:" } }';
    expect(cacheConfigForPlan(plan(spec, { REDIS_URL: 'redis://r:6380' }))).toEqual({
      type: 'redis',
      url: 'redis://r:6380',
      prefix: 'shop',
      defaultTTL: 60_000,
    });
    expect(cacheConfigForPlan(plan(spec))).toMatchObject({ url: 'redis://127.0.0.1:6379' });
  });

  it('a URL overrides where the cache lives, keeping prefix and TTL', () => {
    const p = plan('config { cache: "redis" cache_prefix: "p" cache_ttl: 90 }');
    expect(cacheConfigForPlan(p, 'memory://')).toEqual({
      type: 'memory',
      prefix: 'p',
      defaultTTL: 90_000,
    });
    expect(cacheConfigForPlan(plan(''), 'redis://x:1')).toMatchObject({
      type: 'redis',
      url: 'redis://x:1',
    });
  });

  it('is accepted by createCache', async () => {
    const cache = createCache(cacheConfigForPlan(plan('config { cache_ttl: 5 }')));
    await cache.start();
    await cache.set('k', 'v');
    expect((await cache.get('k'))?.toString()).toBe('v');
    await cache.stop();
  });
});
