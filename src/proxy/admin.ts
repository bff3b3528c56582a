/**
 * `/__cache/*`: health, metrics and invalidation. Reachable from loopback clients only, or,
 * with an admin token, only with `Authorization: Bearer <token>` (from anywhere).
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The prefix the proxy keeps for itself; never forwarded. */
export const ADMIN_PREFIX = '/__cache/';

/** What the admin routes act on. */
export interface AdminHost {
  token: string | undefined;
  health(): Promise<Record<string, unknown>>;
  metrics(): Promise<{ body: string; contentType: string }>;
  invalidate(tags: string[]): Promise<void>;
  /** The path tag of `path` on `host` (what a write to that path invalidates). */
  pathTag(host: string, path: string): string;
}

/** Largest invalidation body read: a list of tags, not an upload. */
const MAX_BODY = 64 * 1024;

/** Whether `req` may use the admin routes. */
export function allowed(req: IncomingMessage, token: string | undefined): boolean {
  if (token !== undefined) {
    const given = req.headers.authorization ?? '';
    const want = Buffer.from(`Bearer ${token}`);
    const got = Buffer.from(given);
    return got.length === want.length && timingSafeEqual(got, want);
  }
  const peer = req.socket.remoteAddress ?? '';
  return (
    peer === '127.0.0.1' ||
    peer === '::1' ||
    peer.startsWith('::ffff:127.') ||
    peer.startsWith('127.')
  );
}

/** Answers one `/__cache/*` request. */
export async function admin(
  req: IncomingMessage,
  res: ServerResponse,
  host: AdminHost,
): Promise<void> {
  if (!allowed(req, host.token)) {
    req.resume();
    const www: Record<string, string> =
      host.token !== undefined ? { 'www-authenticate': 'Bearer' } : {};
    return json(res, host.token !== undefined ? 401 : 403, { error: 'forbidden' }, www);
  }
  const path = (req.url ?? '').split('?')[0];
  try {
    if (path === '/__cache/health' && (req.method === 'GET' || req.method === 'HEAD')) {
      return json(res, 200, await host.health());
    }
    if (path === '/__cache/metrics' && (req.method === 'GET' || req.method === 'HEAD')) {
      const { body, contentType } = await host.metrics();
      res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
      res.end(body);
      return;
    }
    if (path === '/__cache/invalidate') {
      if (req.method !== 'POST') return json(res, 405, { error: 'use POST' }, { allow: 'POST' });
      const body = await readJson(req);
      const tags: string[] = [];
      if (Array.isArray(body.tags) && body.tags.every((t) => typeof t === 'string' && t !== '')) {
        tags.push(...(body.tags as string[]));
      } else if (body.tags !== undefined) {
        return json(res, 400, { error: 'tags must be an array of non-empty strings' });
      }
      if (typeof body.path === 'string' && body.path.startsWith('/')) {
        const where = typeof body.host === 'string' ? body.host : (req.headers.host ?? '');
        tags.push(host.pathTag(where, body.path));
      } else if (body.path !== undefined) {
        return json(res, 400, { error: 'path must start with "/"' });
      }
      if (tags.length === 0) return json(res, 400, { error: 'give "tags" (array) or "path"' });
      await host.invalidate(tags);
      return json(res, 200, { invalidated: tags });
    }
    req.resume();
    return json(res, 404, { error: 'not found' });
  } catch (err) {
    return json(res, 400, { error: (err as Error).message });
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(chunk);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new Error('body must be JSON such as {"tags":["posts"]} or {"path":"/posts/1"}');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error('body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

function json(
  res: ServerResponse,
  status: number,
  value: unknown,
  extra: Record<string, string> = {},
): void {
  const body = `${JSON.stringify(value)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...extra,
  });
  res.end(body);
}
