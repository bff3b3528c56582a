import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from './diagnostics.js';
import { type LoadCodeAIOptions, loadCodeAI } from './load.js';
import type { CodeAIPlan } from './plan.js';

function plan(src: string, options: LoadCodeAIOptions = {}): CodeAIPlan {
  const result = loadCodeAI(src, { env: {}, ...options });
  if (!result.ok)
    throw new Error(result.diagnostics.map((d) => formatDiagnostic(d, src)).join('\n'));
  return result.plan;
}

const endpoint = (p: CodeAIPlan, id: string) => {
  const e = p.endpoints.find((x) => x.id === id);
  if (!e) throw new Error(`no endpoint ${id} in ${p.endpoints.map((x) => x.id).join(', ')}`);
  return e;
};

const codes = (src: string, options: LoadCodeAIOptions = {}) =>
  loadCodeAI(src, { env: {}, ...options }).diagnostics.map(
    (d) => `${d.severity} ${d.code} ${d.line}:${d.column}`,
  );

describe('loadCodeAI: backend and defaults', () => {
  it('with no config: memory, 5 minutes, no prefix', () => {
    expect(plan('').backend).toEqual({ type: 'memory', defaultTtlMs: 300_000 });
  });

  it('reads the flat Go form, env() from the given environment', () => {
    const p = plan(
      `config {
        cache: "redis"
        cache_url: env("SHOP_REDIS")
        cache_ttl: "10m"
        cache_prefix: "shop"
      }`,
      { env: { SHOP_REDIS: 'redis://10.0.0.1:6380' } },
    );
    expect(p.backend).toEqual({
      type: 'redis',
      url: 'redis://10.0.0.1:6380',
      prefix: 'shop',
      defaultTtlMs: 600_000,
    });
  });

  it('reads the documentation block form with bare durations', () => {
    const p = plan('config { cache: redis { ttl: 5m prefix: "blog:" } }');
    expect(p.backend).toEqual({ type: 'redis', prefix: 'blog:', defaultTtlMs: 300_000 });
  });

  it('takes the Redis URL from CACHE_URL, then REDIS_URL, when the spec gives none', () => {
    const src = 'config { cache: "redis" }';
    expect(plan(src, { env: { REDIS_URL: 'redis://r', CACHE_URL: 'redis://c' } }).backend.url).toBe(
      'redis://c',
    );
    expect(plan(src, { env: { REDIS_URL: 'redis://r' } }).backend.url).toBe('redis://r');
  });

  it('accepts env(NAME) unquoted and warns when the variable is not set', () => {
    expect(codes('config { cache: redis cache_url: env(NOPE) }')).toEqual([
      'warning ENV_NOT_SET 1:34',
    ]);
  });

  it('normalises api_prefix and applies it to every endpoint, {id} written :id', () => {
    const p = plan('config { api_prefix: "/api/v1/" }\nendpoint GET "/products/{id}" {}');
    expect(p.apiPrefix).toBe('/api/v1');
    expect(p.endpoints[0]).toMatchObject({
      id: 'GET /api/v1/products/:id',
      path: '/api/v1/products/:id',
      params: ['id'],
    });
  });
});

