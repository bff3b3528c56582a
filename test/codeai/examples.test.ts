/**
 * The published CodeAI example specs: each one loads, or is refused only for a genuine
 * error of that file, named here with its reason. Three plans are checked by hand.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CodeAIPlan, formatDiagnostic, loadCodeAI } from '../../src/index.js';
import { exampleFiles, examplesDir } from './examples.js';

if (!examplesDir) {
  console.warn(
    'codeai examples: ../shared/codeai-examples not found (set CODEAI_EXAMPLES); skipping the example specs',
  );
}

/** Files the loader must refuse, and why: each is a real mistake of the file. */
const REFUSED: Record<string, { reason: string; codes: string[] }> = {
  '11-endpoints__with_endpoints.cai': {
    reason:
      'its endpoints name middleware (auth, admin, rate_limit, logging) that the file never declares',
    codes: ['UNKNOWN_MIDDLEWARE'],
  },
};

const load = (file: string) =>
  loadCodeAI(readFileSync(join(examplesDir!, file), 'utf8'), { env: {}, file });

const ids = (p: CodeAIPlan) => p.endpoints.map((e) => e.id);
const links = (p: CodeAIPlan, id: string) =>
  p.endpoints
    .find((e) => e.id === id)!
    .invalidates.map((l) => `${l.reason} ${l.endpoint}`)
    .sort();

