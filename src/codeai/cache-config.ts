/**
 * From a plan's backend to a `createCache` config: where the cache lives is the spec's
 * (or the `url` given here, as the CLI's `--cache` does), and its prefix and default TTL
 * come with it.
 */
import type { CacheConfig } from '../create-cache.js';
import type { CodeAIPlan } from './plan.js';

/** Where a `redis` backend with no URL anywhere connects (DESIGN §7). */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * The `createCache` config for a plan's backend. `url` overrides where the cache lives
 * (`memory://` or `redis://…`); the spec's prefix and default TTL still apply.
 */
export function cacheConfigForPlan(plan: CodeAIPlan, url?: string): CacheConfig {
  const { backend } = plan;
  const type = url === undefined ? backend.type : url.startsWith('memory:') ? 'memory' : 'redis';
  const common = {
    defaultTTL: backend.defaultTtlMs,
    // The cache joins prefix and key with ':' itself, so the spec's `"blog:"` means `blog`.
    ...(backend.prefix !== undefined ? { prefix: backend.prefix.replace(/:$/, '') } : {}),
  };
  if (type === 'memory') return { type: 'memory', ...common };
  return { type: 'redis', url: url ?? backend.url ?? DEFAULT_REDIS_URL, ...common };
}
