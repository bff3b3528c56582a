/**
 * A large body through `serve` in both directions, with the proxy's resident memory sampled
 * while it flows: what the streaming test (20 MB) and `bench/serve-stream.ts` (100 MB) run.
 */
import { request } from 'node:http';
import { rssOf, startServe, TestOrigin } from './util.js';

const CHUNK = Buffer.alloc(64 * 1024, 'x');

/** Peak RSS growth of the proxy, in bytes, over its RSS before each transfer. */
export interface StreamingResult {
  download: { bytes: number; growth: number };
  upload: { bytes: number; growth: number };
}

/** Writes `total` bytes to `sink` with backpressure, then ends it. */
function pump(sink: NodeJS.WritableStream, total: number, done: () => void): void {
  let sent = 0;
  const more = () => {
    while (sent < total) {
      const n = Math.min(CHUNK.length, total - sent);
      sent += n;
      if (!sink.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
        sink.once('drain', more);
        return;
      }
    }
    sink.end();
    done();
  };
  more();
}

/** Samples the RSS of `pid` every 10 ms while `work` runs; resolves with the peak growth. */
async function peakGrowth(
  pid: number,
  work: () => Promise<number>,
): Promise<{ bytes: number; growth: number }> {
  const before = rssOf(pid).rss;
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssOf(pid).rss);
  }, 10);
  try {
    const bytes = await work();
    peak = Math.max(peak, rssOf(pid).rss);
    return { bytes, growth: peak - before };
  } finally {
    clearInterval(timer);
  }
}

/** Runs a `bytes` download and a `bytes` upload through a fresh `serve` on memory. */
export async function measureStreaming(bytes: number): Promise<StreamingResult> {
  const origin = new TestOrigin()
    .on('GET /big', (_req, res) => {
      // Marked cacheable on purpose: the cache must give up on it, not buffer it.
      res.writeHead(200, { 'content-length': String(bytes), 'cache-control': 'max-age=60' });
      pump(res, bytes, () => {});
    })
    .on('PUT /big', (req, res) => {
      let n = 0;
      req.on('data', (c: Buffer) => {
        n += c.length;
      });
      req.on('end', () => res.end(String(n)));
    });
  const upstream = await origin.listen();
  const proxy = await startServe(['--upstream', upstream, '--port', '0']);
  const pid = proxy.child.pid!;
  try {
    // Warm up: the first requests load code the big transfers must not be charged for.
    await roundTrip(`${proxy.url}/big`, 'PUT', 1024);
    const download = await peakGrowth(pid, () => roundTrip(`${proxy.url}/big`, 'GET', 0));
    const upload = await peakGrowth(pid, async () => {
      const echoed = await roundTrip(`${proxy.url}/big`, 'PUT', bytes);
      return Number(echoed);
    });
    return { download, upload };
  } finally {
    await proxy.stop();
    await origin.close();
  }
}

/** One request; resolves with the bytes received for a GET, the response text otherwise. */
function roundTrip(url: string, method: 'GET' | 'PUT', uploadBytes: number): Promise<number> {
  return new Promise((ok, fail) => {
    const req = request(
      url,
      { method, headers: method === 'PUT' ? { 'content-length': String(uploadBytes) } : {} },
      (res) => {
        let n = 0;
        let text = '';
        res.on('data', (c: Buffer) => {
          n += c.length;
          if (method === 'PUT') text += c.toString();
        });
        res.on('end', () => ok(method === 'PUT' ? Number(text) : n));
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    if (method === 'PUT') pump(req, uploadBytes, () => {});
    else req.end();
  });
}
