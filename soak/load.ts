/**
 * The soak's load: reads with several users' credentials (and anonymous ones on public
 * routes) and writes through the proxies, spread over both instances at a steady rate, each
 * answer handed to the checker. undici, one connection pool per instance.
 *
 * Every request carries the same `Host` (as a load balancer in front of both instances
 * sends), so the instances share entries and a write through one invalidates the other's.
 */
import { Pool } from 'undici';
import type { Oracle, ReadQuestion } from './oracle.js';
import { resourceOf, tokenOf, type WriteBody } from './origin.js';
import type { Outcome } from './report.js';

/** The `Host` every request carries. */
export const SOAK_HOST = 'soak.example';

export interface LoadOptions {
  /** The serve instances' base URLs. */
  targets: string[];
  /** Requests per second, all instances together. */
  rate: number;
  /** Requests in flight at most; beyond it a tick's requests are not sent (counted). */
  maxInFlight: number;
  /** Share of requests that are writes. */
  writeShare: number;
  users: string[];
  /** The highest post id the origin has created (writes go only to those). */
  lastPost(): number;
  oracle: Oracle;
  /** ms since the start, for `Outcome.at`. */
  now(): number;
  onOutcome(o: Outcome): void;
  onShed(): void;
}

/** No request may hang the soak: far above the 5 s bar, so a slow answer is still measured. */
const REQUEST_TIMEOUT_MS = 30_000;
const LANGS = ['en', 'fr', 'de'];

interface Planned {
  kind: 'read' | 'write';
  method: string;
  path: string;
  /** Who sends it; `undefined`: anonymous. */
  user: string | undefined;
  lang?: string;
}

/** Runs the load until `stop()`; `done` resolves once every request in flight has finished. */
export class Load {
  readonly #o: LoadOptions;
  readonly #pools: Pool[];
  #inFlight = 0;
  #timer: NodeJS.Timeout | undefined;
  #credit = 0;
  #last = 0;
  #drained: (() => void) | undefined;

