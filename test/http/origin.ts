/**
 * The origin every adapter serves in the scenario table: one framework-neutral description
 * of each route's answer, which each adapter writes with its own idioms (node `writeHead` +
 * several `write`s, Express `res.json`, Fastify `reply.send` of a stream, Hono `Response`).
 * It counts calls per path, so a scenario can tell a hit from a miss by the origin alone.
 */
import { gzipSync } from 'node:zlib';

/** What the origin answers; adapters translate it. */
export interface OriginReply {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
  /** When set, adapters send it with their JSON helper. */
  json?: unknown;
  /** Write the body in this many pieces (stream / several writes). */
  pieces?: number;
  /** A misbehaving handler (issue #10 item 9): each adapter writes it with its own means. */
  fault?: Fault;
}

/**
 * How a handler can get its response wrong (RFC 9112 §6.3 framing, issue #10 item 9):
 * - `longer` / `shorter`: a body longer / shorter than the `Content-Length` it declared;
 * - `reset`: the connection (or the body stream) dies after the first piece;
 * - `write-after-end`: another `write` after `end()` (node:http and Express only);
 * - `head-twice`: a second `writeHead` after the body started, the handler catching
 *   node's `ERR_HTTP_HEADERS_SENT` (node:http and Express only).
 * Every fault route states `max-age=60`: storing the response is what the cache must avoid.
 */
export type Fault = 'longer' | 'shorter' | 'reset' | 'write-after-end' | 'head-twice';

export const FAULTS: readonly Fault[] = [
  'longer',
  'shorter',
  'reset',
  'write-after-end',
  'head-twice',
];

/** A binary body with every byte value, written in pieces. */
export const BINARY = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 256));
/** A body above the scenario policy's 16 KiB maxBodySize. */
export const BIG = Buffer.alloc(40 * 1024, 'x');
/** The gzip route's plain text. */
export const GZIP_TEXT = 'hello compressed world '.repeat(40);
export const GZIPPED = gzipSync(GZIP_TEXT);
/** A fixed Date for the route that states one. */
export const FIXED_DATE = 'Tue, 01 Jan 2030 00:00:00 GMT';

/** A Last-Modified the `/lm-only` route revalidates against. */
export const LAST_MODIFIED = 'Mon, 01 Jan 2029 00:00:00 GMT';

/** Expires values far in the future, in each date form and in near-misses of them. */
const EXPIRES: Record<string, string | string[]> = {
  imf: 'Sun, 06 Nov 2050 08:49:37 GMT',
  rfc850: 'Sunday, 06-Nov-50 08:49:37 GMT',
  asctime: 'Sun Nov  6 08:49:37 2050',
  utc: 'Sun, 06 Nov 2050 08:49:37 UTC',
  'no-comma': 'Sun 06 Nov 2050 08:49:37 GMT',
  spaces: 'Sun,  06 Nov 2050 08:49:37 GMT',
  dashes: 'Sun, 06-Nov-2050 08:49:37 GMT',
  'one-digit-hour': 'Sun, 06 Nov 2050 8:49:37 GMT',
  lines: ['Sun, 06 Nov 2050 08:49:37 GMT', 'Mon, 07 Nov 2050 08:49:37 GMT'],
};

/** What each fault route writes; `Content-Length` is declared where the fault is about it. */
export const FAULT_BODIES: Readonly<Record<Fault, string>> = {
  longer: '0123456789', // declared 5
  shorter: '01234', // declared 10
  reset: 'part', // then the connection dies
  'write-after-end': 'done', // then `write('more')`
  'head-twice': 'ab', // `a`, a second head, `b`
};

/** An IMF-fixdate `days` before now (the real clock: the cache's starts there too). */
function daysAgo(days: number): string {
  return new Date(Date.now() - days * 86_400_000).toUTCString();
}

interface Gate {
  promise: Promise<void>;
  release(): void;
}

/** The `sid` cookie's value, as an app reading its session would see it. */
function sessionOf(cookie: string | undefined): string | undefined {
  return /(?:^|;\s*)sid=([^;]*)/.exec(cookie ?? '')?.[1];
}

/** Route logic plus counters, one per server under test. */
export class Origin {
  readonly calls = new Map<string, number>();
  readonly #gates = new Map<string, Gate>();
  readonly failing = new Set<string>();
  readonly #now: (() => number) | undefined;

