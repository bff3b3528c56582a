/**
 * `codeai-cache plan` as a user runs it: a subprocess (through tsx, from src — no build),
 * its stdout, stderr and exit status.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatMs, maskUrl } from '../../src/cli/plan-table.js';
import { cli, root } from './run-cli.js';

const fixture = join(root, 'test/codeai/fixtures/bookshop.cai');
const work = mkdtempSync(join(tmpdir(), 'codeai-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function specFile(name: string, text: string): string {
  const file = join(work, name);
  writeFileSync(file, text);
  return file;
}

describe('codeai-cache plan', () => {
  it('prints the plan as JSON when stdout is not a terminal, warnings on stderr, exit 0', async () => {
    const r = await cli(['plan', fixture], {
      BOOKSHOP_REDIS_URL: 'redis://:s3cret@10.1.2.3:6390/2',
    });
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.backend).toEqual({
      type: 'redis',
      url: 'redis://:***@10.1.2.3:6390/2',
      prefix: 'shop',
      defaultTtlMs: 600_000,
    });
    expect(
      plan.endpoints.find((e: { id: string }) => e.id === 'GET /api/v1/authors/:authorId/books'),
    ).toMatchObject({
      cached: true,
      ttlMs: 3_600_000,
    });
    expect(r.stderr).toContain(`${fixture}:53:1: warning AUTH_WITHOUT_VARY`);
    expect(r.stderr).not.toContain('s3cret');
  });

  it('--table prints endpoints, policies and invalidation links', async () => {
    const r = await cli(['plan', '--table', fixture]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^backend\s+redis/);
    expect(r.stdout).toMatch(
      /GET\s+\/api\/v1\/me\/orders\s+5m\s+authorization, accept-language\s+middleware per_user/,
    );
    expect(r.stdout).toMatch(
      /DELETE \/api\/v1\/authors\/:id\s+->\s+GET \/api\/v1\/authors\/:authorId\/books\s+descendant/,
    );
    expect(r.stdout).toMatch(/Catalogue\.get_book\s+GET\s+\/books\/\{isbn\}\s+10m\s+cache/);
  });

  it('--cache overrides where the cache lives; the spec prefix and TTLs stay', async () => {
    const r = await cli(['plan', '--json', '--cache', 'memory://', fixture]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).backend).toEqual({
      type: 'memory',
      prefix: 'shop',
      defaultTtlMs: 600_000,
    });
  });

  it('a spec with errors: every diagnostic with its caret on stderr, nothing on stdout, exit 1', async () => {
    const file = specFile(
      'broken.cai',
      'endpoint GET "/a" {\n    middleware nope\n}\n@cache("soon")\nendpoint GET "/b" {}\n',
    );
    const r = await cli(['plan', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      `${file}:2:16: error UNKNOWN_MIDDLEWARE middleware "nope" is not declared\n2 |     middleware nope\n  |                ^\n`,
    );
    expect(r.stderr).toContain(`${file}:4:8: error INVALID_TTL`);
    expect(r.stderr).toContain('2 errors; the spec was not loaded');
  });

  it('--strict refuses documentation-only forms', async () => {
    const file = specFile('doc.cai', 'endpoint GET "/posts" {\n    cache: 5m\n}\n');
    expect((await cli(['plan', file])).code).toBe(0);
    const r = await cli(['plan', '--strict', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:2:5: error PLANNED_SYNTAX`);
  });

  it('an unreadable file is an error (exit 1), not a usage error', async () => {
    const r = await cli(['plan', join(work, 'missing.cai')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot read');
    expect(r.stderr).toContain('ENOENT');
  });

  it.each([
    [['plan', '--jsn', 'x.cai'], /--jsn/],
    [['plan', 'x.cai', '--cache'], /--cache/],
    [['plan'], /needs a spec file/],
    [['plan', 'a.cai', 'b.cai'], /one spec file/],
    [['plan', '--json', '--table', 'x.cai'], /--json and --table/],
    [['plan', '--cache', 'http://x', 'x.cai'], /--cache must be/],
    [['nosuch'], /unknown command "nosuch"/],
    [[], /Usage: codeai-cache/],
  ])('usage error %j: exit 2 and says what is wrong', async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });

  it('--help prints usage on stdout, exit 0', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('plan <app.cai>');
    expect((await cli(['plan', '--help'])).stdout).toContain('--strict');
  });
});

describe('plan table helpers', () => {
  it('formats TTLs in the largest exact unit', () => {
    expect([formatMs(300_000), formatMs(90_000), formatMs(86_400_000), formatMs(1500)]).toEqual([
      '5m',
      '90s',
      '1d',
      '1500ms',
    ]);
  });

  it('masks a URL password', () => {
    expect(maskUrl('redis://user:pw@h:6379/0')).toBe('redis://user:***@h:6379/0');
    expect(maskUrl('redis://h:6379')).toBe('redis://h:6379');
  });
});