describe('loadCodeAI: which endpoints are cached', () => {
  const spec = `
    config { cache_ttl: 120 }
    middleware per_user {
        type cache
        config { ttl: 300 vary_by: "Authorization, Accept-Language" }
    }
    middleware listed { type cache config { vary_by: ["X-Tenant", "accept-language"] } }
    middleware login { type authentication }
    @cache("5m") endpoint GET "/a" {}
    @cache endpoint GET "/b" {}
    endpoint GET "/c" { cache: 1h }
    endpoint GET "/d" { middleware per_user }
    endpoint GET "/e" { middleware listed }
    endpoint GET "/f" { middleware login }
    endpoint GET "/g" { middleware login middleware per_user response G status 200 }
  `;
  const p = plan(spec);

  it('@cache("5m") sets the TTL; bare @cache takes the default', () => {
    expect(endpoint(p, 'GET /a')).toMatchObject({
      cached: true,
      ttlMs: 300_000,
      source: { kind: 'annotation' },
    });
    expect(endpoint(p, 'GET /b')).toMatchObject({ cached: true, ttlMs: 120_000 });
  });

  it('an endpoint cache: TTL caches it', () => {
    expect(endpoint(p, 'GET /c')).toMatchObject({
      cached: true,
      ttlMs: 3_600_000,
      source: { kind: 'endpoint-ttl' },
    });
  });

  it('a type cache middleware: ttl in seconds, vary_by as a string or a list, lowercased', () => {
    expect(endpoint(p, 'GET /d')).toMatchObject({
      ttlMs: 300_000,
      varyBy: ['authorization', 'accept-language'],
      source: { kind: 'middleware', name: 'per_user' },
      tags: ['codeai:GET /d'],
    });
    expect(endpoint(p, 'GET /e')).toMatchObject({
      ttlMs: 120_000,
      varyBy: ['x-tenant', 'accept-language'],
    });
  });

  it('an endpoint without a cache directive is not cached', () => {
    expect(endpoint(p, 'GET /f').cached).toBe(false);
    expect(endpoint(p, 'GET /f').ttlMs).toBeUndefined();
  });

  it('reads a single-line endpoint body with several clauses', () => {
    expect(endpoint(p, 'GET /g')).toMatchObject({
      middleware: ['login', 'per_user'],
      cached: true,
    });
  });

  it('caches an authenticated endpoint per Authorization even when vary_by omits it, with a warning', () => {
    const r = loadCodeAI(
      `middleware login { type authentication }
       middleware shared { type cache config { vary_by: "Accept" } }
       endpoint GET "/me" { middleware login middleware shared }
       endpoint GET "/docs" {
           auth: required
           cache: 5m
       }`,
      { env: {} },
    );
    expect(r.ok).toBe(true);
    expect(endpoint(r.plan!, 'GET /me').varyBy).toEqual(['accept', 'authorization']);
    expect(endpoint(r.plan!, 'GET /docs').varyBy).toEqual(['authorization']);
    expect(r.diagnostics.map((d) => `${d.code} ${d.line}:${d.column}`)).toEqual([
      'AUTH_WITHOUT_VARY 3:57',
      'AUTH_WITHOUT_VARY 6:12',
    ]);
  });

  it('ttl: 0 means the default TTL, with a warning', () => {
    const r = loadCodeAI(
      'middleware c { type cache config { ttl: 0 } }\nendpoint GET "/x" { middleware c }',
      {
        env: {},
      },
    );
    expect(r.plan?.endpoints[0]?.ttlMs).toBe(300_000);
    expect(r.diagnostics).toEqual([
      expect.objectContaining({
        severity: 'warning',
        code: 'TTL_ZERO_MEANS_DEFAULT',
        line: 1,
        column: 41,
      }),
    ]);
  });

  it('a cache directive on a write is a warning and ignored', () => {
    const r = loadCodeAI('@cache("1m")\nendpoint POST "/x" { cache: 5m }', { env: {} });
    expect(r.ok).toBe(true);
    expect(r.plan?.endpoints[0]?.cached).toBe(false);
    expect(r.diagnostics.map((d) => `${d.code} ${d.line}:${d.column}`)).toEqual([
      'CACHE_ON_NON_GET 1:1',
      'CACHE_ON_NON_GET 2:22',
    ]);
  });

  it('warns about unknown cache options and duplicate declarations', () => {
    expect(
      codes(
        'middleware c { type cache config { ttl: 1 sweep: true } }\nmiddleware c { type cache }\nendpoint GET "/a" {}\nendpoint GET "/a" {}',
      ),
    ).toEqual([
      'warning UNKNOWN_CACHE_OPTION 1:43',
      'warning DUPLICATE 2:12',
      'warning DUPLICATE 4:1',
    ]);
  });
});

