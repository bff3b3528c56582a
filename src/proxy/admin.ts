/**
 * `/__cache/*`: health, metrics and invalidation. Reachable from loopback clients only, or,
 * with an admin token, only with `Authorization: Bearer <token>` (from anywhere).
 *
 * "Loopback" means a person on this machine, so without a token three things that look
 * local but are not are refused: a request relayed by a reverse proxy on this machine (it
 * carries `Forwarded`, `X-Forwarded-For`, `X-Real-IP` or `Via`: the client is elsewhere), a
 * browser page of another site reaching 127.0.0.1 through DNS rebinding (its `Host` names
 * that site, not a loopback address), and a cross-site form posting to the invalidation
 * route (it cannot send `Content-Type: application/json` without a CORS preflight, which
 * this server never grants).
 */
import { Buffer } from 'node:buffer';
import { createHash, timingSafeEqual } from 'node:crypto';
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

/** Fields a relaying proxy adds: with one of them, a loopback peer is not the client. */
const RELAYED = ['forwarded', 'x-forwarded-for', 'x-real-ip', 'via'];

/** `localhost`, `127.x.x.x` or `[::1]`, with or without a port. */
const LOOPBACK_HOST = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i;

/** SHA-256 of `text`: equal-length buffers for a comparison whose time says nothing. */
function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Whether `req` may use the admin routes. */
export function allowed(req: IncomingMessage, token: string | undefined): boolean {
  if (token !== undefined) {
    // Digests, so neither the token's bytes nor its length shape the comparison's time.
    const given = req.headers.authorization ?? '';
    return timingSafeEqual(sha256(given), sha256(`Bearer ${token}`));
  }
  const peer = req.socket.remoteAddress ?? '';
  const local =
    peer === '127.0.0.1' ||
    peer === '::1' ||
    peer.startsWith('::ffff:127.') ||
    peer.startsWith('127.');
  if (!local) return false;
  if (RELAYED.some((name) => req.headers[name] !== undefined)) return false;
  return req.headers.host === undefined || LOOPBACK_HOST.test(req.headers.host);
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
      // Without a token: a JSON content type cannot come from a cross-site form or a no-cors
      // fetch (it needs a CORS preflight). With one, the browser cannot add it cross-site.
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (host.token === undefined && type !== 'application/json') {
        req.resume();
        return json(res, 415, { error: 'send the body as Content-Type: application/json' });
      }
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
