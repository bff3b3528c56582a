/**
 * The soak's origin: a real node:http server on loopback whose every answer says whom it
 * is for and which version of what it shows, so the checker can tell a wrong-user or stale
 * answer from a right one.
 *
 * Resources and their versions (a version only ever grows, deletes included):
 * - `u:<user>:note:<id>` — `GET /api/me/notes/:id`, private; `PUT` / `DELETE` change it.
 * - `u:<user>:notes` — `GET /api/me/notes`, private; every write to one of the user's notes.
 * - `u:<user>:profile` — `GET /api/me/profile`, private, in the `Accept-Language` asked for.
 * - `post:<id>` — `GET /api/posts/:id`, public; `PUT` / `DELETE` / a `POST` that creates it.
 * - `posts` — `GET /api/posts`, public; every write to any post.
 * A write answers `{ changed: [{ resource, version }] }`: the versions the write made, which
 * the checker holds later reads to once the write is acknowledged.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Listening, listen } from '../test/harness/listen.js';

/** The body of every GET answer. */
export interface ReadBody {
  /** The user the answer is for, or `"public"`. */
  user: string;
  resource: string;
  version: number;
  /** Present on `/api/me/profile`: the language the answer is in. */
  lang?: string;
  /** A deleted (or never created) resource: the answer is a 404. */
  missing?: boolean;
}

/** The body of every successful write answer. */
export interface WriteBody {
  user: string;
  changed: { resource: string; version: number }[];
}

/** Users and their bearer tokens: `Authorization: Bearer tok-<user>`. */
export function tokenOf(user: string): string {
  return `Bearer tok-${user}`;
}

/** The resource key a read of `path` by `user` concerns (`undefined`: not a soak route). */
export function resourceOf(path: string, user: string | undefined): string | undefined {
  let m = /^\/api\/me\/notes\/(\d+)$/.exec(path);
  if (m !== null) return user === undefined ? undefined : `u:${user}:note:${m[1]}`;
  if (path === '/api/me/notes') return user === undefined ? undefined : `u:${user}:notes`;
  if (path === '/api/me/profile') return user === undefined ? undefined : `u:${user}:profile`;
  m = /^\/api\/posts\/(\d+)$/.exec(path);
  if (m !== null) return `post:${m[1]}`;
  if (path === '/api/posts') return 'posts';
  return undefined;
}

/** The soak origin; see the file comment. */
export class SoakOrigin {
  #listening: Listening | undefined;
  readonly #versions = new Map<string, number>();
  readonly #deleted = new Set<string>();
  #nextPost: number;
  /** Requests answered, by method. */
  readonly counts = { reads: 0, writes: 0 };

  constructor(initialPosts: number) {
    this.#nextPost = initialPosts + 1;
  }

  /** The highest post id created so far. */
  get lastPost(): number {
    return this.#nextPost - 1;
  }

  async listen(): Promise<string> {
    this.#listening = await listen((req, res) => {
      // A write's body is read whole before it is answered (a PUT carries a small JSON body).
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.#handle(req, res));
      req.on('error', () => res.destroy());
    });
    this.#listening.server.keepAliveTimeout = 10_000;
    return this.#listening.url;
  }

  async close(): Promise<void> {
    await this.#listening?.close();
  }

  #version(resource: string): number {
    return this.#versions.get(resource) ?? 1;
  }

  #bump(resource: string): number {
    const v = this.#version(resource) + 1;
    this.#versions.set(resource, v);
    return v;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0]!;
    const auth = req.headers.authorization;
    const user = auth?.startsWith('Bearer tok-') ? auth.slice('Bearer tok-'.length) : undefined;
    if (path.startsWith('/api/me') && user === undefined) {
      send(res, 401, { 'cache-control': 'no-store' }, { error: 'login required' });
      return;
    }
    if (method === 'GET' || method === 'HEAD') {
      this.counts.reads++;
      this.#read(res, path, user);
      return;
    }
    this.counts.writes++;
    this.#write(res, method, path, user ?? 'anonymous');
  }

  #read(res: ServerResponse, path: string, user: string | undefined): void {
    const resource = resourceOf(path, user);
    if (resource === undefined) {
      send(res, 404, { 'cache-control': 'no-store' }, { error: 'no route' });
      return;
    }
    const isPublic = !resource.startsWith('u:');
    const body: ReadBody = {
      user: isPublic ? 'public' : user!,
      resource,
      version: this.#version(resource),
    };
    if (resource.endsWith(':profile')) {
      body.lang = (res.req.headers['accept-language'] ?? 'en').split(',')[0]!.trim();
    }
    // A post never created is missing as a deleted one is: a 404 the cache may keep.
    const postId = /^post:(\d+)$/.exec(resource)?.[1];
    const missing =
      this.#deleted.has(resource) || (postId !== undefined && Number(postId) >= this.#nextPost);
    if (missing) body.missing = true;
    // Public answers say so: requests carrying Authorization may then share them (RFC 9111
    // §3.5). Private ones state no freshness: the spec's per-user policy decides.
    const headers: Record<string, string> = isPublic ? { 'cache-control': 'public' } : {};
    const etag = `"${resource}-v${body.version}${missing ? '-gone' : ''}"`;
    headers.etag = etag;
    // Revalidation (RFC 9110 §13.1.2): the cache's stored copy is still this version.
    if (res.req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    send(res, missing ? 404 : 200, headers, body);
  }

  #write(res: ServerResponse, method: string, path: string, user: string): void {
    const changed: WriteBody['changed'] = [];
    const change = (resource: string, deleted?: boolean) => {
      if (deleted === true) this.#deleted.add(resource);
      else if (deleted === false) this.#deleted.delete(resource);
      changed.push({ resource, version: this.#bump(resource) });
    };
    let m = /^\/api\/me\/notes\/(\d+)$/.exec(path);
    if (m !== null && (method === 'PUT' || method === 'DELETE')) {
      change(`u:${user}:note:${m[1]}`, method === 'DELETE');
      change(`u:${user}:notes`);
      send(res, 200, {}, { user, changed } satisfies WriteBody);
      return;
    }
    if (path === '/api/me/profile' && method === 'PUT') {
      change(`u:${user}:profile`);
      send(res, 200, {}, { user, changed } satisfies WriteBody);
      return;
    }
    if (path === '/api/posts' && method === 'POST') {
      const id = this.#nextPost++;
      change(`post:${id}`, false);
      change('posts');
      send(res, 201, { location: `/api/posts/${id}` }, { user, changed } satisfies WriteBody);
      return;
    }
    m = /^\/api\/posts\/(\d+)$/.exec(path);
    if (m !== null && (method === 'PUT' || method === 'DELETE')) {
      const id = Number(m[1]);
      // The load writes only to posts already created; anything else is not found.
      if (id >= this.#nextPost) {
        send(res, 404, { 'cache-control': 'no-store' }, { error: 'no such post' });
        return;
      }
      change(`post:${id}`, method === 'DELETE');
      change('posts');
      send(res, 200, {}, { user, changed } satisfies WriteBody);
      return;
    }
    send(res, 405, { 'cache-control': 'no-store' }, { error: 'method not allowed' });
  }
}

function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: unknown,
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}
