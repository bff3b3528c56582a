/**
 * A raw HTTP client for the scenarios: node's `http.request`, so bodies arrive byte for byte
 * (no automatic decompression) and repeated header lines stay visible.
 */
import { type Agent, type IncomingHttpHeaders, request } from 'node:http';

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

/** Resolves once `check` holds, polling every few ms; rejects after `ms`. */
export async function until(check: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
