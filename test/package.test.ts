/**
 * The smoke test of what users install: build, `npm pack`, install the tarball into an
 * empty project, import it by name and run it, as a consumer would; then compile a
 * TypeScript consumer against the published `.d.ts` with `tsc` (strict, no skipLibCheck),
 * so a type that does not resolve or does not say what the code does fails here. Every
 * other test imports src/.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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

    // The consumer's own dependencies, taken from this repository's install (offline): the
    // frameworks whose adapters it uses, and Node's types.
    mkdirSync(join(app, 'node_modules', '@types'), { recursive: true });
    for (const dep of ['fastify', 'hono', '@types/node']) {
      symlinkSync(join(root, 'node_modules', dep), join(app, 'node_modules', dep), 'dir');
    }
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(CONSUMER_TSCONFIG));
    writeFileSync(join(app, 'consumer.ts'), CONSUMER_TS);
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    let compiled: string;
    try {
      compiled = run('node', [tsc, '-p', 'tsconfig.json'], app);
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      throw new Error(`the consumer does not compile:\n${stdout ?? ''}${stderr ?? ''}`);
    }
    expect(compiled).toBe('');

    // The installed `codeai-cache` bin runs from dist and prints a plan.
    writeFileSync(join(app, 'app.cai'), 'endpoint GET "/posts" { cache: 5m }\n');
    const plan = JSON.parse(
      run(join(app, 'node_modules/.bin/codeai-cache'), ['plan', 'app.cai'], app),
    );
    expect(plan.endpoints[0]).toMatchObject({ id: 'GET /posts', cached: true, ttlMs: 300_000 });

    // The demo runs from the installed package: its spec ships (package.json `files`).
    const bin = join(app, 'node_modules/.bin/codeai-cache');
    const demo = run(bin, ['demo', '--once', '--port', '0'], app);
    expect(demo).toContain('node_modules/codeai-cache/examples/blog.cai');
    expect(demo).toMatch(/origin calls saved\s+\d+/);
    // The benchmarks do not ship: the command says where they are, in one line, exit 1.
    const bench = spawnSync(bin, ['bench'], { cwd: app, encoding: 'utf8' });
    expect(bench.status).toBe(1);
    expect(bench.stderr).toBe(
      'codeai-cache: the benchmark suite ships with the source repository, not the npm package: clone it, run "npm ci", then "npm run bench" there\n',
    );
  }, 180_000);
});

const CONSUMER_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    types: ['node'],
  },
  files: ['consumer.ts'],
};

/** A small app using the main public types; each `@ts-expect-error` must still be an error. */
const CONSUMER_TS = `
import {
  type Cache,
  CacheError,
  type CachePolicy,
  CachingMiddleware,
  createCache,
  type Duration,
  type Jsonified,
  MemoryCache,
  RedisCache,
} from 'codeai-cache';
import { fastifyCache } from 'codeai-cache/fastify';
import { cachingFetch, honoCache } from 'codeai-cache/hono';
import Fastify from 'fastify';
import { Hono } from 'hono';

const cache: Cache = createCache('memory://?maxMemory=1mb');
const memory = new MemoryCache({ maxMemory: '8mb', defaultTTL: '5m' });
const redis = new RedisCache({ url: 'redis://127.0.0.1:6379', commandTimeout: '250ms' });
void [memory, redis];

const ttl: Duration = '5m';
await cache.set('k', 'v', ttl);
await cache.set('k', 'v', 1_500);
// @ts-expect-error '5 minutes' is not a duration
await cache.set('k', 'v', '5 minutes');

const user = await cache.getOrSet('user:1', async () => ({ id: 1, seen: new Date() }), {
  ttl: '1h',
  grace: '10s',
  tags: ['users'],
});
const seen: string = user.seen;
// @ts-expect-error a Date in the factory comes back as its ISO string
const asDate: Date = user.seen;
const read: Jsonified<{ at: Date }> | undefined = await cache.getJSON<{ at: Date }>('at');
const at: string | undefined = read?.at;
void [seen, asDate, at];

try {
  await cache.set('', 'x');
} catch (error) {
  if (error instanceof CacheError) console.log(error.code);
}

const policy: CachePolicy = { ttl: '1m', tags: ['products'] };
const middleware = new CachingMiddleware(cache);
const fastify = Fastify();
await fastify.register(fastifyCache(middleware, policy));
fastify.get('/x', { config: { cache: { ttl: '30s' } } }, async () => 'x');
const hono = new Hono();
hono.use('*', honoCache(middleware, policy));
const handler = cachingFetch(middleware, policy, () => new Response('ok'));
void handler;
`;
