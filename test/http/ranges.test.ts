/**
 * Partial content through every adapter, with a real origin that honours `Range` and
 * `If-Range` as a file server does (RFC 9110 §14, §13.1.5): its 206s are stored, later parts
 * of the same representation are combined into one entry, and the entry answers only the
 * ranges it holds (RFC 9111 §3.3–§3.4).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CachingMiddleware } from '../../src/http/caching-middleware.js';
import type { SkipReason } from '../../src/http/events.js';
import { MemoryCache } from '../../src/stores/memory/memory-cache.js';
import { type Received, send, until } from './client.js';
import { Origin, type OriginReply } from './origin.js';
import { ADAPTERS, type Running } from './servers.js';

/** A representation of `size` bytes for `version`: every byte depends on both. */
function content(size: number, version: number): Buffer {
  return Buffer.from(Array.from({ length: size }, (_, i) => (i * 13 + version * 101) % 256));
}

const SIZE = 4096;
/** Above the servers' 16 KiB maxBodySize, to see the bound on one entry. */
const BIG_SIZE = 40 * 1024;
const LAST_MODIFIED = 'Mon, 01 Jan 2029 00:00:00 GMT';

/**
 * The shared scenario origin plus `/file` and `/big-file`: a strong ETag per version, one
 * range or a multipart/byteranges 206 for several, 416 past the end, a 200 when `If-Range`
 * does not match. `ranges` records the `Range` each request carried.
 */
class RangeOrigin extends Origin {
  version = 1;
  cc = 'max-age=60';
  readonly ranges: (string | undefined)[] = [];

