/**
 * Property: hostile request lines and headers through `CachingMiddleware` on node:http —
 * odd and percent encodings, raw non-ASCII bytes, dot segments, repeated and reordered query
 * parameters, duplicate and huge headers, CR/LF and NUL in header values, odd `Host` values —
 * never crash the server, never get a 5xx from the cache layer, never get the response of a
 * different URL (key confusion), and a stored response replays byte for byte.
 *
 * Requests go over a raw socket, so the bytes on the wire are exactly the generated ones
 * (node's client would refuse most of them). The origin echoes the host and target it saw,
 * followed by bytes derived from them, so every body says which request it answers.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Cache, CachingMiddleware, MemoryCache, RedisCache } from '../../src/index.js';
import { runs, timeoutFor } from './util.js';

/** What the origin answers for a host and target: an echo, then 64 bytes derived from it. */
function originBody(host: string, url: string): Buffer {
  const echo = Buffer.from(JSON.stringify({ host, url }));
  const tail = createHash('sha512').update(`${host}\n${url}`).digest();
  return Buffer.concat([echo, Buffer.from([0x0a]), tail]);
}

function origin(req: IncomingMessage, res: ServerResponse): void {
  const body = originBody(req.headers.host ?? '', req.url ?? '');
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'cache-control': 'max-age=60',
    'content-length': body.length,
  });
  res.end(body);
}

interface Raw {
  status: number;
  headers: Map<string, string[]>;
  body: Buffer;
}

/** Sends `bytes` on a fresh connection and parses the one response (or `undefined` if none). */
function rawRequest(port: number, bytes: Buffer): Promise<Raw | undefined> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // The server may reset a connection it refused: that is an answer, not a crash.
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') resolve(parse(Buffer.concat(chunks)));
      else reject(err);
    });
    socket.on('end', () => resolve(parse(Buffer.concat(chunks))));
    socket.end(bytes);
  });
}

