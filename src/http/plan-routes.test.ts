import { afterAll, describe, expect, it } from 'vitest';
import { loadCodeAI } from '../codeai/load.js';
import { MemoryCache } from '../stores/memory/memory-cache.js';
import { CachingMiddleware } from './caching-middleware.js';
import { PlanRoutes } from './plan-routes.js';

const result = loadCodeAI(
  `config { api_prefix: "/v1" }
   endpoint GET "/a" { cache: 1m }
   endpoint GET "/a/special" { cache: 2m }
   endpoint GET "/a/:id" { cache: 3m }
   endpoint GET "/a/:id/b/:bid" { cache: 4m }
   endpoint GET "/plain" {}
   endpoint POST "/a" {}
   endpoint POST "/elsewhere" {}
   endpoint DELETE "/a/:id" {}`,
  { env: {} },
);
const cache = new MemoryCache();
const mw = new CachingMiddleware(cache);
const routes = new PlanRoutes(mw, result.plan!);
const header = (name: string) => (name === 'host' ? 'x.test' : undefined);
afterAll(() => cache.stop());

const decide = (method: string, url: string) => {
  const d = routes.decide(method, url, header);
  return d.kind === 'pass' ? 'pass' : `${d.kind} ${d.endpoint.id}`;
};

describe('PlanRoutes.decide', () => {
  it('matches under api_prefix, literal segments before parameters, query ignored', () => {
    expect(decide('GET', '/v1/a?page=2')).toBe('read GET /v1/a');
    expect(decide('GET', '/v1/a/special')).toBe('read GET /v1/a/special');
    expect(decide('GET', '/v1/a/7')).toBe('read GET /v1/a/:id');
    expect(decide('HEAD', '/v1/a/7/b/9')).toBe('read GET /v1/a/:id/b/:bid');
  });

  it('applies the endpoint’s own policy', () => {
    const d = routes.decide('GET', '/v1/a/special', header);
    expect(d.kind === 'read' && d.route.policy.ttlMs).toBe(120_000);
    expect(d.kind === 'read' && d.route.policy.invalidate).toBe(false);
  });

  it('passes uncached endpoints, unknown paths, paths outside the prefix and writes linked to nothing', () => {
    expect(decide('GET', '/v1/plain')).toBe('pass');
    expect(decide('GET', '/v1/nope')).toBe('pass');
    expect(decide('GET', '/a')).toBe('pass');
    expect(decide('POST', '/v1/elsewhere')).toBe('pass');
    expect(decide('OPTIONS', '/v1/a')).toBe('pass');
  });

  it('a write invalidates only after a 2xx/3xx', () => {
    const d = routes.decide('DELETE', '/v1/a/7', header);
    expect(d.kind).toBe('write');
    if (d.kind !== 'write') return;
    expect(d.finish(404)).toBeUndefined();
    expect(d.finish(500)).toBeUndefined();
    expect(d.finish(204)).toBeInstanceOf(Promise);
  });

  it('tags a GET reached as a descendant with its concrete prefix', () => {
    const d = routes.decide('GET', '/v1/a/7/b/9', header);
    expect(d.kind === 'read' && d.route.policy.tags).toEqual([
      'codeai:GET /v1/a/:id/b/:bid',
      'codeai:under:x.test/v1/a/7',
    ]);
  });
});
