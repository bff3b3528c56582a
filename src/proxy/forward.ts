/**
 * The forwarding half of the proxy: one request to the upstream over a keep-alive pool,
 * bodies streamed both ways with backpressure (nothing is buffered beyond the streams'
 * high-water marks), status and reason phrase, repeated fields, trailers and 1xx interim
 * responses passed on.
 *
 * Why node:http's Agent and not undici: undici's pool is faster per request, but the proxy
 * must pass 1xx responses (RFC 9110 §15.2) and trailers (§6.5) through, and both arrive on
 * node:http's client as plain events (`information`, `rawTrailers`) that map one-to-one onto
 * node:http's server response (`writeContinue`, `writeEarlyHints`, `addTrailers`). The
 * measurement is in the README ("serve").
 *
 * Failure. No answer (refused, reset before the head) is `502`, no head within the timeout
 * is `504`, each with a short text body; the caching layer may swap either for a stale entry
 * (stale-if-error). A body cut short (reset, or fewer bytes than `Content-Length`) destroys
 * the client's response, so the client sees the truncation and the cache's recorder aborts:
 * a partial body is never stored.
 */
import { Buffer } from 'node:buffer';
import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { timerDelay } from '../core/duration.js';
import { endToEnd, mergeRepeated, upstreamRequestHeaders } from './headers.js';

/** What the forwarder needs to know. */
export interface ForwarderOptions {
  upstream: URL;
  timeoutMs: number;
  trustProxy: boolean;
  /** Called once the upstream's response head arrived (or it failed), with the wait in ms. */
  onOrigin?: (ms: number, status: number) => void;
  /**
   * Called when a pooled connection turns out to be out of step — bytes arrive on it after
   * its last response ended, or node's parser drops it mid-exchange on a second response —
   * with the requests answered on it (the last one last; at most {@link HISTORY_MAX}) and,
   * in the second case, the one it was answering.
   */
  onStray?: (requests: Rested[]) => void;
}

/** A request answered on a pooled connection. */
export interface Rested {
  method: string;
  url: string;
  host: string | undefined;
}

/**
 * How many answered requests a connection remembers for {@link ForwarderOptions.onStray}.
 * An origin that sends more than it promised puts the connection one response ahead: each
 * later request on it reads the previous one's answer, and under load (the connection reused
 * at once) nothing shows it until the connection rests long enough for the surplus to arrive
 * while nobody waits. Every answer read since may belong to another request, so all of them
 * are dropped, not only the last; past this many, the oldest are forgotten.
 */
const HISTORY_MAX = 256;

/** Forwards requests to one upstream over a keep-alive pool. */
export class Forwarder {
  readonly #upstream: URL;
  readonly #timeoutMs: number;
  readonly #trustProxy: boolean;
  readonly #agent: HttpAgent;
  readonly #request: typeof httpRequest;
  readonly #onOrigin: ((ms: number, status: number) => void) | undefined;
  readonly #onStray: ForwarderOptions['onStray'];
  /** Pooled connections between two exchanges, and the request each one answered last. */
  readonly #resting = new WeakMap<Socket, Rested>();
  /** The requests each pooled connection answered, oldest first (see {@link HISTORY_MAX}). */
  readonly #history = new WeakMap<Socket, Rested[]>();
  /** The request each pooled connection is answering now. */
  readonly #current = new WeakMap<Socket, Rested>();
  /** Connections already reported out of step. */
  readonly #reported = new WeakSet<Socket>();
  /** Connections with the stray-bytes watcher on. */
  readonly #watched = new WeakSet<Socket>();
  /** The path prefix of the upstream URL (`http://o/api` sends `/x` as `/api/x`). */
  readonly #base: string;

  constructor(options: ForwarderOptions) {
    this.#upstream = options.upstream;
    this.#timeoutMs = options.timeoutMs;
    this.#trustProxy = options.trustProxy;
    this.#onOrigin = options.onOrigin;
    this.#onStray = options.onStray;
    const https = options.upstream.protocol === 'https:';
    // LIFO keeps the fewest sockets warm; the pool grows with concurrency, never bounded
    // below the client's: a proxy that queues adds latency the origin did not cause.
    const agentOptions = { keepAlive: true, scheduling: 'lifo' as const, maxFreeSockets: 256 };
    this.#agent = https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.#request = https ? (httpsRequest as typeof httpRequest) : httpRequest;
    this.#base = options.upstream.pathname.replace(/\/$/, '');
  }