function parse(all: Buffer): Raw | undefined {
  const split = all.indexOf('\r\n\r\n');
  if (split === -1) return undefined;
  const lines = all.subarray(0, split).toString('latin1').split('\r\n');
  const status = Number(lines[0]!.split(' ')[1]);
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  let body = all.subarray(split + 4);
  if (headers.get('transfer-encoding')?.includes('chunked')) {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const eol = body.indexOf('\r\n', at);
      const size = Number.parseInt(body.subarray(at, eol).toString('latin1'), 16);
      if (!(size > 0)) break;
      parts.push(body.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  } else if (headers.has('content-length')) {
    body = body.subarray(0, Number(headers.get('content-length')![0]));
  }
  return { status, headers, body };
}

/** Path and query pieces: encodings, dot segments, separators, raw UTF-8 and latin1 bytes. */
const piece = fc.constantFrom(
  'a',
  'b',
  '%41',
  '%61',
  '%2F',
  '%2f',
  '%00',
  '%zz',
  '%',
  '%%',
  '..',
  '.',
  '/',
  '//',
  ';',
  ',',
  '=',
  '&',
  '?',
  '+',
  '%20',
  '~',
  '*',
  '\u00e9', // sent as UTF-8 (two bytes)
  '\u00ff',
  '@',
  ':',
  '!',
  "'",
  '"',
  '<',
  '{',
  '|',
  '\\',
  '^',
  '`',
  '[',
);

const pathArb = fc.oneof(
  { arbitrary: fc.array(piece, { maxLength: 6 }).map((p) => `/${p.join('')}`), weight: 6 },
  // Absolute-form and asterisk-form targets, and a target without its leading slash.
  fc.constantFrom('http://h/a', 'http://hx/a/b', 'HTTP://h/a', '*', 'a/b', '//h/a'),
);
const queryArb = fc.option(
  fc
    .array(
      fc.tuple(
        fc.constantFrom('a', 'b', 'A', '', 'a[]', '%61'),
        fc.constantFrom('1', '2', '', '%20', '+'),
      ),
      { maxLength: 4 },
    )
    .map((ps) => ps.map(([k, v]) => `${k}=${v}`).join('&')),
  { nil: undefined },
);

const hostArb = fc.constantFrom(
  'h',
  'H',
  'h.',
  'h:80',
  'h/a',
  'h/',
  'h?x',
  'h#x',
  'h@x',
  'h\\a',
  'h a',
  '',
  'h,h',
  '[::1]',
  'x'.repeat(200),
);

type Extra = [string, string];
const headerArb: fc.Arbitrary<Extra> = fc.oneof(
  {
    // Headers node's parser refuses or that frame a body: the request never reaches us.
    arbitrary: fc.constantFrom<Extra>(
      ['X-Bad', 'a\rb'],
      ['X-Bad', 'a\nb'],
      ['X-Bad', 'a\r\nX-Injected: 1'],
      ['X-Bad', 'a\0b'],
      ['X-Bad', '\u00e9\u00ff'],
      ['Content-Length', '0'],
      ['Transfer-Encoding', 'chunked'],
    ),
    weight: 1,
  },
  {
    arbitrary: fc.constantFrom<Extra>(
      ['X-A', '1'],
      ['X-A', '2'],
      ['Accept', 'text/html'],
      ['Accept-Encoding', 'gzip'],
      ['Accept-Encoding', 'br, gzip'],
      ['Accept-Language', 'fr'],
      ['Cache-Control', 'no-cache'],
      ['Cache-Control', 'max-age=0'],
      ['Cache-Control', 'only-if-cached'],
      ['Pragma', 'no-cache'],
      ['X-Forwarded-Host', 'evil'],
      ['X-Original-URL', '/other'],
      ['Authorization', 'Bearer t'],
      ['Cookie', 'sid=1'],
      ['If-None-Match', '*'],
      ['Range', 'bytes=0-3'],
      ['Range', 'bytes=-1'],
      ['Range', 'bytes=9-1'],
    ),
    weight: 5,
  },
  fc.nat(20_000).map((n): Extra => ['X-Huge', 'h'.repeat(n)]),
);

interface Req {
  method: 'GET' | 'HEAD';
  path: string;
  query: string | undefined;
  host: string | undefined;
  extra: Extra[];
}

const reqArb: fc.Arbitrary<Req> = fc.record({
  method: fc.constantFrom('GET' as const, 'GET' as const, 'HEAD' as const),
  path: pathArb,
  query: queryArb,
  host: fc.option(hostArb, { nil: undefined }),
  extra: fc.array(headerArb, { maxLength: 3 }),
});

function target(r: Req): string {
  return r.query === undefined ? r.path : `${r.path}?${r.query}`;
}

function wire(r: Req): Buffer {
  const lines = [`${r.method} ${target(r)} HTTP/1.1`];
  if (r.host !== undefined) lines.push(`Host: ${r.host}`);
  for (const [name, value] of r.extra) lines.push(`${name}: ${value}`);
  lines.push('Connection: close', '', '');
  // Everything as UTF-8, as a browser would send non-ASCII (node reads it as latin1).
  return Buffer.from(lines.join('\r\n'), 'utf8');
}

/** What a request's key must cover: host (case and trailing dot aside), path, and the query as a multiset of parameters. */
function identity(host: string, url: string): string {
  const lower = host.toLowerCase().replace(/\.$/, '');
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const params =
    q === -1
      ? []
      : url
          .slice(q + 1)
          .split('&')
          .filter((p) => p !== '')
          .sort();
  return JSON.stringify([lower, path === '' ? '/' : path, params]);
}

for (const backend of ['memory', 'redis'] as const) {
  describe(`HTTP middleware on node:http over ${backend}: hostile requests`, () => {
    let cache: Cache;
    let server: Server;
    let mw: CachingMiddleware;
    let port = 0;
    const crashes: unknown[] = [];

    beforeAll(async () => {
      cache =
        backend === 'memory'
          ? new MemoryCache()
          : new RedisCache({ url: inject('redisUrl'), prefix: `p${randomUUID()}` });
      await cache.start();
      mw = new CachingMiddleware(cache);
      const handle = mw.handler({ ttl: '30s' }, origin);
      server = createServer((req, res) => {
        try {
          handle(req, res);
        } catch (err) {
          crashes.push(err);
          res.statusCode = 599;
          res.end();
        }
      });
      server.on('clientError', (_err, socket) => socket.destroy());
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as AddressInfo).port;
      process.on('uncaughtException', crashes.push.bind(crashes));
    });

    afterAll(async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      mw.stop();
      await cache.clear();
      await cache.stop();
    });

    it(
      'no crash, no 5xx, never another URL’s response, bytes replayed exactly',
      async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(reqArb, { minLength: 1, maxLength: 4 }), async (reqs) => {
            // Each request twice: the second is usually served from the cache.
            for (const r of [...reqs, ...reqs]) {
              const got = await rawRequest(port, wire(r));
              expect(crashes).toEqual([]);
              if (got === undefined) continue; // refused by node's parser: connection closed
              const what = `${JSON.stringify(r).slice(0, 300)} → ${got.status} ${got.headers.get('x-cache')}`;
              // RFC 9111 §5.2.1.7: only-if-cached with nothing stored is a 504, by design.
              const onlyIfCached = r.extra.some(([, v]) => v === 'only-if-cached');
              if (!(onlyIfCached && got.status === 504)) expect(got.status, what).toBeLessThan(500);
              if (got.status !== 200 && got.status !== 206) continue;
              if (r.method === 'HEAD' || got.status === 206) continue;
              const nl = got.body.indexOf(0x0a);
              const echo = JSON.parse(got.body.subarray(0, nl).toString('utf8')) as {
                host: string;
                url: string;
              };
              // The answer is for this request's host and target (modulo the documented
              // normalisation), never for another one.
              const sentHost = Buffer.from(r.host ?? '', 'utf8').toString('latin1');
              const sentUrl = Buffer.from(target(r), 'utf8').toString('latin1');
              expect(identity(echo.host, echo.url), what).toBe(identity(sentHost, sentUrl));
              // And its bytes are exactly the origin's.
              expect(got.body.equals(originBody(echo.host, echo.url)), what).toBe(true);
            }
          }),
          { numRuns: runs(backend === 'memory' ? 60 : 25) },
        );
      },
      timeoutFor(90_000),
    );

    // Regression: the key was host + target concatenated, so `Host: h/a` + `GET /b` and
    // `Host: h` + `GET /a/b` were one entry: a request with a forged Host could store its
    // answer for another URL of the real host.
    it('a Host holding a path can never answer for another URL', async () => {
      const forged: Req = { method: 'GET', path: '/b', query: undefined, host: 'hx/a', extra: [] };
      const victim: Req = { method: 'GET', path: '/a/b', query: undefined, host: 'hx', extra: [] };
      for (const r of [forged, forged, victim, victim]) {
        const got = await rawRequest(port, wire(r));
        if (got === undefined || got.status !== 200) continue;
        const echo = JSON.parse(got.body.subarray(0, got.body.indexOf(0x0a)).toString()) as {
          host: string;
          url: string;
        };
        expect(identity(echo.host, echo.url)).toBe(identity(r.host!, target(r)));
      }
    });
  });
}
