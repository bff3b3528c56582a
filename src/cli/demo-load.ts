/**
 * The load `codeai-cache demo` drives: a fixed mix of a blog's traffic (mostly reads of a
 * few popular posts, some lists, comments and authors, an uncached search, and a few
 * writes), sent by a handful of concurrent keep-alive clients, each request's latency and
 * `X-Cache` outcome recorded. Nothing here knows about the cache: it is a plain HTTP client.
 */
import { Buffer } from 'node:buffer';
import { Agent, request } from 'node:http';
import { POSTS, seededRandom } from './demo-origin.js';

/** One request of the workload. */
export interface LoadRequest {
  method: 'GET' | 'PUT' | 'POST';
  path: string;
  body?: string;
}

/** What one run of the workload measured. */
export interface LoadResult {
  /** Milliseconds per request, in completion order. */
  latencies: number[];
  /** Responses by `X-Cache` value; `none` when the response had none. */
  outcomes: Record<string, number>;
  /** Requests that failed (no response, or a 5xx). */
  errors: number;
}

/** A blog's traffic: popularity follows Zipf(1) over the posts, as page views tend to. */
export function blogWorkload(count: number, seed = 11): LoadRequest[] {
  const random = seededRandom(seed);
  const weights = Array.from({ length: POSTS }, (_, i) => 1 / (i + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const popularPost = () => {
    let r = random() * total;
    for (let i = 0; i < POSTS; i++) {
      r -= weights[i]!;
      if (r <= 0) return i + 1;
    }
    return POSTS;
  };
  const out: LoadRequest[] = [];
  for (let i = 0; i < count; i++) {
    const r = random();
    if (r < 0.6) out.push({ method: 'GET', path: `/api/posts/${popularPost()}` });
    else if (r < 0.72) out.push({ method: 'GET', path: '/api/posts' });
    else if (r < 0.84) out.push({ method: 'GET', path: `/api/posts/${popularPost()}/comments` });
    else if (r < 0.92)
      out.push({ method: 'GET', path: `/api/authors/${1 + Math.floor(random() * 8)}` });
    else if (r < 0.97)
      out.push({ method: 'GET', path: `/api/search?q=${'cache proxy ttl'.split(' ')[i % 3]}` });
    else if (r < 0.985) {
      out.push({
        method: 'POST',
        path: `/api/posts/${popularPost()}/comments`,
        body: JSON.stringify({ author: 'load', text: `comment ${i}` }),
      });
    } else {
      const id = popularPost();
      out.push({
        method: 'PUT',
        path: `/api/posts/${id}`,
        body: JSON.stringify({ title: `Post ${id}, edited (${i})` }),
      });
    }
  }
  return out;
}

/** A response as the demo reads it. */
export interface Answer {
  status: number;
  xCache: string | undefined;
  body: string;
  ms: number;
}

/** Sends one request over `agent`; resolves with the whole answer. */
export function send(base: string, req: LoadRequest, agent?: Agent): Promise<Answer> {
  const started = performance.now();
  return new Promise((done, fail) => {
    const url = new URL(req.path, base);
    const out = request(
      url,
      {
        method: req.method,
        agent,
        headers:
          req.body === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(req.body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('end', () => {
          const x = res.headers['x-cache'];
          done({
            status: res.statusCode ?? 0,
            xCache: Array.isArray(x) ? x[0] : x,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
          });
        });
      },
    );
    out.on('error', fail);
    out.end(req.body);
  });
}

/** Runs `requests` against `base`, `concurrency` at a time, reporting progress after each. */
export async function drive(
  base: string,
  requests: readonly LoadRequest[],
  options: { concurrency: number; onProgress?: (done: number, result: LoadResult) => void },
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const result: LoadResult = { latencies: [], outcomes: {}, errors: 0 };
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const req = requests[next++]!;
      try {
        const answer = await send(base, req, agent);
        result.latencies.push(answer.ms);
        const outcome = answer.xCache ?? 'none';
        result.outcomes[outcome] = (result.outcomes[outcome] ?? 0) + 1;
        if (answer.status >= 500) result.errors++;
      } catch {
        result.errors++;
      }
      options.onProgress?.(result.latencies.length + result.errors, result);
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return result;
}

/** The `p`-th percentile (0–100) of `values`, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/**
 * Progress of a run: a bar redrawn in place on a terminal (at most every 50 ms), plain
 * lines at each quarter anywhere else, so a log or a CI job gets four lines, not a thousand.
 */
export class Progress {
  readonly #out: { write(s: string): unknown };
  readonly #tty: boolean;
  readonly #total: number;
  #drawnAt = 0;
  #quarter = 0;

  constructor(out: { write(s: string): unknown; isTTY?: boolean }, total: number) {
    this.#out = out;
    this.#tty = out.isTTY === true;
    this.#total = total;
  }

  /** `done` of the total finished; `note` is shown beside the count. */
  update(done: number, note = ''): void {
    if (this.#tty) {
      const now = performance.now();
      if (done < this.#total && now - this.#drawnAt < 50) return;
      this.#drawnAt = now;
      const width = 30;
      const filled = Math.round((done / this.#total) * width);
      this.#out.write(
        `\r  [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${String(done).padStart(String(this.#total).length)}/${this.#total}${note === '' ? '' : `  ${note}`}\x1b[K`,
      );
      if (done === this.#total) this.#out.write('\n');
      return;
    }
    const quarter = Math.floor((done / this.#total) * 4);
    if (quarter > this.#quarter) {
      this.#quarter = quarter;
      this.#out.write(`  ${done}/${this.#total} requests${note === '' ? '' : `, ${note}`}\n`);
    }
  }
}