  /** Forwards `req` and writes the upstream's answer to `res`. Never throws. */
  forward(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const upstream = this.#upstream;
    let answered = false;
    const origin = (status: number) => {
      if (answered) return;
      answered = true;
      this.#onOrigin?.(performance.now() - started, status);
    };
    const out = this.#request({
      protocol: upstream.protocol,
      hostname: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: this.#base + (req.url ?? '/'),
      headers: upstreamRequestHeaders(req, this.#trustProxy),
      agent: this.#agent,
      // Node would otherwise add its own Host; the client's travels as sent (it was kept above).
      setHost: false,
    });
    const request: Rested = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      host: req.headers.host,
    };
    out.on('socket', (socket) => this.#inUse(socket, request));
    const timer = setTimeout(() => {
      origin(504);
      fail(504, 'Gateway Timeout', 'upstream did not answer in time\n');
      out.destroy();
    }, timerDelay(this.#timeoutMs));

    const fail = (status: number, reason: string, body: string) => {
      clearTimeout(timer);
      if (res.headersSent || res.writableEnded) {
        res.destroy(new Error(body.trim()));
        return;
      }
      res.writeHead(status, reason, {
        'content-type': 'text/plain; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        via: '1.1 codeai-cache',
      });
      res.end(body);
    };

    // 1xx interim responses (RFC 9110 §15.2): passed on as they come, never cached. Written
    // raw: node's writeEarlyHints rejects valid `Link` lists (several links on one line),
    // and the fields come from node's parser, so they hold no CR or LF.
    out.on('information', (info) => {
      const socket = res.socket;
      if (res.headersSent || socket === null || !socket.writable) return;
      if (info.statusCode === 100) {
        res.writeContinue();
        return;
      }
      let head = `HTTP/1.1 ${info.statusCode} ${info.statusMessage}\r\n`;
      const raw = info.rawHeaders;
      for (let i = 0; i < raw.length; i += 2) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
      socket.write(`${head}\r\n`);
    });

    out.on('response', (up) => {
      clearTimeout(timer);
      origin(up.statusCode ?? 502);
      // Reading the body has its own bound: an upstream that stalls mid-body is cut off.
      // The socket is pooled: the listener must go when this response is done, or every
      // reuse would add one.
      const socket = up.socket;
      const onIdle = () => up.destroy(new Error('upstream body timeout'));
      socket.setTimeout(timerDelay(this.#timeoutMs));
      socket.on('timeout', onIdle);
      const release = () => {
        socket.off('timeout', onIdle);
        socket.setTimeout(0);
      };
      const status = up.statusCode ?? 502;
      res.writeHead(status, up.statusMessage ?? '', mergeRepeated(endToEnd(up.rawHeaders)));
      let complete = false;
      // A write's response keeps its last chunk for `end()`: the cache holds `end()` until
      // the write's invalidation has landed, and a client reading a Content-Length body
      // counts it complete at its last byte — sent any earlier, a read on another
      // instance could still see the entry the write replaced. At most one chunk is kept.
      const holdLast = req.method !== 'GET' && req.method !== 'HEAD';
      let last: Buffer | undefined;
      up.on('end', () => {
        complete = true;
        release();
        // Back to the pool (node frees it after this tick): from now on, a byte is a lie.
        this.#resting.set(socket, request);
        let history = this.#history.get(socket);
        if (history === undefined) {
          history = [];
          this.#history.set(socket, history);
        }
        history.push(request);
        if (history.length > HISTORY_MAX) history.shift();
        if (up.rawTrailers.length > 0) res.addTrailers(pairs(up.rawTrailers));
        res.end(last);
      });
      // A reset or a body shorter than its Content-Length: node's client emits 'aborted' /
      // 'error' and never 'end'. The client must see the cut, and nothing may be stored.
      // Destroyed with an error, so the cache tells followers of this miss the origin failed
      // (rather than sending each of them to it in turn).
      up.on('aborted', () => res.destroy(new Error('upstream response aborted')));
      up.on('error', (err) => res.destroy(err));
      up.on('close', () => {
        release();
        if (!complete) res.destroy(new Error('upstream response cut short'));
      });
      if (!holdLast) {
        up.pipe(res, { end: false });
        return;
      }
      res.on('drain', () => up.resume());
      up.on('data', (chunk: Buffer) => {
        const previous = last;
        last = chunk;
        if (previous !== undefined && !res.write(previous)) up.pause();
      });
    });

    out.on('error', (err: NodeJS.ErrnoException) => {
      // Already answered (the 504 above, whose `out.destroy()` lands here): nothing to add.
      if (res.writableEnded) return;
      if (answered && res.headersSent) {
        res.destroy(err);
        return;
      }
      origin(502);
      fail(502, 'Bad Gateway', `upstream unreachable: ${err.code ?? err.message}\n`);
    });

    // The client went away: stop the upstream exchange too.
    res.on('close', () => {
      clearTimeout(timer);
      if (!res.writableFinished) out.destroy();
    });
    req.on('error', () => out.destroy());
    req.pipe(out);
  }

  /** A connection starts an exchange: its bytes are the response's until it rests again. */
  #inUse(socket: Socket, request: Rested): void {
    this.#resting.delete(socket);
    this.#current.set(socket, request);
    if (this.#watched.has(socket)) return;
    this.#watched.add(socket);
    // During an exchange node's parser has its own 'data' listener (before or after this one:
    // node adds it again on each reuse); between exchanges this one is the only reader.
    const outOfStep = () => {
      // A connection node's parser destroyed on these very bytes got a second response after
      // the one it was reading, or bytes that do not parse: it was out of step. When it had
      // answered earlier requests, those answers (and this one) may each have been another
      // request's.
      const history = this.#history.get(socket);
      if (!socket.destroyed || history === undefined || this.#reported.has(socket)) return;
      this.#reported.add(socket);
      const current = this.#current.get(socket);
      this.#onStray?.(current === undefined ? history : [...history, current]);
    };
    socket.on('data', () => {
      const rested = this.#resting.get(socket);
      if (rested === undefined) {
        // Looked at once the parser has had these bytes too.
        process.nextTick(outOfStep);
        return;
      }
      this.#resting.delete(socket);
      this.#reported.add(socket);
      socket.destroy();
      this.#onStray?.(this.#history.get(socket) ?? [rested]);
    });
  }

  /** Closes the pool's idle sockets; in-flight requests keep theirs. */
  close(): void {
    this.#agent.destroy();
  }
}

function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}
