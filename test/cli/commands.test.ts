/**
 * `codeai-cache demo`, `bench`, and what every command shares: `--help`, usage errors
 * (exit 2, naming the flag), failures as one line unless `--verbose`. Subprocesses, as a
 * user runs them.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BENCH_SUITES } from '../../src/cli/bench-suites.js';
import { findFreePort } from '../harness/tools.js';
import { cli, root } from './run-cli.js';

describe('codeai-cache demo --once', () => {
  it('runs the origin, the proxy and the load, shows a write invalidating a read, and reaches the summary', async () => {
    const r = await cli(['demo', '--once', '--port', '0']);
    expect(r.stderr).not.toMatch(/Error|at .*\(/);
    expect(r.code).toBe(0);
    const out = r.stdout;
    // Not a terminal: progress as plain lines, no bar redrawn with \r.
    expect(out).not.toContain('\r');
    expect(out).toContain('  240/240 requests\n');
    expect(out).toMatch(/ {2}1200\/1200 requests, [\d.]+ % from the cache\n/);
    // The write: the cached read, the PUT, then a MISS that sees the new title, then a HIT.
    expect(out).toMatch(
      /GET {2}\/api\/posts\/3 {2}200 HIT .*\n.*PUT .*\n.*GET {2}\/api\/posts\/3 {2}200 MISS .*"Edited at [\d:]+" {2}\(the PUT dropped the cached copy\)\n.*200 HIT /,
    );
    // The summary, with figures that agree with each other.
    const hits = /hit ratio +([\d.]+) %: (\d+) of (\d+) requests answered from the cache/.exec(out);
    const saved = /origin calls saved +(\d+): the origin answered (\d+) of the (\d+) requests/.exec(
      out,
    );
    expect(hits).not.toBeNull();
    expect(saved).not.toBeNull();
    const [answered, total] = [Number(saved![2]), Number(saved![3])];
    expect(total).toBe(1200);
    expect(Number(saved![1])).toBe(total - answered);
    // A cache in front of a blog's reads answers most of them: the origin saw far fewer.
    expect(answered).toBeLessThan(total / 2);
    expect(Number(hits![1])).toBeGreaterThan(50);
    expect(out).toMatch(/origin alone +[\d.]+ ms +[\d.]+ ms\n/);
    expect(out).toMatch(/through the cache +[\d.]+ ms +[\d.]+ ms\n/);
    expect(out).toMatch(/curl -i http:\/\/127\.0\.0\.1:\d+\/api\/posts\/1 /);
  }, 60_000);

  it('without --once it keeps serving what the curl lines say until SIGINT, then exits 0', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'demo', '--port', '0'],
      {
        cwd: root,
        env: { PATH: process.env.PATH ?? '' },
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    try {
      await expect
        .poll(() => stdout, { timeout: 45_000, interval: 100 })
        .toContain('Ctrl-C stops it');
      const base = /proxy {3}(http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)![1]!;
      // Read twice through the proxy the demo left running: the second read is a HIT.
      const first = await fetch(`${base}/api/authors/8`);
      await first.text();
      const second = await fetch(`${base}/api/authors/8`);
      expect(await second.json()).toMatchObject({ id: 8, name: 'Author 8' });
      expect(second.headers.get('x-cache')).toBe('HIT');
      expect((await fetch(`${base}/__cache/health`)).status).toBe(200);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  }, 60_000);

  it('a taken --port is a failure in one line, exit 1', async () => {
    const { createServer } = await import('node:net');
    const port = await findFreePort();
    const holder = createServer().listen(port, '127.0.0.1');
    await new Promise((r) => holder.once('listening', r));
    try {
      const r = await cli(['demo', '--once', '--port', String(port)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`codeai-cache: cannot listen on 127.0.0.1:${port}: EADDRINUSE\n`);
    } finally {
      holder.close();
    }
  }, 30_000);
});

describe("the README's first command", () => {
  it('npm run demo, in a fresh copy of the committed tree, reaches the summary in under a minute', async () => {
    // What a clone holds: the committed files and nothing built (node_modules is `npm ci`'s,
    // shared here rather than installed again). A file the demo needs but git lacks fails.
    const copy = mkdtempSync(join(tmpdir(), 'codeai-clone-'));
    try {
      execFileSync('sh', ['-c', `git -C "${root}" archive HEAD | tar -x -C "${copy}"`]);
      symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
      const started = performance.now();
      const r = await new Promise<{ code: number | null; stdout: string }>((done, fail) => {
        const child = spawn('npm', ['run', '--silent', 'demo'], {
          cwd: copy,
          env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? copy },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let stdout = '';
        child.stdout.on('data', (d) => {
          stdout += d;
        });
        child.on('error', fail);
        child.on('close', (code) => done({ code, stdout }));
      });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`${copy}/examples/blog.cai`);
      expect(r.stdout).toMatch(/\nSummary\n {2}hit ratio/);
      expect(performance.now() - started).toBeLessThan(60_000);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }, 90_000);
});

describe('codeai-cache bench', () => {
  it('runs bench/run.ts from the checkout: an unknown suite is its usage error, exit 2', async () => {
    const r = await cli(['bench', 'nosuch']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`unknown suite(s): nosuch (known: ${BENCH_SUITES.join(', ')})`);
  }, 30_000);

  // bench/run.ts's table is typed by BENCH_SUITES, so the list is the runner's.
  it('names every suite the runner registers in its usage', async () => {
    const r = await cli(['bench', '--help']);
    expect(r.stdout).toContain(`[${BENCH_SUITES.join('|')} ...]`);
  });
});

const COMMANDS = ['plan', 'serve', 'demo', 'stats', 'keys', 'get', 'del', 'flush', 'bench'];

describe('every command', () => {
  it.each(COMMANDS)('%s --help prints its usage on stdout, exit 0', async (name) => {
    const r = await cli([name, '--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(
      name === 'plan'
        ? /^Usage: codeai-cache <command>/
        : new RegExp(`^Usage: codeai-cache ${name}`),
    );
  });

  it('the command list names every command; "help <command>" is "<command> --help"', async () => {
    const list = await cli(['--help']);
    for (const name of COMMANDS) expect(list.stdout).toMatch(new RegExp(`^ {2}${name} `, 'm'));
    const help = await cli(['help', 'flush']);
    expect(help.stdout).toBe((await cli(['flush', '--help'])).stdout);
  });

  it.each([
    [['demo', '--bogus'], 'unknown option --bogus for demo', 'demo'],
    [['demo', '--port'], '--port needs a value', 'demo'],
    [
      ['demo', '--port', 'eighty'],
      '--port must be a port number (0 picks a free one), got "eighty"',
      'demo',
    ],
    [['demo', 'extra'], 'demo takes no arguments, got "extra"', 'demo'],
    [['stats', '-x'], 'unknown option -x for stats', 'stats'],
    [['stats'], 'no cache to inspect: pass --cache redis://host:6379 or set CACHE_URL', 'stats'],
    [['keys', '--cache'], '--cache needs a value', 'keys'],
    [
      ['keys', 'a*', 'b*', '--cache', 'redis://127.0.0.1:1'],
      "keys takes one pattern, got 2 (quote it: 'user:*')",
      'keys',
    ],
    [['get', '--cache', 'redis://127.0.0.1:1'], 'get needs a key: codeai-cache get KEY', 'get'],
    [
      ['del', '--cache', 'redis://127.0.0.1:1'],
      'del needs at least one key: codeai-cache del KEY',
      'del',
    ],
    [['flush', '--pattern'], '--pattern needs a value', 'flush'],
    [
      ['flush', '--cache', 'redis://127.0.0.1:1'],
      'flush deletes data: pass --yes to confirm when not on a terminal',
      'flush',
    ],
    [
      ['get', 'k', '--cache', 'http://cache:6379'],
      'unsupported cache URL scheme "http:" (use memory://, redis://, rediss://, tiered+redis:// or tiered+rediss://)',
      'get',
    ],
    [['bench', '--fast'], 'unknown option --fast for bench', 'bench'],
  ])(
    'usage error %j: exit 2, one line naming it, and where the help is',
    async (args, message, name) => {
      const r = await cli(args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `codeai-cache: ${message}\nRun "codeai-cache ${name} --help" for usage.\n`,
      );
    },
  );

  it('a failure is one line; --verbose adds the stack and its cause', async () => {
    const port = await findFreePort();
    const url = `redis://127.0.0.1:${port}`;
    const r = await cli(['stats', '--cache', url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^codeai-cache: cannot use ${url}: .*ECONNREFUSED.*\\n$`));
    const verbose = await cli(['stats', '--cache', url, '--verbose']);
    expect(verbose.code).toBe(1);
    expect(verbose.stderr.split('\n')[0]).toBe(r.stderr.trimEnd());
    expect(verbose.stderr).toMatch(/\n {4}at .*\ncaused by: CacheError/);
  });
});
