/**
 * A TCP proxy on loopback that a test puts between a cache and its private redis-server, to
 * make the link slow, silent or broken while both ends stay up.
 *
 * - `latency(ms)`: every chunk, both directions, is held `ms` before it is forwarded; order
 *   is kept (a chunk never overtakes one received before it).
 * - `blackhole()`: bytes are accepted and never forwarded, both directions, and nothing
 *   closes: a silent partition. `heal()` ends it and delivers what was held, as TCP
 *   retransmission does when a partition heals without the connection dying. (Dropping the
 *   bytes while keeping the connection would corrupt the stream, which TCP never does.)
 * - `reset()`: destroys every open connection, both sides (the client sees it reset).
 * - `refuse(true)`: new connections are accepted and reset at once, so a client that
 *   reconnects keeps failing until `refuse(false)`.
 * - `heal()`: no latency, no black hole, no refusal.
 *
 * Each accepted connection opens one upstream connection; `upstreamPorts()` lists their
 * local ports, which Redis shows as the client's `addr` in `CLIENT LIST`, so a test can
 * pick (and `CLIENT KILL`) the connections that came through this proxy.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { HOST } from '../../harness/redis.js';

interface Pair {
  client: Socket;
  upstream: Socket;
  toUpstream: Pipe;
  toClient: Pipe;
}

/** One direction of one connection: a FIFO of chunks, each released at its time. */
class Pipe {
  readonly #queue: { at: number; chunk: Buffer }[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly proxy: TcpProxy,
    readonly out: Socket,
  ) {}

  push(chunk: Buffer): void {
    this.#queue.push({ at: performance.now() + this.proxy.latencyMs, chunk });
    this.pump();
  }

  pump(): void {
    if (this.#timer !== undefined) return;
    while (this.#queue.length > 0 && !this.proxy.holding) {
      const head = this.#queue[0] as { at: number; chunk: Buffer };
      const wait = head.at - performance.now();
      if (wait > 0) {
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.pump();
        }, wait);
        return;
      }
      this.#queue.shift();
      if (!this.out.destroyed) this.out.write(head.chunk);
    }
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue.length = 0;
  }
}

export class TcpProxy {
  /** Added to every chunk's forwarding time. */
  latencyMs = 0;
  /** Black hole: chunks are held, not forwarded. */
  holding = false;
  #refusing = false;
  readonly #pairs = new Set<Pair>();
  readonly #server: Server;
  readonly #target: { host: string; port: number };
  /** Connections accepted since the start (refused ones included). */
  accepted = 0;

  private constructor(server: Server, target: { host: string; port: number }) {
    this.#server = server;
    this.#target = target;
    server.on('connection', (socket) => this.#accept(socket));
  }

  /** Listens on a free loopback port and forwards to `target`. */
  static async start(target: { host?: string; port: number }): Promise<TcpProxy> {
    const server = createServer({ noDelay: true });
    const proxy = new TcpProxy(server, { host: target.host ?? HOST, port: target.port });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, HOST, () => resolve());
    });
    return proxy;
  }

  get port(): number {
    const address = this.#server.address();
    if (address === null || typeof address !== 'object') throw new Error('proxy not listening');
    return address.port;
  }

  get url(): string {
    return `redis://${HOST}:${this.port}`;
  }

  /** Open connections through the proxy. */
  get connections(): number {
    return this.#pairs.size;
  }

  /** The local ports of the upstream sockets: Redis's `addr` for these clients. */
  upstreamPorts(): number[] {
    return [...this.#pairs].flatMap((p) =>
      p.upstream.localPort === undefined ? [] : [p.upstream.localPort],
    );
  }

  latency(ms: number): void {
    this.latencyMs = ms;
  }

  blackhole(): void {
    this.holding = true;
  }

  refuse(on: boolean): void {
    this.#refusing = on;
  }

  /** Resets every open connection, both sides. */
  reset(): void {
    for (const pair of [...this.#pairs]) this.#end(pair);
  }

  /** Back to a clean link; bytes held by a black hole are delivered now. */
  heal(): void {
    this.latencyMs = 0;
    this.holding = false;
    this.#refusing = false;
    for (const pair of this.#pairs) {
      pair.toUpstream.pump();
      pair.toClient.pump();
    }
  }

  async close(): Promise<void> {
    this.reset();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    this.accepted++;
    if (this.#refusing) {
      client.resetAndDestroy();
      return;
    }
    client.setNoDelay(true);
    const upstream = tcpConnect({ host: this.#target.host, port: this.#target.port });
    upstream.setNoDelay(true);
    const pair: Pair = {
      client,
      upstream,
      toUpstream: new Pipe(this, upstream),
      toClient: new Pipe(this, client),
    };
    this.#pairs.add(pair);
    client.on('data', (chunk: Buffer) => pair.toUpstream.push(chunk));
    upstream.on('data', (chunk: Buffer) => pair.toClient.push(chunk));
    for (const socket of [client, upstream]) {
      socket.on('error', () => this.#end(pair));
      socket.on('close', () => this.#end(pair));
    }
  }

  #end(pair: Pair): void {
    if (!this.#pairs.delete(pair)) return;
    pair.toUpstream.close();
    pair.toClient.close();
    for (const socket of [pair.client, pair.upstream]) {
      if (!socket.destroyed) socket.resetAndDestroy();
    }
  }
}
