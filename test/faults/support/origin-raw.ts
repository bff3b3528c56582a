/**
 * A misbehaving origin on raw TCP (node:http's server cannot hang mid-head, lie about its
 * framing or answer with garbage), and the bookkeeping the fault tests assert on: how many
 * requests each path got, how many connections it accepted and how many are still open.
 *
 * Each path has a {@link Behaviour}; the tests switch a path's behaviour mid-test (a hung
 * origin that recovers). Requests are read as HTTP/1.1 heads (GET only, no bodies), several
 * per keep-alive connection.
 */
import { createServer, type Server, type Socket } from 'node:net';

/** What the origin does with one request on `socket`. */
export type Behaviour = (socket: Socket, path: string) => void;

/** A head with the given status and fields (each `Name: value`), CRLF-terminated. */
export function head(status: string, fields: string[]): string {
  return `HTTP/1.1 ${status}\r\n${fields.map((f) => `${f}\r\n`).join('')}\r\n`;
}

/** An honest, cacheable 200 as bytes (`max-age`, or the given `Cache-Control`). */
export function response(body: string, cacheControl = 'max-age=600'): string {
  return (
    head('200 OK', [
      'Content-Type: text/plain',
      `Cache-Control: ${cacheControl}`,
      `Content-Length: ${Buffer.byteLength(body)}`,
    ]) + body
  );
}

/** Answers with {@link response}. */
export function honest(body: string, cacheControl = 'max-age=600'): Behaviour {
  const bytes = response(body, cacheControl);
  return (socket) => socket.write(bytes);
}

/** The head of a cacheable 200 promising `length` bytes. */
export function cacheableHead(length: number): string {
  return head('200 OK', [
    'Content-Type: text/plain',
    'Cache-Control: max-age=600',
    `Content-Length: ${length}`,
  ]);
}

/** Hangs: reads the request and never answers (nor closes). */
export const silent: Behaviour = () => {};

/** Sends part of a head (no blank line), then stalls. */
export const stallInHead: Behaviour = (socket) =>
  socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nCache-Con');

/** Sends a whole head promising 100 bytes and ten of them, then stalls. */
export const stallMidBody: Behaviour = (socket) => socket.write(`${cacheableHead(100)}0123456789`);

/** Resets the connection before any byte of the answer. */
export const resetBeforeHead: Behaviour = (socket) => socket.resetAndDestroy();

/** A head and ten of a hundred bytes, then a reset. */
export const resetMidBody: Behaviour = (socket) =>
  socket.write(`${cacheableHead(100)}0123456789`, () => socket.resetAndDestroy());

/** A hundred bytes promised, ten sent, then a clean close (FIN). */
export const shorterThenClose: Behaviour = (socket) =>
  socket.end(`${cacheableHead(100)}0123456789`);

/** Ten bytes promised, fifteen sent in one write, the connection kept open. */
export const longerInOneWrite: Behaviour = (socket) =>
  socket.write(`${cacheableHead(10)}0123456789EXTRA`);

/**
 * Ten bytes promised and sent; then, a few milliseconds later (when the proxy may already
 * have handed the connection to another request), a whole response nobody asked for.
 */
export function longerLater(surplus: string): Behaviour {
  return (socket) =>
    socket.write(`${cacheableHead(10)}0123456789`, () =>
      setTimeout(() => {
        if (!socket.destroyed) socket.write(response(surplus));
      }, 5),
    );
}

/** Bytes that are not HTTP at all. */
export const garbage: Behaviour = (socket) =>
  socket.write('\x00\x01SSH-2.0-OpenSSH_9.6 not http at all\r\n\r\n');

/** A status line and 64 KiB of header fields (node's limit is 16 KiB), then a body. */
export const hugeHead: Behaviour = (socket) => {
  const fields = Array.from({ length: 512 }, (_, i) => `X-Filler-${i}: ${'x'.repeat(120)}`);
  socket.write(
    `${head('200 OK', ['Cache-Control: max-age=600', 'Content-Length: 2', ...fields])}ok`,
  );
};

/** The raw origin. */
export class RawOrigin {
  readonly #server: Server;
  readonly #behaviours = new Map<string, Behaviour>();
  readonly #requests = new Map<string, number>();
  readonly #open = new Set<Socket>();
  #accepted = 0;
  #url = '';

  constructor() {
    this.#server = createServer((socket) => {
      this.#accepted++;
      this.#open.add(socket);
      socket.on('close', () => this.#open.delete(socket));
      socket.on('error', () => {});
      let pending = '';
      socket.on('data', (chunk) => {
        pending += chunk.toString('latin1');
        for (let end = pending.indexOf('\r\n\r\n'); end !== -1; end = pending.indexOf('\r\n\r\n')) {
          const path = /^[A-Z]+ (\S+)/.exec(pending)?.[1]?.split('?')[0] ?? '';
          pending = pending.slice(end + 4);
          this.#requests.set(path, this.requests(path) + 1);
          const behaviour = this.#behaviours.get(path);
          if (behaviour !== undefined) behaviour(socket, path);
          else socket.write(head('404 Not Found', ['Content-Length: 0']));
        }
      });
    });
  }

  /** Sets (or replaces) what `path` does. */
  on(path: string, behaviour: Behaviour): this {
    this.#behaviours.set(path, behaviour);
    return this;
  }

  /** Requests `path` received so far. */
  requests(path: string): number {
    return this.#requests.get(path) ?? 0;
  }

  /** Connections accepted so far. */
  get accepted(): number {
    return this.#accepted;
  }

  /** Connections still open (the proxy's side not closed yet). */
  get open(): number {
    return this.#open.size;
  }

  /** `http://127.0.0.1:PORT` once listening. */
  get url(): string {
    return this.#url;
  }

  async listen(): Promise<string> {
    await new Promise<void>((ok) => this.#server.listen(0, '127.0.0.1', ok));
    this.#url = `http://127.0.0.1:${(this.#server.address() as { port: number }).port}`;
    return this.#url;
  }

  close(): Promise<void> {
    for (const socket of this.#open) socket.destroy();
    return new Promise((ok) => this.#server.close(() => ok()));
  }
}

/**
 * An origin that falls one answer behind on a connection and stays there: `liar` answers
 * with ten bytes promised and sent, keeping a whole second response (`surplus`) back; from
 * then on each request on that connection is answered with the response held back for the
 * one before it, and its own is held in turn. Once the connection has been quiet for
 * `flushMs`, the held response is sent anyway (it then reaches a resting connection). What
 * a buggy origin that writes after `end()` does to a keep-alive connection, made
 * deterministic: under load the same thing happens by timing.
 */
export function lagging(surplus: string, flushMs: number) {
  const held = new WeakMap<Socket, { bytes: string; timer: NodeJS.Timeout }>();
  const hold = (socket: Socket, bytes: string) => {
    const timer = setTimeout(() => {
      held.delete(socket);
      if (!socket.destroyed) socket.write(bytes);
    }, flushMs);
    held.set(socket, { bytes, timer });
  };
  const answer = (socket: Socket, own: string, first?: string) => {
    const before = held.get(socket);
    if (before === undefined) {
      if (first !== undefined) {
        socket.write(first);
        hold(socket, own);
      } else socket.write(own);
      return;
    }
    clearTimeout(before.timer);
    socket.write(before.bytes);
    hold(socket, first === undefined ? own : first + own);
  };
  return {
    liar: ((socket) =>
      answer(socket, response(surplus), `${cacheableHead(10)}0123456789`)) as Behaviour,
    honest:
      (body: string): Behaviour =>
      (socket) =>
        answer(socket, response(body)),
  };
}