describe.skipIf(!examplesDir)('the published example specs', () => {
  it('finds the 16 example specs', () => {
    expect(exampleFiles).toHaveLength(16);
  });

  it.each(exampleFiles)('%s loads, or is refused only for its named error', (file) => {
    const result = load(file);
    const source = readFileSync(join(examplesDir!, file), 'utf8');
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    const refused = REFUSED[file];
    if (refused) {
      expect(result.ok, `${file} should be refused: ${refused.reason}`).toBe(false);
      expect([...new Set(errors.map((d) => d.code))]).toEqual(refused.codes);
    } else {
      expect(result.ok, errors.map((d) => formatDiagnostic(d, source, file)).join('\n')).toBe(true);
    }
  });

  it('11-endpoints is refused at each undeclared middleware reference', () => {
    const result = load('11-endpoints__with_endpoints.cai');
    const names = result.diagnostics.map((d) => /"(\w+)"/.exec(d.message)?.[1]);
    expect(new Set(names)).toEqual(new Set(['rate_limit', 'auth', 'admin', 'logging']));
    expect(result.diagnostics[0]).toMatchObject({ line: 67, column: 16 });
  });

  it('02-blog-api: the block-form Redis config, unquoted paths, links by position', () => {
    const result = load('02-blog-api__blog-api.cai');
    expect(result.ok).toBe(true);
    const plan = result.plan!;
    expect(plan.backend).toEqual({ type: 'redis', prefix: 'blog:', defaultTtlMs: 300_000 });
    expect(plan.apiPrefix).toBe('');
    expect(plan.endpoints).toHaveLength(26);
    expect(ids(plan).slice(0, 6)).toEqual([
      'POST /auth/register',
      'POST /auth/login',
      'GET /auth/me',
      'PUT /auth/me',
      'GET /users',
      'GET /users/:id',
    ]);
    // No endpoint carries a cache directive in this spec.
    expect(plan.endpoints.filter((e) => e.cached)).toEqual([]);
    // `/posts/{slug}` and `/posts/{id}` share a position: a PUT on one reaches the other.
    expect(links(plan, 'PUT /posts/:id')).toEqual([
      'ancestor GET /posts',
      'descendant GET /posts/:post_id/comments',
      'same-path GET /posts/:slug',
    ]);
    expect(links(plan, 'POST /posts/:post_id/comments')).toEqual([
      'ancestor GET /posts',
      'ancestor GET /posts/:slug',
      'same-path GET /posts/:post_id/comments',
    ]);
    expect(plan.diagnostics).toEqual([]);
  });

  it('04-integrations: operation TTLs, default_cache_ttl and fallback: cache', () => {
    const result = load('04-integrations__integrations.cai');
    expect(result.ok).toBe(true);
    const plan = result.plan!;
    expect(plan.backend).toEqual({ type: 'redis', prefix: 'integ:', defaultTtlMs: 300_000 });
    const byName = Object.fromEntries(plan.integrations.map((i) => [i.name, i]));
    expect(Object.keys(byName)).toEqual([
      'GitHubAPI',
      'WeatherAPI',
      'StripeAPI',
      'GitHubGraphQL',
      'WebhookDeliveryService',
      'NotificationService',
      'StorageService',
    ]);
    expect(byName.WeatherAPI).toMatchObject({
      baseUrl: 'https://api.openweathermap.org/data/2.5',
      defaultTtlMs: 900_000,
      fallbackToCache: true,
    });
    expect(byName.WeatherAPI!.operations.map((o) => [o.name, o.method, o.path, o.ttlMs])).toEqual([
      ['get_current', 'GET', '/weather', 600_000],
      ['get_forecast', 'GET', '/forecast', 1_800_000],
    ]);
    expect(byName.GitHubAPI!.fallbackToCache).toBe(false);
    expect(byName.GitHubAPI!.operations.map((o) => [o.name, o.ttlMs])).toEqual([
      ['get_user', 300_000],
      ['list_repos', undefined],
      ['create_issue', undefined],
      ['get_rate_limit', undefined],
    ]);
    // GraphQL operations are POSTs and stay uncached.
    expect(byName.GitHubGraphQL!.operations.every((o) => o.method === 'POST' && !o.ttlMs)).toBe(
      true,
    );
    // The unset env(...) base URLs are reported, not fatal.
    expect(result.diagnostics.map((d) => d.code)).toEqual([
      'ENV_NOT_SET',
      'ENV_NOT_SET',
      'ENV_NOT_SET',
    ]);
  });

  it('12-codegen-api: the Go dialect, `middleware name type {}` declarations, nested links', () => {
    const result = load('12-codegen-api__app.cai');
    expect(result.ok).toBe(true);
    const plan = result.plan!;
    expect(plan.backend).toEqual({ type: 'memory', defaultTtlMs: 300_000 });
    expect(plan.endpoints).toHaveLength(16);
    expect(plan.endpoints.find((e) => e.id === 'GET /api/users/:id')).toMatchObject({
      params: ['id'],
      middleware: ['auth_required'],
      cached: false,
      line: 93,
      column: 1,
    });
    expect(links(plan, 'DELETE /api/posts/:id')).toEqual([
      'ancestor GET /api/posts',
      'descendant GET /api/posts/:postId/comments',
      'same-path GET /api/posts/:id',
    ]);
    expect(links(plan, 'DELETE /api/posts/:postId/comments/:id')).toEqual([
      'ancestor GET /api/posts',
      'ancestor GET /api/posts/:id',
      'ancestor GET /api/posts/:postId/comments',
    ]);
    expect(links(plan, 'POST /api/users')).toEqual(['same-path GET /api/users']);
  });

  it('strict mode refuses the documentation dialect and accepts the Go dialect', () => {
    const blog = loadCodeAI(readFileSync(join(examplesDir!, '02-blog-api__blog-api.cai'), 'utf8'), {
      strict: true,
      env: {},
    });
    expect(blog.ok).toBe(false);
    expect(new Set(blog.diagnostics.map((d) => d.code))).toEqual(new Set(['PLANNED_SYNTAX']));
    expect(blog.diagnostics[0]).toMatchObject({ line: 19, column: 15 }); // database: postgres { … }
    const codegen = loadCodeAI(
      readFileSync(join(examplesDir!, '12-codegen-api__app.cai'), 'utf8'),
      {
        strict: true,
        env: {},
      },
    );
    expect(codegen.ok).toBe(true);
  });
});