  /**
   * With `now`, every reply without a `Date` of its own is dated by that clock: the test's,
   * which `advance` moves for the cache, so the origin's Date moves with it as a real
   * origin's would. Without it, node's server dates replies by the real clock, and a cache
   * that reads the field (the proxy sees it; a middleware's recorder does not) would count
   * every response fetched after an `advance` as already that old (RFC 9111 §4.2.3). The
   * date is rounded up to the whole second: the field has one-second resolution, and
   * rounded down it would age a `max-age=1` reply by up to a second on arrival.
   */
  constructor(now?: () => number) {
    this.#now = now;
  }

  /** How many times the origin answered `path` (any method). */
  count(path: string): number {
    return this.calls.get(path) ?? 0;
  }

  /** Holds requests to `path` until the returned function is called. */
  hold(path: string): () => void {
    let release!: () => void;
    const promise = new Promise<void>((r) => {
      release = r;
    });
    const gate = { promise, release: () => release() };
    this.#gates.set(path, gate);
    return () => {
      this.#gates.delete(path);
      gate.release();
    };
  }

  async handle(
    method: string,
    url: string,
    header: (name: string) => string | undefined,
  ): Promise<OriginReply> {
    const reply = await this.#answer(method, url, header);
    if (this.#now === undefined || reply.headers.date !== undefined) return reply;
    const date = new Date(Math.ceil(this.#now() / 1000) * 1000).toUTCString();
    return { ...reply, headers: { ...reply.headers, date } };
  }

  async #answer(
    method: string,
    url: string,
    header: (name: string) => string | undefined,
  ): Promise<OriginReply> {
    const path = url.split('?')[0] ?? '/';
    const n = (this.calls.get(path) ?? 0) + 1;
    this.calls.set(path, n);
    const gate = method === 'GET' ? this.#gates.get(path) : undefined;
    if (gate !== undefined) await gate.promise;
    const json = (
      value: unknown,
      headers: Record<string, string | string[]> = {},
    ): OriginReply => ({
      status: 200,
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
      body: Buffer.from(JSON.stringify(value)),
      json: value,
    });
    const text = (status: number, body: string, headers: Record<string, string | string[]>) => ({
      status,
      headers: { 'content-type': 'text/plain; charset=utf-8', ...headers },
      body: Buffer.from(body),
    });
    const fresh = { 'cache-control': 'max-age=60' };

    if (method !== 'GET' && method !== 'HEAD') {
      if (header('x-fail') !== undefined) return text(404, 'nope', {});
      if (method === 'POST') return text(201, 'created', { location: `${path}/9` });
      return text(200, `${method} ok`, {});
    }
    switch (path) {
      case '/cached':
        return json(
          { path, n, q: url.split('?')[1] ?? '' },
          { ...fresh, 'x-custom': 'kept', link: ['</a>; rel=a', '</b>; rel=b'] },
        );
      case '/ttl':
        return text(200, `ttl ${n}`, {});
      case '/no-freshness':
        return text(200, `none ${n}`, {});
      case '/nostore':
        return text(200, `nostore ${n}`, { 'cache-control': 'no-store' });
      case '/private':
        return text(200, `private ${n}`, { 'cache-control': 'private, max-age=60' });
      case '/cookie':
        return text(200, `cookie ${n}`, {
          ...fresh,
          'set-cookie': ['sid=secret; HttpOnly', 'b=2'],
        });
      case '/error':
        // No freshness of its own: the policy ttl must not make a 5xx storable.
        return text(500, `error ${n}`, {});
      case '/vary-star':
        return text(200, `star ${n}`, { ...fresh, vary: '*' });
      case '/binary':
        return {
          status: 200,
          headers: { 'content-type': 'application/octet-stream', ...fresh },
          body: BINARY,
          pieces: 4,
        };
      case '/ranged': {
        // Honours a single `bytes=a-b` Range with a 206, as a file server does.
        const m = /^bytes=(\d+)-(\d+)$/.exec(header('range') ?? '');
        if (m === null) {
          return {
            status: 200,
            headers: { 'content-type': 'application/octet-stream', ...fresh },
            body: BINARY,
          };
        }
        const start = Number(m[1]);
        const end = Math.min(Number(m[2]), BINARY.length - 1);
        return {
          status: 206,
          headers: {
            'content-type': 'application/octet-stream',
            'content-range': `bytes ${start}-${end}/${BINARY.length}`,
            ...fresh,
          },
          body: BINARY.subarray(start, end + 1),
        };
      }
      case '/big':
        return {
          status: 200,
          headers: { 'content-type': 'text/plain', ...fresh },
          body: BIG,
          pieces: 10,
        };
      case '/gzip':
        if ((header('accept-encoding') ?? '').includes('gzip')) {
          return {
            status: 200,
            headers: {
              'content-type': 'text/plain',
              'content-encoding': 'gzip',
              vary: 'Accept-Encoding',
              ...fresh,
            },
            body: GZIPPED,
          };
        }
        return text(200, GZIP_TEXT, { vary: 'Accept-Encoding', ...fresh });
      case '/lang':
        return text(200, `lang ${header('accept-language') ?? '-'} ${n}`, {
          ...fresh,
          vary: 'Accept-Language',
        });
      case '/etag':
        return text(200, `etag ${n}`, {
          ...fresh,
          etag: '"v1"',
          'last-modified': 'Mon, 01 Jan 2029 00:00:00 GMT',
          date: FIXED_DATE,
        });
      case '/me':
      case '/auth/me':
        return text(200, `user ${header('authorization') ?? 'anonymous'} ${n}`, fresh);
      // Per-user answers chosen by the session cookie, with nothing in the response saying
      // so (no Vary: Cookie, no private): what many apps send.
      case '/session/me':
      case '/sid/me':
      case '/cookies/me':
      case '/themed/me':
        return text(200, `user ${sessionOf(header('cookie')) ?? 'anonymous'} ${n}`, fresh);
      case '/session/public':
        return text(200, `public ${n}`, { 'cache-control': 'public, max-age=60' });
      case '/session/s-maxage':
        return text(200, `shared ${n}`, { 'cache-control': 's-maxage=60' });
      case '/tagged':
        return text(200, `tagged ${n}`, { ...fresh, 'cache-tag': 'news, sports' });
      case '/swr':
        return text(200, `swr ${n}`, { 'cache-control': 'max-age=1, stale-while-revalidate=60' });
      case '/sie':
        if (this.failing.has(path)) return text(503, 'down', {});
        return text(200, `sie ${n}`, { 'cache-control': 'max-age=1, stale-if-error=60' });
      case '/validate':
      case '/nottl/validate':
        // Stored (under the policy ttl, or for its ETag alone on /nottl/) but `no-cache`:
        // every use is revalidated with the ETag.
        if (header('if-none-match') === '"v1"') {
          return {
            status: 304,
            headers: { etag: '"v1"', 'cache-control': 'no-cache' },
            body: Buffer.alloc(0),
          };
        }
        return text(200, `validate ${n}`, { etag: '"v1"', 'cache-control': 'no-cache' });
      case '/empty':
        return { status: 204, headers: fresh, body: Buffer.alloc(0) };
      case '/fault/longer':
      case '/fault/shorter':
      case '/fault/reset':
      case '/fault/write-after-end':
      case '/fault/head-twice': {
        const fault = path.slice('/fault/'.length) as Fault;
        // `connection: close`, so a body shorter than its length ends with the socket (as a
        // dying origin's does), not after a keep-alive timeout.
        return {
          status: 200,
          headers: { 'content-type': 'text/plain', connection: 'close', ...fresh },
          body: Buffer.from(FAULT_BODIES[fault]),
          fault,
        };
      }
      // RFC 9110 §5.6.7: the three date forms, and near-misses that must read as expired.
      case '/expires/imf':
      case '/expires/rfc850':
      case '/expires/asctime':
      case '/expires/utc':
      case '/expires/no-comma':
      case '/expires/spaces':
      case '/expires/dashes':
      case '/expires/one-digit-hour':
      case '/expires/lines':
        return text(200, `expires ${n}`, { expires: EXPIRES[path.slice('/expires/'.length)]! });
      case '/age/list':
        return text(200, `age ${n}`, { ...fresh, age: '50, 10' });
      case '/age/lines':
        return text(200, `age ${n}`, { ...fresh, age: ['50', '10'] });
      case '/age/invalid':
        return text(200, `age ${n}`, { ...fresh, age: 'soon' });
      case '/duplicate-max-age':
        return text(200, `dup ${n}`, { 'cache-control': 'max-age=60, max-age=3600' });
      case '/must-revalidate':
        if (this.failing.has(path)) return text(503, 'down', {});
        return text(200, `mr ${n}`, {
          'cache-control': 'max-age=1, must-revalidate, stale-if-error=60',
        });
      case '/max-stale':
        return text(200, `ms ${n}`, { 'cache-control': 'max-age=1' });
      case '/private-field':
        return text(200, `pf ${n}`, {
          'cache-control': 'private="x-user", no-cache="x-secret", max-age=60',
          'x-user': 'alice',
          'x-secret': 's3cret',
          'x-public': 'kept',
        });
      case '/must-understand':
        return text(200, `mu ${n}`, { 'cache-control': 'no-store, must-understand, max-age=60' });
      case '/immutable':
        return text(200, `im ${n}`, { 'cache-control': 'max-age=60, immutable' });
      case '/me-revalidate':
        return text(200, `user ${header('authorization') ?? sessionOf(header('cookie'))} ${n}`, {
          'cache-control': 'max-age=60, must-revalidate',
        });
      case '/nottl/heuristic':
        return text(200, `heuristic ${n}`, { 'last-modified': daysAgo(5) });
      case '/nottl/heuristic-501':
        return text(501, `heuristic ${n}`, { 'last-modified': daysAgo(5) });
      case '/nottl/heuristic-302':
        return text(302, `heuristic ${n}`, { 'last-modified': daysAgo(5), location: '/' });
      case '/nottl/etag-only':
        // What Express sends by default: an ETag and no freshness.
        if (header('if-none-match') === '"e1"') {
          return { status: 304, headers: { etag: '"e1"' }, body: Buffer.alloc(0) };
        }
        return text(200, `etag-only ${n}`, { etag: '"e1"' });
      case '/etag-moved':
        // The representation moved on: a revalidation gets a 304 naming another strong ETag.
        if (header('if-none-match') !== undefined) {
          return { status: 304, headers: { etag: '"v2"' }, body: Buffer.alloc(0) };
        }
        return text(200, `moved ${n}`, { 'cache-control': 'max-age=1', etag: '"v1"' });
      case '/precondition': {
        // A resource with preconditions (RFC 9110 §13.1.1, §13.1.4): `If-Match` is evaluated
        // first, then `If-Unmodified-Since`; a failed one gets a 412 that states freshness,
        // as some origins' error pages do. Without them, a 200 stale after a second and
        // revalidated with its ETag.
        const ifMatch = header('if-match');
        const since = header('if-unmodified-since');
        const failed =
          ifMatch !== undefined
            ? ifMatch.trim() !== '*' && !ifMatch.split(',').some((t) => t.trim() === '"v1"')
            : since !== undefined && Date.parse(since) < Date.parse(LAST_MODIFIED);
        if (failed) return text(412, `precondition failed ${n}`, fresh);
        if (header('if-none-match') === '"v1"') {
          return { status: 304, headers: { etag: '"v1"' }, body: Buffer.alloc(0) };
        }
        return text(200, `precondition ${n}`, {
          'cache-control': 'max-age=1',
          etag: '"v1"',
          'last-modified': LAST_MODIFIED,
        });
      }
      case '/lm-only':
        if (header('if-modified-since') === LAST_MODIFIED) {
          return {
            status: 304,
            headers: { 'x-refreshed': String(n), 'content-length': '0' },
            body: Buffer.alloc(0),
          };
        }
        return text(200, `lm ${n}`, {
          'cache-control': 'max-age=1',
          'last-modified': LAST_MODIFIED,
          'x-refreshed': 'no',
        });
      case '/targeted':
        return text(200, `targeted ${n}`, {
          'cache-control': 'no-store',
          'cdn-cache-control': 'max-age=60',
        });
      case '/targeted-private':
        return text(200, `targeted ${n}`, { ...fresh, 'cdn-cache-control': 'private' });
      case '/targeted-codeai':
        return text(200, `targeted ${n}`, {
          'codeai-cache-control': 'no-store',
          'cdn-cache-control': 'max-age=60',
        });
      default:
        if (path.startsWith('/posts')) return json({ path, n }, fresh);
        if (path.startsWith('/slow')) return text(200, `slow ${n}`, fresh);
        if (path.startsWith('/status/')) {
          // Explicit freshness makes any status storable (RFC 9111 §3).
          const status = Number(path.slice('/status/'.length));
          return text(status, `status ${status} ${n}`, { ...fresh, location: '/' });
        }
        return text(404, 'not found', {});
    }
  }
}
