import { describe, expect, it } from 'vitest';
import { loadCodeAI } from '../codeai/load.js';
import type { CodeAIPlan } from '../codeai/plan.js';
import { cacheLocation } from './serve.js';

function plan(config: string, env: Record<string, string> = {}): CodeAIPlan {
  const loaded = loadCodeAI(`config { ${config} }\nendpoint GET "/x" { cache: 30s }\n`, { env });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
  return loaded.plan;
}

describe('where serve keeps its cache (DESIGN §7)', () => {
  const env = { CACHE_URL: 'redis://:env-pw@cache-env:6379', REDIS_URL: 'redis://redis-env:6379' };

  it('--cache first, over the spec and the environment', () => {
    const spec = plan('cache: "redis" cache_url: "redis://spec:6379"', env);
    expect(cacheLocation(spec, 'redis://:pw@flag:6379', env).label).toBe(
      'redis at redis://:***@flag:6379',
    );
    expect(cacheLocation(undefined, 'memory://', env).label).toBe(
      'memory (embedded in this process)',
    );
  });

  it("then the spec's cache_url and backend", () => {
    expect(
      cacheLocation(plan('cache: "redis" cache_url: "redis://spec:6379"', env), undefined, env)
        .label,
    ).toBe('redis at redis://spec:6379');
    expect(cacheLocation(plan('cache: "memory"', env), undefined, env).label).toBe(
      'memory (embedded in this process)',
    );
  });

  it('then CACHE_URL, then REDIS_URL (password masked)', () => {
    expect(cacheLocation(undefined, undefined, env).label).toBe(
      'redis at redis://:***@cache-env:6379',
    );
    expect(cacheLocation(undefined, undefined, { REDIS_URL: env.REDIS_URL }).label).toBe(
      'redis at redis://redis-env:6379',
    );
    const specRedis = plan('cache: "redis"', env);
    expect(cacheLocation(specRedis, undefined, env).label).toBe(
      'redis at redis://:***@cache-env:6379',
    );
  });

  it('else the embedded memory cache; a spec that says redis with no URL anywhere means 127.0.0.1:6379', () => {
    expect(cacheLocation(undefined, undefined, {})).toEqual({
      config: { type: 'memory' },
      label: 'memory (embedded in this process)',
    });
    expect(cacheLocation(plan('cache: "redis"'), undefined, {}).label).toBe(
      'redis at redis://127.0.0.1:6379',
    );
  });
});