  constructor(options: LoadOptions) {
    this.#o = options;
    this.#pools = options.targets.map(
      (url) =>
        new Pool(url, {
          connections: Math.ceil(options.maxInFlight / options.targets.length),
          headersTimeout: REQUEST_TIMEOUT_MS,
          bodyTimeout: REQUEST_TIMEOUT_MS,
        }),
    );
  }

  start(): void {
    this.#last = performance.now();
    // Ticks every 10 ms send what the rate owes since the last tick.
    this.#timer = setInterval(() => this.#tick(), 10);
  }

  /** Stops sending; resolves when the requests in flight have finished. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    if (this.#inFlight > 0) await new Promise<void>((ok) => (this.#drained = ok));
    await Promise.all(this.#pools.map((p) => p.close()));
  }

  #tick(): void {
    const now = performance.now();
    this.#credit = Math.min(this.#credit + ((now - this.#last) * this.#o.rate) / 1000, 50);
    this.#last = now;
    while (this.#credit >= 1) {
      this.#credit--;
      if (this.#inFlight >= this.#o.maxInFlight) {
        this.#o.onShed();
        continue;
      }
      const instance = Math.floor(Math.random() * this.#pools.length);
      void this.#send(instance, this.#plan());
    }
  }

  #plan(): Planned {
    const users = this.#o.users;
    const user = users[Math.floor(Math.random() * users.length)]!;
    const r = Math.random();
    const note = 1 + Math.floor(Math.random() * 4);
    const last = this.#o.lastPost();
    // Mostly hot posts; sometimes one not created yet (a 404 a later POST must invalidate).
    const post =
      Math.random() < 0.8
        ? 1 + Math.floor(Math.random() * 10)
        : 1 + Math.floor(Math.random() * (last + 2));
    if (r < this.#o.writeShare) {
      const w = Math.random();
      if (w < 0.35) return { kind: 'write', method: 'PUT', path: `/api/me/notes/${note}`, user };
      if (w < 0.43) return { kind: 'write', method: 'DELETE', path: `/api/me/notes/${note}`, user };
      if (w < 0.58) return { kind: 'write', method: 'PUT', path: '/api/me/profile', user };
      if (w < 0.85) {
        const id = 1 + Math.floor(Math.random() * Math.min(10, last));
        return { kind: 'write', method: 'PUT', path: `/api/posts/${id}`, user };
      }
      if (w < 0.92) {
        const id = 1 + Math.floor(Math.random() * Math.min(10, last));
        return { kind: 'write', method: 'DELETE', path: `/api/posts/${id}`, user };
      }
      return { kind: 'write', method: 'POST', path: '/api/posts', user };
    }
    const k = Math.random();
    if (k < 0.3) return { kind: 'read', method: 'GET', path: `/api/me/notes/${note}`, user };
    if (k < 0.4) return { kind: 'read', method: 'GET', path: '/api/me/notes', user };
    if (k < 0.55) {
      const lang = LANGS[Math.floor(Math.random() * LANGS.length)]!;
      return { kind: 'read', method: 'GET', path: '/api/me/profile', user, lang };
    }
    // Public reads: half with credentials (the origin marks them public), half anonymous.
    const who = Math.random() < 0.5 ? user : undefined;
    if (k < 0.85) return { kind: 'read', method: 'GET', path: `/api/posts/${post}`, user: who };
    return { kind: 'read', method: 'GET', path: '/api/posts', user: who };
  }

  async #send(instance: number, p: Planned): Promise<void> {
    this.#inFlight++;
    const headers: Record<string, string> = { host: SOAK_HOST };
    if (p.user !== undefined) headers.authorization = tokenOf(p.user);
    if (p.lang !== undefined) headers['accept-language'] = p.lang;
    let body: string | undefined;
    if (p.method === 'PUT' || p.method === 'POST') {
      body = JSON.stringify({ text: 'soak' });
      headers['content-type'] = 'application/json';
    }
    const at = this.#o.now();
    const startedAt = performance.now();
    const question: ReadQuestion | undefined =
      p.kind === 'read'
        ? {
            resource: resourceOf(p.path, p.user)!,
            expectedUser: p.path.startsWith('/api/me') ? p.user! : 'public',
            ...(p.lang !== undefined ? { lang: p.lang } : {}),
            startedAt,
          }
        : undefined;
    const outcome: Outcome = {
      at,
      latencyMs: 0,
      instance,
      kind: p.kind,
      method: p.method,
      path: p.path,
      user: p.user ?? 'anonymous',
      status: 0,
      xCache: undefined,
    };
    try {
      const res = await this.#pools[instance]!.request({
        path: p.path,
        method: p.method as 'GET',
        headers,
        ...(body !== undefined ? { body } : {}),
      });
      const text = await res.body.text();
      const ackedAt = performance.now();
      outcome.latencyMs = ackedAt - startedAt;
      outcome.status = res.statusCode;
      const xCache = res.headers['x-cache'];
      outcome.xCache = typeof xCache === 'string' ? xCache : undefined;
      if (question !== undefined && res.statusCode < 500) {
        outcome.verdict = this.#o.oracle.check(question, res.statusCode, text);
      }
      if (p.kind === 'write' && res.statusCode >= 200 && res.statusCode < 300) {
        // Acknowledged: from now (+1 s) every read of what it changed must show it.
        const written = JSON.parse(text) as WriteBody;
        for (const c of written.changed) this.#o.oracle.ack(c.resource, c.version, ackedAt);
      }
    } catch (err) {
      outcome.latencyMs = performance.now() - startedAt;
      outcome.error = (err as Error).message;
    } finally {
      this.#inFlight--;
      this.#o.onOutcome(outcome);
      if (this.#inFlight === 0) this.#drained?.();
    }
  }
}
