/**
 * The origin `codeai-cache demo` puts the proxy in front of: a small blog API on node:http
 * (the routes of `examples/blog.cai`), answering after 20–60 ms as a service with a
 * database behind it would, and counting every request it serves — the count the demo's
 * "origin calls saved" is computed from. Its data lives in memory and is generated from a
 * fixed seed, so every run shows the same posts.
 */
import { Buffer } from 'node:buffer';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A small deterministic PRNG (mulberry32): the demo's data and latencies repeat run to run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Post {
  id: number;
  title: string;
  body: string;
  authorId: number;
  updatedAt: string;
}
interface Comment {
  id: number;
  postId: number;
  author: string;
  text: string;
}

/** How many posts and authors the blog has. */
export const POSTS = 40;
const AUTHORS = 8;

const WORDS =
  'cache origin latency request stale fresh header proxy memory redis invalidate tag write read policy spec route key value ttl'.split(
    ' ',
  );

/** Options for {@link startDemoOrigin}. */
export interface DemoOriginOptions {
  /** Fastest answer in ms. Default 20. */
  minLatencyMs?: number;
  /** Slowest answer in ms. Default 60. */
  maxLatencyMs?: number;
  seed?: number;
}

/** A running demo origin. */
export interface DemoOrigin {
  url: string;
  /** Requests served so far (every method, every path). */
  readonly calls: number;
  close(): Promise<void>;
}

/** Starts the blog API on a free loopback port. */
export async function startDemoOrigin(options: DemoOriginOptions = {}): Promise<DemoOrigin> {
  const min = options.minLatencyMs ?? 20;
  const max = options.maxLatencyMs ?? 60;
  const random = seededRandom(options.seed ?? 7);
  const word = () => WORDS[Math.floor(random() * WORDS.length)]!;
  const sentence = (n: number) => Array.from({ length: n }, word).join(' ');
  const posts = new Map<number, Post>();
  const comments = new Map<number, Comment[]>();
  const started = new Date('2026-01-05T09:00:00Z').getTime();
  for (let id = 1; id <= POSTS; id++) {
    posts.set(id, {
      id,
      title: `${sentence(3)} (#${id})`,
      body: sentence(60),
      authorId: 1 + (id % AUTHORS),
      updatedAt: new Date(started + id * 3_600_000).toISOString(),
    });
    comments.set(
      id,
      Array.from({ length: 1 + (id % 4) }, (_, i) => ({
        id: i + 1,
        postId: id,
        author: `reader${(id * 7 + i) % 13}`,
        text: sentence(8),
      })),
    );
  }
  let calls = 0;

  const route = (req: IncomingMessage, body: string): [number, unknown] => {
    const url = new URL(req.url ?? '/', 'http://origin');
    const parts = url.pathname.split('/').filter(Boolean);
    if (parts[0] !== 'api') return [404, { error: 'not found' }];
    const [, resource, idText, sub] = parts;
    const id = Number(idText);
    if (resource === 'posts' && idText === undefined && req.method === 'GET') {
      return [200, [...posts.values()].map(({ body: _, ...summary }) => summary)];
    }
    if (resource === 'search' && req.method === 'GET') {
      const q = (url.searchParams.get('q') ?? '').toLowerCase();
      return [200, [...posts.values()].filter((p) => p.title.includes(q)).map((p) => p.id)];
    }
    if (resource === 'authors' && req.method === 'GET' && id >= 1 && id <= AUTHORS) {
      return [
        200,
        {
          id,
          name: `Author ${id}`,
          posts: [...posts.values()].filter((p) => p.authorId === id).map((p) => p.id),
        },
      ];
    }
    const post = resource === 'posts' ? posts.get(id) : undefined;
    if (post === undefined) return [404, { error: 'not found' }];
    if (sub === undefined && req.method === 'GET') return [200, post];
    if (sub === undefined && req.method === 'PUT') {
      const update = parseJson(body);
      if (typeof update?.title === 'string') post.title = update.title;
      if (typeof update?.body === 'string') post.body = update.body;
      post.updatedAt = new Date().toISOString();
      return [200, post];
    }
    const list = comments.get(id)!;
    if (sub === 'comments' && req.method === 'GET') return [200, list];
    if (sub === 'comments' && req.method === 'POST') {
      const input = parseJson(body);
      const comment = {
        id: list.length + 1,
        postId: id,
        author: typeof input?.author === 'string' ? input.author : 'anonymous',
        text: typeof input?.text === 'string' ? input.text : '',
      };
      list.push(comment);
      return [201, comment];
    }
    return [405, { error: 'method not allowed' }];
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    calls++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const [status, payload] = route(req, Buffer.concat(chunks).toString('utf8'));
      const text = JSON.stringify(payload);
      // The time a real service spends in its database, drawn per request.
      setTimeout(
        () => {
          res.writeHead(status, {
            'content-type': 'application/json; charset=utf-8',
            'content-length': Buffer.byteLength(text),
          });
          res.end(text);
        },
        min + random() * (max - min),
      );
    });
  });
  await new Promise<void>((ready, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ready());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get calls() {
      return calls;
    },
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
