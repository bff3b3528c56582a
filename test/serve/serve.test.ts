/**
 * `codeai-cache serve` on the embedded memory cache, as a subprocess in front of an origin
 * written for the tests: what it forwards untouched, what it caches, how it fails, its
 * admin routes and its signals.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNKEYED_RISKY_HEADERS } from '../../src/index.js';
import { runServe, type ServeProcess, send, startServe, TestOrigin, until } from './util.js';

const work = mkdtempSync(join(tmpdir(), 'codeai-serve-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('serve without a spec (the origin headers decide)', () => {
  const origin = new TestOrigin();
  let proxy: ServeProcess;
  let released: (() => void) | undefined;

  beforeAll(async () => {
    origin
      .on('GET /fresh', (_req, res) => {
        res.writeHead(200, 'Fresh Enough', [
          ['Cache-Control', 'max-age=60'],
          ['X-Multi', 'one'],
          ['X-Multi', 'two'],
          ['Connection', 'x-secret'],
          ['X-Secret', 'hop'],
          ['Keep-Alive', 'timeout=9'],
        ]);
        res.end(`fresh ${origin.count('GET /fresh')}`);
      })
      .on('GET /plain', (_req, res) => res.end(`plain ${origin.count('GET /plain')}`))
      .on('GET /cdn', (_req, res) => {
        // RFC 9213: the field targeted at this cache replaces Cache-Control here.
        res.writeHead(200, { 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=60' });
        res.end(`cdn ${origin.count('GET /cdn')}`);
      })
      .on('* /echo', (req, res) => {
        let n = 0;
        req.on('data', (c: Buffer) => {
          n += c.length;
        });
        req.on('end', () => {
          res.writeHead(201, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ method: req.method, bytes: n, headers: req.headers }));
        });
      })
      .on('GET /hints', (_req, res) => {
        res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
        res.writeHead(200, { 'cache-control': 'max-age=60' });
        res.end('with hints');
      })
      .on('GET /trailers', (_req, res) => {
        res.writeHead(200, { trailer: 'x-checksum', 'content-type': 'text/plain' });
        res.write('part one, ');
        res.addTrailers({ 'x-checksum': 'abc123' });
        res.end('part two');
      })
      .on('GET /trailers-fresh', (_req, res) => {
        res.writeHead(200, {
          trailer: 'x-checksum',
          'content-type': 'text/plain',
          'cache-control': 'max-age=60',
        });
        res.write('part one, ');
        res.addTrailers({ 'x-checksum': `sum ${origin.count('GET /trailers-fresh')}` });
        res.end('part two');
      })
      .on('GET /trailers-undeclared', (_req, res) => {
        // Trailers without a `Trailer` field announcing them (RFC 9110 §6.6.2 says SHOULD).
        res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60' });
        res.write('part one, ');
        res.addTrailers({ 'x-checksum': `sum ${origin.count('GET /trailers-undeclared')}` });
        res.end('part two');
      })
      .on('GET /short', (_req, res) => {
        // Promises 100 bytes, sends 10, then hangs up.
        res.writeHead(200, { 'content-length': '100', 'cache-control': 'max-age=60' });
        res.write('0123456789');
        setTimeout(() => res.socket?.destroy(), 20);
      })
      .on('GET /reset', (_req, res) => {
        res.writeHead(200, { 'cache-control': 'max-age=60' });
        res.write('a first chunk');
        setTimeout(() => res.socket?.destroy(), 20);
      })
      .on('GET /slow', (_req, res) => {
        released = () => res.end('finally');
      });
    const upstream = await origin.listen();
    proxy = await startServe(['--upstream', upstream, '--port', '0', '--upstream-timeout', '20s']);
  });
  afterAll(async () => {
    await proxy?.stop();
    await origin.close();
  });

  it('prints where the cache lives, then where it listens', () => {
    expect(proxy.stdout()).toMatch(/^cache: memory \(embedded in this process\)\n/);
    expect(proxy.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('passes status, reason and repeated fields, drops hop-by-hop fields and adds Via', async () => {
    const r = await send(`${proxy.url}/fresh`);
    expect(r.status).toBe(200);
    expect(r.reason).toBe('Fresh Enough');
    const multi = r.rawHeaders.filter(
      (_, i, a) => i % 2 === 1 && a[i - 1]!.toLowerCase() === 'x-multi',
    );
    expect(multi).toEqual(['one', 'two']);
    expect(r.headers['x-secret']).toBeUndefined();
    expect(r.headers['keep-alive']).not.toBe('timeout=9');
    expect(r.headers.via).toBe('1.1 codeai-cache');
  });

  it('stores what the origin marks fresh and serves it as a HIT', async () => {
    const first = await send(`${proxy.url}/fresh?v=2`);
    const second = await send(`${proxy.url}/fresh?v=2`);
    expect(first.headers['x-cache']).toBe('MISS');
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.body).toBe(first.body);
  });

  it('does not store what the origin gives no freshness', async () => {
    const before = origin.count('GET /plain');
    await send(`${proxy.url}/plain`);
    const second = await send(`${proxy.url}/plain`);
    expect(origin.count('GET /plain')).toBe(before + 2);
    expect(second.headers['x-cache']).toBe('MISS');
  });

  it('obeys CDN-Cache-Control over Cache-Control, and forwards both unchanged (RFC 9213)', async () => {
    expect((await send(`${proxy.url}/cdn`)).headers['x-cache']).toBe('MISS');
    const hit = await send(`${proxy.url}/cdn`);
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.body).toBe('cdn 1');
    expect(hit.headers['cache-control']).toBe('no-store');
    expect(hit.headers['cdn-cache-control']).toBe('max-age=60');
  });

  it('regression: sequential requests over one pooled upstream socket pile up no listeners', async () => {
    for (let i = 0; i < 20; i++) expect((await send(`${proxy.url}/plain`)).status).toBe(200);
    expect(proxy.stderr()).not.toMatch(/MaxListenersExceededWarning/);
  });

  it('forwards every method with its body and sets X-Forwarded-* from the connection, not the client', async () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      const r = await send(`${proxy.url}/echo`, {
        method,
        headers: {
          'x-forwarded-for': '6.6.6.6',
          'x-forwarded-host': 'evil.example',
          'content-type': 'text/plain',
        },
        body: 'x'.repeat(5000),
      });
      expect(r.status).toBe(201);
      const seen = JSON.parse(r.body) as {
        method: string;
        bytes: number;
        headers: Record<string, string>;
      };
      expect(seen.method).toBe(method);
      expect(seen.bytes).toBe(5000);
      expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
      expect(seen.headers['x-forwarded-host']).toBe(new URL(proxy.url).host);
      expect(seen.headers['x-forwarded-proto']).toBe('http');
      expect(seen.headers.via).toBe('1.1 codeai-cache');
    }
  });

  it('passes 100 Continue from the origin before the body is sent', async () => {
    const r = await send(`${proxy.url}/echo`, {
      method: 'POST',
      headers: { expect: '100-continue' },
      body: 'after continue',
    });
    expect(r.interim.map((i) => i.status)).toEqual([100]);
    expect(JSON.parse(r.body).bytes).toBe('after continue'.length);
  });

  it('passes 103 Early Hints and never replays them from the cache', async () => {
    const first = await send(`${proxy.url}/hints`);
    expect(first.interim).toEqual([
      { status: 103, rawHeaders: ['Link', '</style.css>; rel=preload; as=style'] },
    ]);
    const second = await send(`${proxy.url}/hints`);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.interim).toEqual([]);
    expect(second.body).toBe('with hints');
  });

  it('passes trailers', async () => {
    const r = await send(`${proxy.url}/trailers`);
    expect(r.body).toBe('part one, part two');
    expect(r.trailers).toEqual(['x-checksum', 'abc123']);
  });

  it("never stores a response with trailers: each client gets the origin's own trailers (RFC 9110 §6.5, RFC 9111 §3.1)", async () => {
    for (const path of ['/trailers-fresh', '/trailers-undeclared']) {
      const before = origin.count(`GET ${path}`);
      for (const n of [1, 2]) {
        const r = await send(`${proxy.url}${path}`);
        expect(r.headers['x-cache']).toBe('MISS');
        expect(r.body).toBe('part one, part two');
        expect(r.trailers).toEqual(['x-checksum', `sum ${before + n}`]);
        if (path === '/trailers-fresh') expect(r.headers.trailer).toBe('x-checksum');
      }
      expect(origin.count(`GET ${path}`)).toBe(before + 2);
    }
  });

  it('regression: a body shorter than its Content-Length, or reset, is cut for the client, never stored, and the proxy lives on', async () => {
    for (const path of ['/short', '/reset']) {
      const before = origin.count(`GET ${path}`);
      await expect(send(`${proxy.url}${path}`)).rejects.toThrow();
      await expect(send(`${proxy.url}${path}`)).rejects.toThrow();
      expect(origin.count(`GET ${path}`)).toBe(before + 2);
    }
    expect((await send(`${proxy.url}/__cache/health`)).status).toBe(200);
  });

  it('admin routes answer loopback clients: health, metrics, invalidate by path and by tag', async () => {
    const health = await send(`${proxy.url}/__cache/health`);
    const h = JSON.parse(health.body) as { backend: string; status: string; uptime: number };
    expect(h).toMatchObject({ backend: 'memory', status: 'healthy' });
    expect(typeof h.uptime).toBe('number');

    await send(`${proxy.url}/fresh?inv=1`);
    expect((await send(`${proxy.url}/fresh?inv=1`)).headers['x-cache']).toBe('HIT');
    const inv = await send(`${proxy.url}/__cache/invalidate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path: '/fresh' }),
    });
    expect(inv.status).toBe(200);
    expect((await send(`${proxy.url}/fresh?inv=1`)).headers['x-cache']).toBe('MISS');

    const bad = await send(`${proxy.url}/__cache/invalidate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'nope',
    });
    expect(bad.status).toBe(400);
    const tags = await send(`${proxy.url}/__cache/invalidate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tags: ['products'] }),
    });
    expect(JSON.parse(tags.body)).toEqual({ invalidated: ['products'] });

    const metrics = await send(`${proxy.url}/__cache/metrics`);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    expect(metrics.body).toMatch(/codeai_cache_requests_total\{outcome="HIT"\} [1-9]/);
    expect(metrics.body).toMatch(/codeai_cache_requests_total\{outcome="MISS"\} [1-9]/);
    expect(metrics.body).toMatch(
      /codeai_cache_origin_duration_seconds_count\{status="200"\} [1-9]/,
    );
    expect(metrics.body).toMatch(/codeai_cache_request_duration_seconds_count [1-9]/);
    expect(metrics.body).toMatch(/codeai_cache_invalidations [1-9]/);
    expect(metrics.body).toMatch(/codeai_cache_stored_entries [1-9]/);
    expect(metrics.body).toMatch(/codeai_cache_stored_bytes [1-9]/);
    expect(metrics.body).toMatch(/codeai_cache_errors 0/);
  });

  it('SIGTERM: stops accepting, lets the request in flight finish, exits 0', async () => {
    const inFlight = send(`${proxy.url}/slow`);
    await until('the origin to see the slow request', () => released !== undefined);
    proxy.child.kill('SIGTERM');
    const { port } = new URL(proxy.url);
    await until(
      'the proxy to stop accepting',
      () =>
        new Promise<boolean>((ok) => {
          const s = connect(Number(port), '127.0.0.1');
          s.on('connect', () => {
            s.destroy();
            ok(false);
          });
          s.on('error', () => ok(true));
        }),
    );
    released!();
    const r = await inFlight;
    expect(r.status).toBe(200);
    expect(r.body).toBe('finally');
    expect(await proxy.exited).toBe(0);
  });
});

describe('serve --trust-proxy', () => {
  it("keeps a trusted hop's X-Forwarded-* and appends the peer; SIGINT exits 0", async () => {
    const origin = new TestOrigin().on('GET /echo', (req, res) =>
      res.end(JSON.stringify(req.headers)),
    );
    const proxy = await startServe([
      '--upstream',
      await origin.listen(),
      '--port',
      '0',
      '--trust-proxy',
    ]);
    try {
      const r = await send(`${proxy.url}/echo`, {
        headers: {
          'x-forwarded-for': '203.0.113.7',
          'x-forwarded-host': 'shop.example',
          'x-forwarded-proto': 'https',
        },
      });
      const seen = JSON.parse(r.body) as Record<string, string>;
      expect(seen['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
      expect(seen['x-forwarded-host']).toBe('shop.example');
      expect(seen['x-forwarded-proto']).toBe('https');
    } finally {
      proxy.child.kill('SIGINT');
      expect(await proxy.exited).toBe(0);
      expect(proxy.stderr()).toMatch(/SIGINT: finishing in-flight requests/);
      await origin.close();
    }
  });
});

describe('serve --trust-proxy --ignore-header', () => {
  it('shares one entry between clients whose X-Forwarded-For differs only when told to', async () => {
    const origin = new TestOrigin().on('GET /page', (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=60' });
      res.end('the same page for everyone');
    });
    const upstream = await origin.listen();
    const keyed = await startServe(['--upstream', upstream, '--port', '0', '--trust-proxy']);
    const shared = await startServe([
      '--upstream',
      upstream,
      '--port',
      '0',
      '--trust-proxy',
      '--ignore-header',
      'X-Forwarded-For',
    ]);
    try {
      for (const [proxy, second] of [
        [keyed, 'MISS'],
        [shared, 'HIT'],
      ] as const) {
        const a = await send(`${proxy.url}/page`, {
          headers: { 'x-forwarded-for': '203.0.113.7' },
        });
        const b = await send(`${proxy.url}/page`, {
          headers: { 'x-forwarded-for': '198.51.100.9' },
        });
        expect(a.headers['x-cache']).toBe('MISS');
        // Keyed by default: a client's forged address reaches only its own entry.
        expect(b.headers['x-cache']).toBe(second);
        expect(b.body).toBe('the same page for everyone');
      }
    } finally {
      keyed.child.kill('SIGINT');
      shared.child.kill('SIGINT');
      await Promise.all([keyed.exited, shared.exited]);
      await origin.close();
    }
  });
});

describe('serve when the origin fails', () => {
  it('answers 502 when the origin is down and 504 when it is too slow, with a short body', async () => {
    const origin = new TestOrigin().on('GET /hang', () => {});
    const upstream = await origin.listen();
    const proxy = await startServe([
      '--upstream',
      upstream,
      '--port',
      '0',
      '--upstream-timeout',
      '300ms',
    ]);
    try {
      const slow = await send(`${proxy.url}/hang`);
      expect(slow.status).toBe(504);
      expect(slow.body).toMatch(/did not answer in time/);
      await origin.close();
      const down = await send(`${proxy.url}/anything`);
      expect(down.status).toBe(502);
      expect(down.body).toMatch(/^upstream unreachable: ECONNREFUSED/);
    } finally {
      expect(await proxy.stop()).toBe(0);
    }
  });

  it('serves a stale entry instead of a 502 where stale-if-error allows', async () => {
    const origin = new TestOrigin().on('GET /page', (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=1, stale-if-error=600' });
      res.end('the stored page');
    });
    const upstream = await origin.listen();
    const proxy = await startServe(['--upstream', upstream, '--port', '0']);
    try {
      expect((await send(`${proxy.url}/page`)).headers['x-cache']).toBe('MISS');
      await origin.close();
      // Once the entry is older than max-age, the origin's failure is answered with it.
      let last = await send(`${proxy.url}/page`);
      await until('the entry to go stale', async () => {
        last = await send(`${proxy.url}/page`);
        return last.headers['x-cache'] === 'STALE';
      });
      expect(last.status).toBe(200);
      expect(last.body).toBe('the stored page');
    } finally {
      await proxy.stop();
    }
  });
});

describe('serve with a spec', () => {
  it("caches the spec's endpoints by its policy, forwards every other path, and reloads on SIGHUP", async () => {
    const origin = new TestOrigin()
      .on('GET /api/posts', (_req, res) => res.end(`posts ${origin.count('GET /api/posts')}`))
      .on('POST /api/posts', (_req, res) => {
        res.statusCode = 201;
        res.end('created');
      })
      .on('GET /api/other', (_req, res) => {
        res.setHeader('cache-control', 'max-age=60');
        res.end('other');
      });
    const upstream = await origin.listen();
    const spec = join(work, 'blog.cai');
    const text = `config { api_prefix: "/api" cache_ttl: "1m" }
endpoint GET "/posts" { cache: 30s }
endpoint POST "/posts" {}
`;
    writeFileSync(spec, text);
    const proxy = await startServe(['--upstream', upstream, '--port', '0', '--spec', spec]);
    try {
      expect((await send(`${proxy.url}/api/posts`)).headers['x-cache']).toBe('MISS');
      const hit = await send(`${proxy.url}/api/posts`);
      expect(hit.headers['x-cache']).toBe('HIT');
      expect(hit.body).toBe('posts 1');
      // Not in the spec: forwarded every time, whatever the origin says.
      await send(`${proxy.url}/api/other`);
      await send(`${proxy.url}/api/other`);
      expect(origin.count('GET /api/other')).toBe(2);
      // A write the spec knows invalidates the list.
      expect((await send(`${proxy.url}/api/posts`, { method: 'POST', body: '{}' })).status).toBe(
        201,
      );
      expect((await send(`${proxy.url}/api/posts`)).body).toBe('posts 2');

      writeFileSync(spec, 'endpoint GET "/posts" { cache: }}}');
      proxy.child.kill('SIGHUP');
      await until('the failed reload to be logged', () =>
        /reload failed, keeping the previous spec/.test(proxy.stderr()),
      );
      // Why, with the place in the file.
      expect(proxy.stderr()).toMatch(/blog\.cai:1:\d+: error/);
      // The old plan still runs: its cached list hits, and a path it does not cover is
      // forwarded every time although the origin marks it cacheable.
      expect((await send(`${proxy.url}/api/posts`)).headers['x-cache']).toBe('HIT');
      await send(`${proxy.url}/api/other`);
      await send(`${proxy.url}/api/other`);
      expect(origin.count('GET /api/other')).toBe(4);

      rmSync(spec);
      proxy.child.kill('SIGHUP');
      await until('the unreadable spec to be logged', () =>
        /reload failed, keeping the previous spec: cannot read .*blog\.cai: ENOENT/.test(
          proxy.stderr(),
        ),
      );
      expect((await send(`${proxy.url}/api/posts`)).headers['x-cache']).toBe('HIT');

      // A spec that moves the cache: the plan is reloaded, the cache stays until a restart.
      writeFileSync(
        spec,
        `config { api_prefix: "/api" cache: "redis" cache_url: "redis://:pw@127.0.0.1:1" }\nendpoint GET "/other" { cache: 30s }\n`,
      );
      proxy.child.kill('SIGHUP');
      await until('the reload to be logged', () => /reloaded .*blog\.cai/.test(proxy.stderr()));
      expect(proxy.stderr()).toMatch(
        /cache settings changed \(redis at redis:\/\/:\*+@127\.0\.0\.1:1\); a reload keeps the running cache \(memory .*restart serve/,
      );
      await send(`${proxy.url}/api/other`);
      expect((await send(`${proxy.url}/api/other`)).headers['x-cache']).toBe('HIT');
      expect(origin.count('GET /api/other')).toBe(5);
    } finally {
      expect(await proxy.stop()).toBe(0);
      await origin.close();
    }
  });
});

describe('serve admin rules', () => {
  it('with --admin-token, /__cache/* needs the bearer token even from loopback', async () => {
    const origin = new TestOrigin();
    const proxy = await startServe([
      '--upstream',
      await origin.listen(),
      '--port',
      '0',
      '--admin-token',
      's3cret',
    ]);
    try {
      expect((await send(`${proxy.url}/__cache/health`)).status).toBe(401);
      const wrong = await send(`${proxy.url}/__cache/health`, {
        headers: { authorization: 'Bearer nope' },
      });
      expect(wrong.status).toBe(401);
      const right = await send(`${proxy.url}/__cache/health`, {
        headers: { authorization: 'Bearer s3cret' },
      });
      expect(right.status).toBe(200);
    } finally {
      await proxy.stop();
      await origin.close();
    }
  });

  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal)?.address;

  it.skipIf(external === undefined)(
    'without a token, /__cache/* refuses clients that are not loopback',
    async () => {
      const origin = new TestOrigin().on('GET /x', (_req, res) => res.end('x'));
      const proxy = await startServe([
        '--upstream',
        await origin.listen(),
        '--port',
        '0',
        '--host',
        '0.0.0.0',
      ]);
      try {
        const port = new URL(proxy.url).port;
        expect((await send(`http://${external}:${port}/__cache/health`)).status).toBe(403);
        expect((await send(`http://${external}:${port}/x`)).body).toBe('x');
        expect((await send(`http://127.0.0.1:${port}/__cache/health`)).status).toBe(200);
      } finally {
        await proxy.stop();
        await origin.close();
      }
    },
  );
});

describe('serve usage', () => {
  it('names an unknown flag and a missing value, exit 2, no stack trace', async () => {
    // The same shape as every other command's usage errors (test/cli/commands.test.ts).
    const cases: [string[], string][] = [
      [['--upstream', 'http://127.0.0.1:1', '--colour'], 'unknown option --colour for serve'],
      [['--upstream'], '--upstream needs a value'],
      [['--port', '0'], '--upstream URL is required'],
      [
        ['--upstream', 'http://127.0.0.1:1', '--port', 'eighty'],
        '--port must be a port number (0 picks a free one), got "eighty"',
      ],
      [['--upstream', 'http://127.0.0.1:1', 'extra'], 'serve takes no arguments, got "extra"'],
      [
        ['--upstream', 'http://127.0.0.1:1', '--ignore-header', 'Accept'],
        `--ignore-header takes a forwarding field the cache keys (${UNKEYED_RISKY_HEADERS.join(', ')}), got "accept"`,
      ],
    ];
    const runs = await Promise.all(cases.map(([args]) => runServe(args)));
    cases.forEach(([, message], i) => {
      const r = runs[i]!;
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `codeai-cache: ${message}\nRun "codeai-cache serve --help" for usage.\n`,
      );
    });
  }, 60_000);

  it('--help prints the usage, exit 0', async () => {
    const help = await runServe(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: codeai-cache serve --upstream URL/);
  });

  it('a spec that does not load is one line per problem, exit 1', async () => {
    const spec = join(work, 'broken.cai');
    writeFileSync(spec, 'endpoint GET "/x" { cache: }}}');
    const r = await runServe(['--upstream', 'http://127.0.0.1:1', '--spec', spec]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the spec was not loaded/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
