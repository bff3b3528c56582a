/**
 * The smoke test of what users install: build, `npm pack`, install the tarball into an
 * empty project and import it by name, as a consumer would. Every other test imports src/.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'codeai-cache-pack-'));
const run = (cmd: string, args: string[], cwd: string): string =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the packed package', () => {
  it('installs from its tarball and works through `import … from "codeai-cache"`', () => {
    run('npm', ['run', 'build'], root);
    run('npm', ['pack', '--pack-destination', work, '--silent'], root);
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    expect(tarball).toBeDefined();
    const app = join(work, 'app');
    run('mkdir', ['-p', app], work);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'app', type: 'module', private: true }),
    );
    run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--omit=optional', join(work, tarball!)],
      app,
    );
    writeFileSync(
      join(app, 'main.mjs'),
      `import { createCache, CacheError, parseDuration, escapeGlob } from 'codeai-cache';
const cache = createCache('memory://?maxMemory=1mb');
await cache.start();
await cache.set('k', 'v', '1m');
const v = (await cache.get('k')).toString();
let code;
try { await cache.set('', 'x'); } catch (e) { code = e instanceof CacheError && e.code; }
await cache.stop();
const { CachingMiddleware } = await import('codeai-cache');
const { fastifyCache } = await import('codeai-cache/fastify');
const { honoCache, cachingFetch } = await import('codeai-cache/hono');
const subpaths = [typeof CachingMiddleware, typeof fastifyCache, typeof honoCache, typeof cachingFetch];
console.log(JSON.stringify({ v, code, d: parseDuration('5m'), g: escapeGlob('a*'), subpaths }));
`,
    );
    const out = JSON.parse(run('node', ['main.mjs'], app));
    expect(out).toEqual({
      v: 'v',
      code: 'INVALID_ARGUMENT',
      d: 300_000,
      g: 'a\\*',
      // The adapters load without their frameworks installed (optional peers).
      subpaths: ['function', 'function', 'function', 'function'],
    });
    const types = run(
      'node',
      ['-e', "console.log(require.resolve('codeai-cache/package.json'))"],
      app,
    );
    expect(types).toContain('codeai-cache');
    // The installed `codeai-cache` bin runs from dist and prints a plan.
    writeFileSync(join(app, 'app.cai'), 'endpoint GET "/posts" { cache: 5m }\n');
    const plan = JSON.parse(
      run(join(app, 'node_modules/.bin/codeai-cache'), ['plan', 'app.cai'], app),
    );
    expect(plan.endpoints[0]).toMatchObject({ id: 'GET /posts', cached: true, ttlMs: 300_000 });
  }, 180_000);
});
