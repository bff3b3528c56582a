/**
 * A raw HTTP client for the scenarios: node's `http.request`, so bodies arrive byte for byte
 * (no automatic decompression) and repeated header lines stay visible.
 */
import diagnostics from 'node:diagnostics_channel';
import { type Agent, get, type IncomingHttpHeaders, request } from 'node:http';
import { channelName } from '../../src/core/events.js';

/** A response as received. */
export interface Received {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  xCache: string | undefined;
}

/** Sends one request and buffers the response. */
export function send(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; agent?: Agent } = {},
): Promise<Received> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}${path}`,
      { method: options.method ?? 'GET', headers: options.headers, agent: options.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const x = res.headers['x-cache'];
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text: body.toString('utf8'),
            xCache: Array.isArray(x) ? x.join(',') : x,
          });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * What a client of a possibly broken server saw, as one string: `"<status> <body>"`, or
 * `"<status> aborted"` when the body was cut, or `"error"` when no response came. Sent with
 * `Connection: close`, so a body shorter than its length ends with the socket.
 */
export function outcome(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = get(url, { headers: { connection: 'close' }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(`${res.statusCode} ${Buffer.concat(chunks).toString()}`));
      res.on('error', () => resolve(`${res.statusCode} aborted`));
      res.on('aborted', () => resolve(`${res.statusCode} aborted`));
    });
    req.on('error', () => resolve('error'));
  });
}

/**
 * Counts the cache misses of this process from now on, through the diagnostics channel
 * every cache publishes on: each request's cache read shows up there, so a test can wait
 * until every request it sent has read the cache (and, a turn later, joined a flight).
 */
export function countCacheMisses(): { readonly count: number; stop(): void } {
  const channel = channelName('miss');
  let count = 0;
  const onMiss = () => {
    count++;
  };
  diagnostics.subscribe(channel, onMiss);
  return {
    get count() {
      return count;
    },
    stop: () => diagnostics.unsubscribe(channel, onMiss),
  };
}

/** Resolves once `check` holds, polling every few ms; rejects after `ms` (10 s by default). */
export async function until(check: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
