/**
 * Bodies stream through `serve`. Backpressure is the proof: a reader that stops reading
 * stops the writer on the other side of the proxy, long before the body is through — a
 * proxy that held bodies would let the writer finish. The proxy's RSS is also sampled
 * during a 20 MB download and upload; the 100 MB run of that check (the bar: growth under
 * 64 MB) is `npx tsx bench/serve-stream.ts`.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureStreaming } from './streaming.js';
import { type ServeProcess, startServe, TestOrigin, until } from './util.js';

const MB = 1024 * 1024;
const TOTAL = 64 * MB;
const CHUNK = Buffer.alloc(64 * 1024, 'y');

/** A writer that counts what it got rid of and says when it is blocked on backpressure. */
class Writer {
  sent = 0;
  blocked = false;
  constructor(
    readonly sink: NodeJS.WritableStream,
    readonly total: number,
  ) {}
  start(): void {
    const more = () => {
      this.blocked = false;
      while (this.sent < this.total) {
        this.sent += CHUNK.length;
        if (!this.sink.write(CHUNK)) {
          this.blocked = true;
          this.sink.once('drain', more);
          return;
        }
      }
      this.sink.end();
    };
    more();
  }
}

/** Resolves once `writer` is blocked and has sent nothing more across two polls 300 ms apart. */
async function stalled(writer: Writer): Promise<void> {
  let last = -1;
  await until(
    'the writer to stall',
    async () => {
      const now = writer.sent;
      const still = writer.blocked && now === last;
      last = now;
      if (!still) await new Promise((r) => setTimeout(r, 300));
      return still || writer.sent >= writer.total;
    },
    30_000,
  );
}

describe('serve streams bodies', () => {
  const origin = new TestOrigin();
  let proxy: ServeProcess;
  let downloadWriter: Writer | undefined;
  let uploadReceived = 0;

  beforeAll(async () => {
    origin
      .on('GET /big', (_req, res) => {
        res.writeHead(200, { 'content-length': String(TOTAL), 'cache-control': 'max-age=60' });
        downloadWriter = new Writer(res, TOTAL);
        downloadWriter.start();
      })
      .on('PUT /big', (req) => {
        // Reads one chunk, then stops reading.
        req.once('data', (c: Buffer) => {
          uploadReceived += c.length;
          req.pause();
        });
      });
    proxy = await startServe(['--upstream', await origin.listen(), '--port', '0']);
  });
  afterAll(async () => {
    await proxy?.stop();
    await origin.close();
  });

  it('a client that stops reading stops the origin writing (download)', async () => {
    const req = request(`${proxy.url}/big`);
    const response = new Promise<NodeJS.ReadableStream>((ok) => req.on('response', ok));
    req.end();
    const res = await response;
    res.pause();
    await until('the origin to start writing', () => downloadWriter !== undefined);
    await stalled(downloadWriter!);
    expect(downloadWriter!.sent).toBeLessThan(TOTAL / 2);
    req.destroy();
  });

  it('an origin that stops reading stops the client writing (upload)', async () => {
    const req = request(`${proxy.url}/big`, {
      method: 'PUT',
      headers: { 'content-length': String(TOTAL) },
    });
    req.on('error', () => {});
    const writer = new Writer(req, TOTAL);
    writer.start();
    await until('the origin to receive the start', () => uploadReceived > 0);
    await stalled(writer);
    expect(writer.sent).toBeLessThan(TOTAL / 2);
    req.destroy();
  });

  it.runIf(process.platform === 'linux')(
    'passes 20 MB down and 20 MB up with the proxy RSS growing less than 64 MB',
    async () => {
      const r = await measureStreaming(20 * MB);
      expect(r.download.bytes).toBe(20 * MB);
      expect(r.upload.bytes).toBe(20 * MB);
      expect(r.download.growth).toBeLessThan(64 * MB);
      expect(r.upload.growth).toBeLessThan(64 * MB);
    },
    60_000,
  );
});