describe('loadCodeAI: invalidation links', () => {
  const p = plan(`
    config { api_prefix: "/api" }
    endpoint GET "/authors" { cache: 1m }
    endpoint GET "/authors/:id" { cache: 1m }
    endpoint GET "/authors/{authorId}/books" { cache: 1m }
    endpoint GET "/authors/:id/books/:bookId" { cache: 1m }
    endpoint GET "/feed" { cache: 1m }
    endpoint POST "/authors" {}
    endpoint PUT "/authors/:id" {}
    endpoint POST "/authors/:id/books" {}
    @invalidates("/feed")
    endpoint DELETE "/authors/:id" {}
  `);
  const links = (id: string) =>
    endpoint(p, id)
      .invalidates.map((l) => `${l.reason} ${l.endpoint}`)
      .sort();

  it('POST: same path and ancestors, never descendants', () => {
    expect(links('POST /api/authors')).toEqual(['same-path GET /api/authors']);
    expect(links('POST /api/authors/:id/books')).toEqual([
      'ancestor GET /api/authors',
      'ancestor GET /api/authors/:id',
      'same-path GET /api/authors/:authorId/books',
    ]);
  });

  it('PUT / DELETE: also descendants, parameters matched by position whatever their names', () => {
    expect(links('PUT /api/authors/:id')).toEqual([
      'ancestor GET /api/authors',
      'descendant GET /api/authors/:authorId/books',
      'descendant GET /api/authors/:id/books/:bookId',
      'same-path GET /api/authors/:id',
    ]);
  });

  it('@invalidates adds a cross-resource link, under api_prefix', () => {
    expect(links('DELETE /api/authors/:id')).toContain('annotation GET /api/feed');
    expect(endpoint(p, 'GET /api/feed').invalidatedBy).toEqual([
      { endpoint: 'DELETE /api/authors/:id', reason: 'annotation' },
    ]);
  });

  it('each GET lists the writes that invalidate it', () => {
    expect(
      endpoint(p, 'GET /api/authors/:authorId/books')
        .invalidatedBy.map((l) => l.endpoint)
        .sort(),
    ).toEqual(['DELETE /api/authors/:id', 'POST /api/authors/:id/books', 'PUT /api/authors/:id']);
  });

  it('the plan survives a JSON round trip unchanged', () => {
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });
});

describe('loadCodeAI: skipping what the cache does not use', () => {
  it('skips entities, workflows, jobs, events and do blocks, braces in strings and comments included', () => {
    const p = plan(`
      entity Post { title: string, default("}") // }
        body: text /* { */ }
      workflow publish { step a { do { if x > 1 { emit("{") } } } }
      on "user.created" do integration "analytics.track"
      job nightly { schedule: "0 3 * * *" }
      endpoint GET "/posts" { do { posts = find(Post) where "a = '}'" } cache: 1m }
    `);
    expect(p.endpoints.map((e) => [e.id, e.cached])).toEqual([['GET /posts', true]]);
  });
});

describe('loadCodeAI: integrations', () => {
  it('operation cache:, default_cache_ttl for GETs and fallback: cache', () => {
    const p = plan(`
      integration Weather {
          base_url: "https://weather.test"
          default_cache_ttl: 15m
          fallback: cache
          operation current { method: GET path: "/now" cache: 10m }
          operation forecast { method: GET path: "/forecast" }
          operation report { method: POST path: "/reports" }
      }`);
    expect(p.integrations).toEqual([
      {
        name: 'Weather',
        baseUrl: 'https://weather.test',
        defaultTtlMs: 900_000,
        fallbackToCache: true,
        operations: [
          { name: 'current', method: 'GET', path: '/now', ttlMs: 600_000, line: 6, column: 11 },
          {
            name: 'forecast',
            method: 'GET',
            path: '/forecast',
            ttlMs: 900_000,
            line: 7,
            column: 11,
          },
          { name: 'report', method: 'POST', path: '/reports', line: 8, column: 11 },
        ],
        line: 2,
        column: 7,
      },
    ]);
  });
});

