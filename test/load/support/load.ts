/**
 * Drivers and probes shared by the load scenarios (docs/reliability.md, "Load"): a gate that
 * holds a factory or an origin open until every caller is in, a counting origin on loopback,
 * an in-process HTTP burst driver on undici, a scan of every key on a private Redis, and a
 * snapshot of the process's active handles to compare before and after.
 */
import { createHook } from 'node:async_hooks';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import { type Listening, listen as listenOnLoopback } from '../../harness/listen.js';

export type { Listening };

/** A promise the test opens by hand: factories and origins wait on it. */
export interface Gate {
  readonly opened: Promise<void>;
  open(): void;
}

export function gate(): Gate {
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { opened, open };
}

/**
 * The harness's loopback server (test/harness/listen.ts), with keep-alive held for a
 * minute: the load drivers keep their connections open across a whole scenario.
 */
export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Listening> {
  const listening = await listenOnLoopback(handler);
  listening.server.keepAliveTimeout = 60_000;
  return listening;
}

/** Counts requests reaching `server` (before any other listener). */
export function countRequests(server: Server): { count(): number; onEach(f: () => void): void } {
  let n = 0;
  const listeners: (() => void)[] = [];
  server.prependListener('request', () => {
    n++;
    for (const f of listeners) f();
  });
  return { count: () => n, onEach: (f) => listeners.push(f) };
}

/** One answered request of a burst. */
export interface Answer {
  status: number;
  xCache: string | undefined;
  body: Buffer;
}

/**
 * Sends `n` GETs for `path` to `origin` at once over `connections` keep-alive connections
 * (undici pipelines nothing: one request per connection at a time), and returns every answer.
 */
export async function burst(
  origin: string,
  paths: readonly string[],
  connections: number,
): Promise<Answer[]> {
  const pool = new Pool(origin, { connections, pipelining: 1, headersTimeout: 60_000 });
  try {
    return await Promise.all(
      paths.map(async (path) => {
        const res = await pool.request({ path, method: 'GET' });
        const body = Buffer.from(await res.body.arrayBuffer());
        const x = res.headers['x-cache'];
        return { status: res.statusCode, xCache: typeof x === 'string' ? x : undefined, body };
      }),
    );
  } finally {
    await pool.close();
  }
}

/** Every key on a (private) Redis with its PTTL, by SCAN. */
export async function scanAll(url: string): Promise<Map<string, number>> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  const out = new Map<string, number>();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scanBuffer(cursor, 'COUNT', 1000);
      cursor = next.toString();
      if (keys.length === 0) continue;
      const p = client.pipeline();
      for (const k of keys) p.pttl(k);
      const replies = (await p.exec()) ?? [];
      for (const [i, k] of keys.entries()) out.set(k.toString('latin1'), Number(replies[i]?.[1]));
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
  return out;
}

/**
 * The process's active resources (timers, sockets, …) by type, as counts. Handles that the
 * test runner itself holds are the same before and after, so a difference is ours.
 */
export function resources(): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) out.set(r, (out.get(r) ?? 0) + 1);
  return out;
}

/** Types whose count grew from `before` to `after`, with how much. */
export function grown(before: Map<string, number>, after: Map<string, number>): string[] {
  const out: string[] = [];
  for (const [type, n] of after) {
    const was = before.get(type) ?? 0;
    if (n > was) out.push(`${type} +${n - was}`);
  }
  return out;
}

/** Waits a few event-loop turns (closing sockets emit `close` a tick or two later). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

/** The library's source folder: a timer created with it on the stack is the library's. */
const SRC = new URL('../../../src/', import.meta.url).pathname;

/**
 * Tracks the timers (`setTimeout` / `setInterval`, ref'd or not: `getActiveResourcesInfo`
 * lists only ref'd ones) that the library creates from now on — those with a frame of
 * `src/` on their creation stack, so the test runner's own (vitest's `waitFor`) do not
 * count — so a test can ask how many are still alive.
 */
export function trackTimers(): { alive(): string[]; stop(): void } {
  const live = new Map<number, string>();
  const hook = createHook({
    init(id, type) {
      if (type !== 'Timeout') return;
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 30;
      const stack = new Error().stack ?? '';
      Error.stackTraceLimit = limit;
      if (stack.includes(SRC)) live.set(id, stack.split('\n').slice(5, 9).join(' < '));
    },
    destroy(id) {
      live.delete(id);
    },
  });
  hook.enable();
  return { alive: () => [...live.values()], stop: () => hook.disable() };
}

/** What a paced run did. */
export interface Paced {
  issued: number;
  errors: unknown[];
  /** The most calls issued in one batch (a late timer makes a batch larger). */
  maxBatch: number;
  /** Calls answered per second over the run, from the first call to the last answer. */
  rate: number;
  ms: number;
}

/**
 * Issues `call` at `perSecond` for `ms` (in batches every few milliseconds: timers are not
 * finer than that), never waiting for an answer before the next call, then waits for all.
 * A machine that cannot keep up issues late rather than dropping calls; `rate` tells.
 */
export async function paced(
  perSecond: number,
  ms: number,
  call: (i: number) => Promise<unknown>,
): Promise<Paced> {
  const errors: unknown[] = [];
  const pending: Promise<unknown>[] = [];
  const t0 = performance.now();
  let issued = 0;
  let maxBatch = 0;
  const total = Math.round((perSecond * ms) / 1000);
  while (issued < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) * perSecond) / 1000));
    maxBatch = Math.max(maxBatch, due - issued);
    for (; issued < due; issued++) {
      pending.push(call(issued).catch((e: unknown) => errors.push(e)));
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  await Promise.all(pending);
  const took = performance.now() - t0;
  return { issued, errors, maxBatch, rate: (issued * 1000) / took, ms: took };
}

/**
 * Sends GETs for `path` as fast as `connections` keep-alive connections allow, for `ms`;
 * returns the answers' statuses and `X-Cache` values by count, and the rate reached.
 */
export async function flat(
  origin: string,
  path: (i: number) => string,
  connections: number,
  ms: number,
): Promise<{
  done: number;
  rate: number;
  status: Map<number, number>;
  xCache: Map<string, number>;
}> {
  const pool = new Pool(origin, { connections, pipelining: 1 });
  const status = new Map<number, number>();
  const xCache = new Map<string, number>();
  let done = 0;
  let next = 0;
  const t0 = performance.now();
  const end = t0 + ms;
  const worker = async () => {
    while (performance.now() < end) {
      const res = await pool.request({ path: path(next++), method: 'GET' });
      await res.body.dump();
      status.set(res.statusCode, (status.get(res.statusCode) ?? 0) + 1);
      const x = String(res.headers['x-cache'] ?? 'none');
      xCache.set(x, (xCache.get(x) ?? 0) + 1);
      done++;
    }
  };
  try {
    await Promise.all(Array.from({ length: connections }, worker));
  } finally {
    await pool.close();
  }
  return { done, rate: (done * 1000) / (performance.now() - t0), status, xCache };
}