  override async handle(
    method: string,
    url: string,
    header: (name: string) => string | undefined,
  ): Promise<OriginReply> {
    const path = url.split('?')[0]!;
    if (path !== '/file' && path !== '/big-file') return super.handle(method, url, header);
    this.calls.set(path, this.count(path) + 1);
    const body = content(path === '/file' ? SIZE : BIG_SIZE, this.version);
    const etag = `"v${this.version}"`;
    const headers = {
      'content-type': 'application/octet-stream',
      'cache-control': this.cc,
      'accept-ranges': 'bytes',
      etag,
      'last-modified': LAST_MODIFIED,
    };
    const range = header('range');
    this.ranges.push(range);
    const ifRange = header('if-range');
    if (range === undefined || (ifRange !== undefined && ifRange !== etag)) {
      return { status: 200, headers, body };
    }
    const specs = range.replace(/^bytes=/, '').split(',');
    const parts = specs.map((spec) => {
      const [a, b] = spec.trim().split('-');
      if (a === '') return [Math.max(0, body.length - Number(b)), body.length - 1] as const;
      return [
        Number(a),
        b === '' ? body.length - 1 : Math.min(Number(b), body.length - 1),
      ] as const;
    });
    if (parts.some(([start]) => start >= body.length)) {
      return {
        status: 416,
        // Explicitly fresh, as some servers make every response: still never stored.
        headers: { 'content-range': `bytes */${body.length}`, 'cache-control': this.cc },
        body: Buffer.alloc(0),
      };
    }
    if (parts.length === 1) {
      const [start, end] = parts[0]!;
      return {
        status: 206,
        headers: { ...headers, 'content-range': `bytes ${start}-${end}/${body.length}` },
        body: body.subarray(start, end + 1),
      };
    }
    const boundary = 'BOUNDARY';
    const chunks = parts.flatMap(([start, end]) => [
      Buffer.from(
        `--${boundary}\r\ncontent-type: application/octet-stream\r\ncontent-range: bytes ${start}-${end}/${body.length}\r\n\r\n`,
      ),
      body.subarray(start, end + 1),
      Buffer.from('\r\n'),
    ]);
    chunks.push(Buffer.from(`--${boundary}--\r\n`));
    return {
      status: 206,
      headers: { ...headers, 'content-type': `multipart/byteranges; boundary=${boundary}` },
      body: Buffer.concat(chunks),
    };
  }
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

for (const [adapter, start] of Object.entries(ADAPTERS)) {
  describe(`${adapter}: partial content (RFC 9111 §3.3–§3.4)`, () => {
    const open = async () => {
      const cache = new MemoryCache({ maxMemory: '64mb' });
      await cache.start();
      let offset = 0;
      const mw = new CachingMiddleware(cache, { clock: { now: () => Date.now() + offset } });
      const advance = (ms: number) => {
        offset += ms;
      };
      const skips: SkipReason[] = [];
      mw.on('skip', (e) => skips.push(e.reason));
      const origin = new RangeOrigin();
      const server: Running = await start(mw, origin);
      closers.push(async () => {
        await server.close();
        mw.stop();
        await cache.stop();
      });
      const get = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
        send(server.url, path, { headers, method });
      const stored = (n: number) => until(() => mw.stats().stores >= n, 10_000, `${n} stores`);
      return { mw, origin, get, stored, skips, advance };
    };
    const v1 = content(SIZE, 1);
    const v2 = content(SIZE, 2);
    const expectPart = (r: Received, xCache: string, bytes: Buffer, from: number, to: number) => {
      expect([r.status, r.xCache, r.headers['content-range']]).toEqual([
        206,
        xCache,
        `bytes ${from}-${to}/${SIZE}`,
      ]);
      expect(r.body.equals(bytes.subarray(from, to + 1))).toBe(true);
    };

    it('stores a 206 and answers ranges inside it; other bytes and a plain GET go to the origin', async () => {
      const { origin, get, stored, mw } = await open();
      expectPart(await get('/file', { range: 'bytes=0-999' }), 'MISS', v1, 0, 999);
      expect(origin.ranges).toEqual(['bytes=0-999']);
      await stored(1);
      expectPart(await get('/file', { range: 'bytes=100-199' }), 'HIT', v1, 100, 199);
      expectPart(await get('/file', { range: 'bytes=0-999' }), 'HIT', v1, 0, 999);
      expect(origin.count('/file')).toBe(1);
      // Bytes 1000.. are not held: forwarded with the Range.
      expectPart(await get('/file', { range: 'bytes=900-1099' }), 'MISS', v1, 900, 1099);
      expect(origin.ranges.at(-1)).toBe('bytes=900-1099');
      await stored(2);
      // A plain GET is never answered from a partial entry; its 200 is stored whole.
      const whole = await get('/file');
      expect([whole.status, whole.xCache, whole.body.equals(v1)]).toEqual([200, 'MISS', true]);
      expect(origin.ranges.at(-1)).toBeUndefined();
      await stored(3);
      expect((await get('/file')).xCache).toBe('HIT');
      expect(origin.count('/file')).toBe(3);
      expect(mw.stats().hits).toBe(3);
    });

    it('a partial entry answers a matching If-None-Match with 304 (RFC 9110 §13.2.2) and never a HEAD', async () => {
      const { origin, get, stored } = await open();
      await get('/file', { range: 'bytes=0-99' });
      await stored(1);
      const cond = await get('/file', { range: 'bytes=0-9', 'if-none-match': '"v1"' });
      expect([cond.status, cond.xCache, cond.body.length]).toEqual([304, 'HIT', 0]);
      expect(origin.count('/file')).toBe(1);
      const head = await get('/file', {}, 'HEAD');
      expect([head.status, head.xCache]).toEqual([200, 'MISS']);
      expect(origin.count('/file')).toBe(2);
    });

    it('combines parts with the same strong ETag, and serves the whole 200 once complete', async () => {
      const { origin, get, stored } = await open();
      await get('/file', { range: 'bytes=0-1999' });
      await stored(1);
      // Overlapping the held range: combined into one held range 0–2999.
      expectPart(await get('/file', { range: 'bytes=1500-2999' }), 'MISS', v1, 1500, 2999);
      await stored(2);
      expectPart(await get('/file', { range: 'bytes=1000-2500' }), 'HIT', v1, 1000, 2500);
      // A suffix range completes it: the entry becomes the complete 200.
      expectPart(await get('/file', { range: 'bytes=-1096' }), 'MISS', v1, 3000, 4095);
      await stored(3);
      const whole = await get('/file');
      expect([whole.status, whole.xCache, whole.headers['content-length']]).toEqual([
        200,
        'HIT',
        String(SIZE),
      ]);
      expect(whole.body.equals(v1)).toBe(true);
      expect(whole.headers['content-range']).toBeUndefined();
      expect(whole.headers.etag).toBe('"v1"');
      expect(origin.count('/file')).toBe(3);
    });

    it('If-Range: a matching ETag is answered from the entry, another goes to the origin (200, stored whole)', async () => {
      const { origin, get, stored } = await open();
      await get('/file', { range: 'bytes=0-99' });
      await stored(1);
      expectPart(await get('/file', { range: 'bytes=0-9', 'if-range': '"v1"' }), 'HIT', v1, 0, 9);
      expect(origin.count('/file')).toBe(1);
      const other = await get('/file', { range: 'bytes=0-9', 'if-range': '"v0"' });
      expect([other.status, other.xCache, other.body.equals(v1)]).toEqual([200, 'MISS', true]);
      expect(origin.count('/file')).toBe(2);
      await stored(2);
      // The full 200 replaced the partial entry: any range is now a hit, and so is a plain GET.
      expectPart(await get('/file', { range: 'bytes=4000-4095' }), 'HIT', v1, 4000, 4095);
      expect((await get('/file')).xCache).toBe('HIT');
      expect(origin.count('/file')).toBe(2);
    });

    it('unsatisfiable: 416 from a partial entry that knows the length, and the origin 416 forwarded on a miss', async () => {
      const { origin, get, stored } = await open();
      const cold = await get('/file', { range: 'bytes=5000-' });
      expect([cold.status, cold.xCache, cold.headers['content-range']]).toEqual([
        416,
        'MISS',
        'bytes */4096',
      ]);
      await get('/file', { range: 'bytes=0-99' });
      await stored(1);
      // The 416 answered that Range only (RFC 9110 §15.5.17): it was not stored for the key.
      expect(origin.ranges.at(-1)).toBe('bytes=0-99');
      const past = await get('/file', { range: 'bytes=4096-' });
      expect([past.status, past.xCache, past.headers['content-range'], past.body.length]).toEqual([
        416,
        'HIT',
        'bytes */4096',
        0,
      ]);
      expect(origin.count('/file')).toBe(2);
      expect((await get('/file')).status).toBe(200);
    });

    it('a 206 with another ETag is not combined: it replaces the entry, and bytes never mix', async () => {
      const { origin, get, stored } = await open();
      await get('/file', { range: 'bytes=0-999' });
      await stored(1);
      origin.version = 2;
      expectPart(await get('/file', { range: 'bytes=1000-1999' }), 'MISS', v2, 1000, 1999);
      await stored(2);
      expectPart(await get('/file', { range: 'bytes=1500-1599' }), 'HIT', v2, 1500, 1599);
      // v1's bytes 0–999 were dropped with the old entry: asked of the origin again, as v2.
      expectPart(await get('/file', { range: 'bytes=0-99' }), 'MISS', v2, 0, 99);
      expect(origin.count('/file')).toBe(3);
    });

    it('a Range served stale-while-revalidate refreshes the whole representation, not a 206', async () => {
      const { origin, get, stored, advance } = await open();
      origin.cc = 'max-age=1, stale-while-revalidate=60';
      expect((await get('/file')).xCache).toBe('MISS');
      await stored(1);
      advance(2000);
      expectPart(await get('/file', { range: 'bytes=0-9' }), 'STALE', v1, 0, 9);
      await stored(2);
      // The background refresh went without the Range, so the complete entry stays complete.
      expect(origin.ranges).toEqual([undefined, undefined]);
      const whole = await get('/file');
      expect([whole.status, whole.xCache, whole.body.equals(v1)]).toEqual([200, 'HIT', true]);
    });

    it('declines multipart/byteranges, and never holds more than maxBodySize in one entry', async () => {
      const { origin, get, stored, skips } = await open();
      const multi = await get('/file', { range: 'bytes=0-9, 20-29' });
      expect([multi.status, multi.xCache]).toEqual([206, 'MISS']);
      expect(String(multi.headers['content-type'])).toMatch(/^multipart\/byteranges/);
      expect(skips).toContain('content-range');
      await get('/file', { range: 'bytes=0-9, 20-29' });
      expect(origin.count('/file')).toBe(2);
      // The servers' policy stores at most 16 KiB per entry.
      const big = content(BIG_SIZE, 1);
      const first = await get('/big-file', { range: 'bytes=0-9999' });
      expect([first.status, first.body.equals(big.subarray(0, 10_000))]).toEqual([206, true]);
      await stored(1);
      const second = await get('/big-file', { range: 'bytes=10000-19999' });
      expect([second.status, second.xCache]).toEqual([206, 'MISS']);
      await until(() => skips.includes('too-large'));
      // The entry stays as it was: its bytes are still served, the rest is not held.
      expect((await get('/big-file', { range: 'bytes=0-99' })).xCache).toBe('HIT');
      expect((await get('/big-file', { range: 'bytes=10000-10099' })).xCache).toBe('MISS');
      expect(origin.count('/big-file')).toBe(3);
    });
  });
}