describe('loadCodeAI: broken specs', () => {
  // [what, spec, expected diagnostics as "severity CODE line:column"]
  const table: [string, string, string[]][] = [
    [
      'unterminated string',
      'config {\n  cache_ttl: "5m\n}\n',
      ['error SYNTAX 1:8', 'error INVALID_TTL 2:12', 'error SYNTAX 2:14'],
    ],
    ['unterminated block', 'endpoint GET "/a" {\n  request X from path\n', ['error SYNTAX 1:19']],
    ['unterminated comment', 'config { }\n/* no end', ['error SYNTAX 2:1']],
    ['stray closing brace', 'config { }\n}\nendpoint GET "/a" {}', ['error SYNTAX 2:1']],
    [
      'unknown middleware',
      'endpoint GET "/a" {\n    middleware nope\n}',
      ['error UNKNOWN_MIDDLEWARE 2:16'],
    ],
    [
      'bad middleware TTL',
      'middleware c {\n type cache\n config { ttl: "soon" }\n}',
      ['error INVALID_TTL 3:16'],
    ],
    ['bad @cache TTL', '@cache("forever")\nendpoint GET "/a" {}', ['error INVALID_TTL 1:8']],
    ['bad endpoint TTL', 'endpoint GET "/a" { cache: "5 minutes" }', ['error INVALID_TTL 1:28']],
    ['bad config TTL', 'config { cache_ttl: -1 }', ['error INVALID_TTL 1:21']],
    ['unknown backend', 'config { cache: "memcached" }', ['error INVALID_CACHE_CONFIG 1:17']],
    [
      'bad vary_by',
      'middleware c { type cache config { vary_by: 42 } }',
      ['error INVALID_CACHE_CONFIG 1:45'],
    ],
    [
      'header name with a space',
      'middleware c { type cache config { vary_by: "X Y" } }',
      ['error INVALID_CACHE_CONFIG 1:45'],
    ],
    ['unknown method', 'endpoint FETCH "/a" {}', ['error SYNTAX 1:10']],
    ['relative path', 'endpoint GET "a/b" {}', ['error SYNTAX 1:14']],
    ['missing endpoint body', 'endpoint GET "/a"\nconfig { }', ['error SYNTAX 2:1']],
    ['unclosed argument list', '@cache("1m"\nendpoint GET "/a" {}', ['error SYNTAX 1:7']],
    [
      'several errors, all reported',
      'middleware c { type cache config { ttl: "x" } }\nendpoint GET "/a" { middleware a }\nendpoint GET "/b" { middleware b }',
      ['error INVALID_TTL 1:41', 'error UNKNOWN_MIDDLEWARE 2:32', 'error UNKNOWN_MIDDLEWARE 3:32'],
    ],
  ];

  it.each(table)('%s', (_what, src, expected) => {
    const r = loadCodeAI(src, { env: {} });
    expect(r.ok).toBe(false);
    expect(r.plan).toBeUndefined();
    expect(r.diagnostics.map((d) => `${d.severity} ${d.code} ${d.line}:${d.column}`)).toEqual(
      expected,
    );
  });

  it('formats a diagnostic as file:line:column: error CODE message, with a caret under the column', () => {
    const src = 'endpoint GET "/a" {\n\tmiddleware nope\n}';
    const r = loadCodeAI(src, { env: {} });
    expect(formatDiagnostic(r.diagnostics[0]!, src, 'app.cai')).toBe(
      'app.cai:2:13: error UNKNOWN_MIDDLEWARE middleware "nope" is not declared\n' +
        '2 | \tmiddleware nope\n' +
        '  | \t           ^',
    );
  });
});

describe('loadCodeAI: strict mode', () => {
  const goForm = `
    config {
        api_prefix: "/api/v1"
        cache: "redis"
        cache_ttl: "10m"
    }
    middleware per_user { type cache config { ttl: 300 vary_by: ["Authorization"] } }
    @cache("5m")
    endpoint GET "/products/:id" {
        middleware per_user
        request ProductId from path
        response Product status 200
        do { find(Product, id) }
    }`;

  it('accepts what the Go parser accepts', () => {
    expect(loadCodeAI(goForm, { strict: true, env: {} }).ok).toBe(true);
  });

  it('reports each documentation-only form as PLANNED_SYNTAX', () => {
    const doc = `config {
    cache: redis { ttl: 5m }
    cache_ttl: 10m
}
endpoint GET /posts {
    cache: 5m
}
integration W {
    default_cache_ttl: 15m
    fallback: cache
    operation now { method: GET cache: "1m" }
}`;
    expect(codes(doc, { strict: true })).toEqual([
      'error PLANNED_SYNTAX 2:12',
      'error PLANNED_SYNTAX 3:16',
      'error PLANNED_SYNTAX 5:14',
      'error PLANNED_SYNTAX 6:5',
      'error PLANNED_SYNTAX 9:5',
      'error PLANNED_SYNTAX 10:5',
      'error PLANNED_SYNTAX 11:40',
    ]);
    expect(loadCodeAI(doc, { env: {} }).ok).toBe(true);
  });
});
