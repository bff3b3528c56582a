/**
 * HTTP load with a model, for the Redis fault tests of the caching middleware and `serve`:
 * concurrent GETs and PUTs on a set of paths while the test breaks the cache's Redis.
 *
 * The origin keeps a version per path; a PUT makes a new one and answers it. Checked on
 * every answer:
 * - status 200, within the bound (a cache failure never fails or hangs a request: README,
 *   "A cache failure never fails a request");
 * - the body names the path asked for (no other path's response);
 * - a GET that began after a PUT of its path was answered carries that PUT's version or a
 *   newer one (README: "A write's invalidation is never lost").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, request } from 'undici';
import { listen } from '../../harness/listen.js';

export { listen };

/** The origin: `GET /items/N` answers `{ path, version }`, `PUT /items/N` makes a new version. */
export class VersionedOrigin {
  readonly #versions = new Map<string, number>();
  calls = 0;

  /** Answers with `cache-control: max-age=300` when `headers` is true (for `serve`, which follows the origin). */
  constructor(readonly freshness = false) {}

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.calls++;
    const path = (req.url ?? '/').split('?')[0] as string;
    req.resume();
    req.on('end', () => {
      let version = this.#versions.get(path) ?? 1;
      if (req.method === 'PUT') this.#versions.set(path, ++version);
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(this.freshness && req.method === 'GET' ? { 'cache-control': 'max-age=300' } : {}),
      });
      res.end(JSON.stringify({ path, version }));
    });
  };

  /** Listens on a free loopback port; resolves with its base URL and a closer. */
  async listen(): Promise<{ url: string; close: () => Promise<void> }> {
    return listen(this.handle);
  }
}

export interface HttpCounts {
  requests: number;
  hits: number;
  puts: number;
  slowestMs: number;
  statuses: Record<string, number>;
}

const tick = (ms = 1): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** GET and PUT loops against `base` until `stop()`; violations collected, not thrown. */
export class HttpModelLoad {
  readonly violations: string[] = [];
  readonly counts: HttpCounts = { requests: 0, hits: 0, puts: 0, slowestMs: 0, statuses: {} };
  readonly #base: string;
  readonly #paths: number;
  readonly #boundMs: number;
  readonly #agent = new Agent({ connections: 64 });
  /** Per path: the version the last answered PUT made. */
  readonly #floor = new Map<string, number>();
  readonly #inFlight = new Set<{ what: string; startedAt: number }>();
  readonly #loops: Promise<void>[] = [];
  #running = true;

  constructor(base: string, options: { boundMs: number; paths?: number; getters?: number }) {
    this.#base = base;
    this.#boundMs = options.boundMs;
    this.#paths = options.paths ?? 12;
    for (let i = 0; i < (options.getters ?? 32); i++) this.#loops.push(this.#getter());
    for (let i = 0; i < 4; i++) this.#loops.push(this.#putter());
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Records a violation for every request in flight for longer than the bound. */
  assertNoHang(): void {
    const now = performance.now();
    for (const f of this.#inFlight) {
      const age = now - f.startedAt;
      if (age > this.#boundMs) this.#violate(`${f.what} still pending after ${Math.round(age)} ms`);
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
    await this.#agent.close();
  }

  #violate(message: string): void {
    if (this.violations.length < 50) this.violations.push(message);
  }

  #path(): string {
    return `/items/${Math.floor(Math.random() * this.#paths)}`;
  }

  async #send(
    method: string,
    path: string,
  ): Promise<{ version: number; xCache: string } | undefined> {
    const flight = { what: `${method} ${path}`, startedAt: performance.now() };
    this.#inFlight.add(flight);
    try {
      const res = await request(`${this.#base}${path}`, {
        method,
        dispatcher: this.#agent,
        headers: { host: 'shop.example' },
      });
      const text = await res.body.text();
      this.counts.requests++;
      this.counts.statuses[res.statusCode] = (this.counts.statuses[res.statusCode] ?? 0) + 1;
      if (res.statusCode !== 200) {
        this.#violate(`${method} ${path} answered ${res.statusCode}: ${text.slice(0, 200)}`);
        return undefined;
      }
      const body = JSON.parse(text) as { path: string; version: number };
      if (body.path !== path) this.#violate(`${method} ${path} answered ${body.path}'s body`);
      const x = res.headers['x-cache'];
      return { version: body.version, xCache: Array.isArray(x) ? x.join() : (x ?? '') };
    } catch (error) {
      this.#violate(`${method} ${path} failed: ${String(error)}`);
      return undefined;
    } finally {
      this.#inFlight.delete(flight);
      const ms = performance.now() - flight.startedAt;
      if (ms > this.counts.slowestMs) this.counts.slowestMs = ms;
      if (ms > this.#boundMs) this.#violate(`${method} ${path} took ${Math.round(ms)} ms`);
    }
  }

  async #getter(): Promise<void> {
    while (this.#running) {
      const path = this.#path();
      const floor = this.#floor.get(path) ?? 0;
      const got = await this.#send('GET', path);
      if (got !== undefined) {
        if (got.xCache === 'HIT') this.counts.hits++;
        if (got.version < floor) {
          this.#violate(
            `GET ${path} answered v${got.version} (${got.xCache}) after PUT made v${floor}`,
          );
        }
      }
      await tick();
    }
  }

  async #putter(): Promise<void> {
    while (this.#running) {
      const path = this.#path();
      const put = await this.#send('PUT', path);
      if (put !== undefined) {
        this.counts.puts++;
        if (put.version > (this.#floor.get(path) ?? 0)) this.#floor.set(path, put.version);
      }
      // Writes are rarer than reads, so entries live long enough to be hits.
      await tick(25);
    }
  }
}
