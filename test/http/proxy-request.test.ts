/**
 * What the upstream of `serve` (`createProxy`) receives, field by field: the request the
 * cache decided — its validators in, the client's conditionals out, a Range passed on — with every
 * other field as the client sent it (repeated lines, case, order). Regression tests for the
 * proxy forwarding `req.rawHeaders` while the cache edited only `req.headers`, and for the
 * stale-while-revalidate refresh that reached the origin with no fields at all.
 */
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Proxy as CacheProxy, createProxy } from '../../src/proxy/index.js';
import { MemoryCache } from '../../src/stores/memory/memory-cache.js';
import { until } from './client.js';

/** The upstream: records each request's raw fields; `reply` answers it. */
interface Upstream {
  url: string;
  seen: string[][];
  close(): Promise<void>;
}

type Reply = (
  req: IncomingMessage,
  n: number,
) => { status: number; headers: Record<string, string> };

async function upstream(reply: Reply): Promise<Upstream> {
  const seen: string[][] = [];
  const server: Server = createServer((req, res) => {
    seen.push([...req.rawHeaders]);
    const { status, headers } = reply(req, seen.length);
    res.writeHead(status, headers);
    res.end(status === 304 ? undefined : `body ${seen.length}`);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}

/**
 * GETs `path` with a flat header list (repeated names and their case go out as given; node
 * adds no Host to a list, so it goes first here).
 */
function get(
  base: string,
  path: string,
  headers: string[] = [],
): Promise<{ status: number; text: string; xCache: string | undefined }> {
  return new Promise((resolve, reject) => {
    const target = new URL(path, base);
    const all = ['Host', target.host, ...headers];
    const req = request(target, { headers: all, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text, xCache: res.headers['x-cache'] as string }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** The values of `name` (any case) in a raw list, in order. */
function values(raw: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === name) out.push(raw[i + 1]!);
  }
  return out;
}

/** The raw list without the fields a proxy rewrites or adds (hop-by-hop, Via, X-Forwarded-*). */
function clientFields(raw: readonly string[]): string[] {
  const added = /^(connection|via|x-forwarded-for|x-forwarded-proto|x-forwarded-host)$/i;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (!added.test(raw[i]!)) out.push(raw[i]!, raw[i + 1]!);
  return out;
}

const CLIENT = ['X-Tag', 'a', 'x-TAG', 'b', 'Accept', 'text/plain', 'X-Mixed-Case', '1'];

describe('serve forwards the request the cache decided', () => {
  let origin: Upstream | undefined;
  let proxy: CacheProxy | undefined;
  let cache: MemoryCache | undefined;
  let offset = 0;

  afterEach(async () => {
    await proxy?.close(1_000);
    await origin?.close();
    await cache?.stop();
    proxy = origin = cache = undefined;
    offset = 0;
  });

  async function open(reply: Reply): Promise<string> {
    origin = await upstream(reply);
    cache = new MemoryCache({ maxMemory: '16mb' });
    await cache.start();
    proxy = createProxy({
      upstream: origin.url,
      cache,
      middleware: { clock: { now: () => Date.now() + offset } },
    });
    return (await proxy.listen(0, '127.0.0.1')).url;
  }

  it('revalidates with its own validator in place of the client’s, other fields untouched', async () => {
    const headers = { etag: '"v1"', 'cache-control': 'no-cache' };
    const url = await open((req) => ({
      status: req.headers['if-none-match'] === '"v1"' ? 304 : 200,
      headers,
    }));
    expect((await get(url, '/r')).text).toBe('body 1');
    await until(() => proxy!.stats().stores === 1, 10_000, 'the store');
    const second = await get(url, '/r', [...CLIENT, 'If-None-Match', '"other"']);
    // The client's "other" does not match: the stored body, revalidated by the origin's 304.
    expect([second.status, second.text, second.xCache]).toEqual([200, 'body 1', 'HIT']);
    expect(proxy!.stats().revalidated).toBe(1);
    const raw = origin!.seen[1]!;
    expect(values(raw, 'if-none-match')).toEqual(['"v1"']);
    const untouched = clientFields(raw).filter(
      (_, i, a) => i % 2 === 0 && !/^(host|if-none-match)$/i.test(a[i]!),
    );
    expect(untouched).toEqual(['X-Tag', 'x-TAG', 'Accept', 'X-Mixed-Case']);
    expect(values(raw, 'x-tag')).toEqual(['a', 'b']);
  });

  it('passes a Range miss on as the client sent it, other fields untouched (RFC 9111 §3.3)', async () => {
    const url = await open(() => ({
      status: 200,
      headers: { etag: '"v1"', 'cache-control': 'max-age=60' },
    }));
    // This origin ignores Range (RFC 9110 §14.2 allows it): the client gets its full 200.
    const miss = await get(url, '/range', [...CLIENT, 'Range', 'bytes=0-1', 'If-Range', '"v1"']);
    expect([miss.status, miss.text]).toEqual([200, 'body 1']);
    const raw = origin!.seen[0]!;
    expect([values(raw, 'range'), values(raw, 'if-range')]).toEqual([['bytes=0-1'], ['"v1"']]);
    expect(values(raw, 'x-tag')).toEqual(['a', 'b']);
  });

  it('sends a stale-while-revalidate refresh with the client’s fields, Host included', async () => {
    const url = await open(() => ({
      status: 200,
      headers: { 'cache-control': 'max-age=60, stale-while-revalidate=600' },
    }));
    const host = new URL(url).host;
    await get(url, '/swr', CLIENT);
    await until(() => proxy!.stats().stores === 1, 10_000, 'the store');
    offset = 120_000;
    const stale = await get(url, '/swr', CLIENT);
    expect([stale.xCache, stale.text]).toEqual(['STALE', 'body 1']);
    await until(() => origin!.seen.length === 2, 10_000, 'the background refresh');
    const raw = origin!.seen[1]!;
    expect(values(raw, 'host')).toEqual([host]);
    expect(values(raw, 'x-tag')).toEqual(['a', 'b']);
  });

  it('sends a stale-while-revalidate refresh with the triggering connection’s X-Forwarded-For and -Proto', async () => {
    const url = await open(() => ({
      status: 200,
      headers: { 'cache-control': 'max-age=60, stale-while-revalidate=600' },
    }));
    // The client's connection as node:https hands it over: a socket that says `encrypted`
    // (what the proxy reads for X-Forwarded-Proto), without a certificate in the test.
    proxy!.server.prependListener('connection', (socket) => {
      Object.defineProperty(socket, 'encrypted', { value: true });
    });
    await get(url, '/swr-fwd');
    await until(() => proxy!.stats().stores === 1, 10_000, 'the store');
    offset = 120_000;
    expect((await get(url, '/swr-fwd')).xCache).toBe('STALE');
    await until(() => origin!.seen.length === 2, 10_000, 'the background refresh');
    const [first, refresh] = origin!.seen as [string[], string[]];
    for (const raw of [first, refresh]) {
      expect(values(raw, 'x-forwarded-for')).toEqual(['127.0.0.1']);
      expect(values(raw, 'x-forwarded-proto')).toEqual(['https']);
      expect(values(raw, 'x-forwarded-host')).toEqual([new URL(url).host]);
    }
  });
});
