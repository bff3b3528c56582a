/**
 * Origins that lie about their framing, written on raw sockets (node's own server would not
 * send these): a body longer or shorter than its `Content-Length`, a connection reset
 * mid-body, broken chunked framing. `serve` must cut the client's response where it cannot
 * be whole, never store what the origin sent, and live on.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServeProcess, send, startServe, until } from './util.js';

/** How the raw origin answers one path. */
type Answer = (socket: Socket) => void;

const HEAD = (fields: string) =>
  `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nCache-Control: max-age=600\r\n${fields}\r\n`;

/** A keep-alive HTTP/1.1 origin on a raw TCP server: GETs only, one answer per path. */
class RawOrigin {
  readonly #server: Server;
  readonly #answers = new Map<string, Answer>();
  readonly #calls = new Map<string, number>();
  /** The socket of the last request for each path. */
  readonly last = new Map<string, Socket>();

  constructor() {
    this.#server = createServer((socket) => {
      let pending = '';
      socket.on('error', () => {});
      socket.on('data', (chunk) => {
        pending += chunk.toString('latin1');
        for (let end = pending.indexOf('\r\n\r\n'); end !== -1; end = pending.indexOf('\r\n\r\n')) {
          const path = /^GET (\S+)/.exec(pending)?.[1]?.split('?')[0] ?? '';
          pending = pending.slice(end + 4);
          this.#calls.set(path, this.count(path) + 1);
          this.last.set(path, socket);
          const answer = this.#answers.get(path);
          if (answer !== undefined) answer(socket);
          else socket.write('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
        }
      });
    });
  }

  on(path: string, answer: Answer): this {
    this.#answers.set(path, answer);
    return this;
  }

  count(path: string): number {
    return this.#calls.get(path) ?? 0;
  }

  async listen(): Promise<string> {
    await new Promise<void>((ok) => this.#server.listen(0, '127.0.0.1', ok));
    return `http://127.0.0.1:${(this.#server.address() as { port: number }).port}`;
  }

  close(): Promise<void> {
    for (const socket of this.last.values()) socket.destroy();
    return new Promise((ok) => this.#server.close(() => ok()));
  }
}

describe('serve in front of an origin whose framing lies', () => {
  const origin = new RawOrigin();
  let proxy: ServeProcess;

  beforeAll(async () => {
    origin
      // Ten bytes promised, fifteen sent in one write.
      .on('/longer', (s) => s.write(`${HEAD('Content-Length: 10\r\n')}0123456789EXTRA`))
      // Ten bytes promised and sent; the test sends more on the same connection later.
      .on('/late', (s) => s.write(`${HEAD('Content-Length: 10\r\n')}0123456789`))
      // A hundred promised, ten sent, then the connection ends cleanly.
      .on('/shorter', (s) => s.end(`${HEAD('Content-Length: 100\r\n')}0123456789`))
      // Part of the body, then a reset.
      .on('/reset', (s) => {
        s.write(`${HEAD('Content-Length: 100\r\n')}0123456789`, () => s.resetAndDestroy());
      })
      // A chunk size that is not hexadecimal.
      .on('/bad-chunk', (s) =>
        s.write(`${HEAD('Transfer-Encoding: chunked\r\n')}5\r\nhello\r\nZZ\r\nworld\r\n0\r\n\r\n`),
      )
      // The control: honest framing, stored.
      .on('/honest', (s) => s.write(`${HEAD('Content-Length: 10\r\n')}0123456789`));
    const upstream = await origin.listen();
    proxy = await startServe(['--upstream', upstream, '--port', '0']);
  });
  afterAll(async () => {
    await proxy?.stop();
    await origin.close();
  });

  it('stores an honest response (the control)', async () => {
    expect((await send(`${proxy.url}/honest`)).headers['x-cache']).toBe('MISS');
    const hit = await send(`${proxy.url}/honest`);
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.body).toBe('0123456789');
    expect(origin.count('/honest')).toBe(1);
  });

  it.each(['/longer', '/shorter', '/reset', '/bad-chunk'])(
    '%s: the client sees the cut, nothing is stored, the proxy lives on',
    async (path) => {
      for (let i = 1; i <= 2; i++) {
        await expect(send(`${proxy.url}${path}`)).rejects.toThrow();
        expect(origin.count(path)).toBe(i);
      }
      expect((await send(`${proxy.url}/__cache/health`)).status).toBe(200);
      expect(proxy.child.exitCode).toBeNull();
    },
  );

  it('regression: a body longer than its Content-Length whose extra bytes come late does not stay stored', async () => {
    const first = await send(`${proxy.url}/late`);
    // The proxy cannot know yet: the first ten bytes are all the client is owed.
    expect(first.body).toBe('0123456789');
    origin.last.get('/late')!.write('EXTRA BYTES');
    await until('the proxy to report the extra bytes', () =>
      /sent more than its Content-Length.*\/late/.test(proxy.stderr()),
    );
    const second = await send(`${proxy.url}/late`);
    expect(second.headers['x-cache']).toBe('MISS');
    expect(origin.count('/late')).toBe(2);
    expect(proxy.child.exitCode).toBeNull();
  });
});
