/**
 * The node:http / Connect / Express handler — node is the platform, so it lives here rather
 * than among the optional framework adapters. A hit is written with one `writeHead` and one
 * `end`. A miss wraps `writeHead`, `write` and `end` on the response: whatever path the
 * handler takes (`setHeader` + `end`, `writeHead` + several `write`s, Express's `res.json`),
 * Node funnels it through those three, so the recorder sees the final status and headers
 * before a byte is sent (`X-Cache` goes out with them) and every body byte after.
 */
import { Buffer } from 'node:buffer';
import { IncomingMessage, type OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Writable } from 'node:stream';
import type { CodeAIPlan } from '../codeai/plan.js';
import type { CachingMiddleware } from './caching-middleware.js';
import { type FlatHeaders, flattenHeaders } from './headers.js';
import {
  applyEdits,
  BackgroundRefresh,
  type FinishWrite,
  type ForwardEdits,
  forwardEdits,
  nodeHeaderGetter,
  planSelector,
  type Selector,
  toNodeHeaders,
} from './kernel.js';
import { PlanRoutes } from './plan-routes.js';
import type { ReadContext } from './read-context.js';
import type { Recorder } from './recorder.js';
import type { ReplayResponse } from './replay.js';
import type { Outcome } from './route.js';

/** A Connect/Express-style handler; `next` (or the `origin` given to `handler`) produces the response. */
export type NodeHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next?: (error?: unknown) => void,
) => void;

/** The origin for plain node:http use, when there is no `next`. */
export type NodeOrigin = (req: IncomingMessage, res: ServerResponse) => void;

type Chunk = string | Uint8Array | null | undefined;
type Callback = (error?: Error | null) => void;
type AnyFn = (...args: unknown[]) => unknown;

/** Builds the node handler for the requests `select` picks. */
export function nodeHandler(select: Selector, origin?: NodeOrigin): NodeHandler {
  const pass = (
    req: IncomingMessage,
    res: ServerResponse,
    next?: (error?: unknown) => void,
  ): unknown => {
    if (next !== undefined) next();
    // An async origin's promise is handed back, so a miss can see it reject.
    else if (origin !== undefined) return origin(req, res) as unknown;
    else {
      res.statusCode = 404;
      res.end();
    }
  };
  const proceed = (
    outcome: Outcome,
    ctx: ReadContext,
    req: IncomingMessage,
    res: ServerResponse,
    next: ((error?: unknown) => void) | undefined,
  ) => {
    if (outcome.kind === 'replay') {
      send(res, outcome.response);
      return;
    }
    editRequest(req, forwardEdits(ctx, outcome));
    const instead = tee(res, outcome.recorder);
    // An origin we call ourselves (no `next`) that throws, or returns a promise that
    // rejects, before its head: a stale must-revalidate entry gets a 504 (RFC 9111 §5.2.2.2).
    // Under Express (`next`) the framework catches the error and answers 500 itself; the
    // recorder takes that 5xx as the origin failing (RFC 9111 §4.3.3) and answers 504 too.
    const failed = (error: unknown) => {
      const gateway = res.headersSent ? undefined : outcome.recorder.originFailed();
      if (gateway === undefined) throw error;
      instead(gateway);
    };
    let out: unknown;
    try {
      out = pass(req, res, next);
    } catch (error) {
      failed(error);
      return;
    }
    if (isThenable(out)) out.then(undefined, failed);
  };
  // stale-while-revalidate (RFC 5861 §3): the first stale request is answered at once and
  // the route is re-run in the background on a detached request / response pair (see
  // `shadowExchange`), marked so that the re-run skips the lookup, fetches and stores.
  const refresher = new BackgroundRefresh();
  const shadows = new WeakSet<IncomingMessage>();
  /** How to re-run this request's route: our own origin, else the Express app around us. */
  const rerunOf = (req: IncomingMessage, next: unknown): NodeOrigin | undefined => {
    if (next === undefined) return origin === undefined ? undefined : handler;
    const app = (req as { app?: unknown }).app;
    return typeof app === 'function' ? (app as NodeOrigin) : undefined;
  };
  const refreshInBackground = (req: IncomingMessage, url: string, key: string, rerun: NodeOrigin) =>
    refresher.start(key, () => {
      const shadow = shadowExchange(req, url);
      shadows.add(shadow.req);
      const done = new Promise<void>((resolve) => {
        shadow.res.once('finish', resolve);
        shadow.res.once('close', resolve);
      });
      rerun(shadow.req, shadow.res);
      return done;
    });
  const handler: NodeHandler = (req, res, next) => {
    // Express keeps the full target in originalUrl when the middleware is mounted on a path.
    const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
    const step = select(req.method ?? 'GET', url, nodeHeaderGetter(req.headers));
    if (step.kind === 'read') {
      const { route, ctx } = step;
      let outcome: Outcome | Promise<Outcome>;
      if (shadows.has(req)) {
        // Our own background refresh: skip the lookup, fetch and store.
        outcome = route.refresh(ctx);
      } else {
        const rerun = rerunOf(req, next);
        outcome = route.lookup(
          ctx,
          rerun && (() => refreshInBackground(req, url, ctx.primary, rerun)),
        );
      }
      // A memory hit answers synchronously: the response goes out in this same tick.
      if (!(outcome instanceof Promise)) {
        proceed(outcome, ctx, req, res, next);
        return;
      }
      outcome.then(
        (o) => proceed(o, ctx, req, res, next),
        (error: unknown) => {
          if (next !== undefined) next(error);
          else pass(req, res, next);
        },
      );
      return;
    }
    if (step.kind !== 'pass') {
      res.setHeader('x-cache', 'BYPASS');
      if (step.kind === 'write') holdEndUntilInvalidated(res, step.finish);
    }
    pass(req, res, next);
  };
  return handler;
}

/**
 * A copy of a read for a background refresh: a GET with the same target and headers, no body, on
 * a socket with the original connection's facts (see {@link connectionFacts}), and a response
 * whose bytes go nowhere (a sink socket, so node emits 'finish' as usual).
 */
function shadowExchange(
  req: IncomingMessage,
  url: string,
): { req: IncomingMessage; res: ServerResponse } {
  const copy = new IncomingMessage(connectionFacts(req.socket));
  // A stale HEAD refreshes the GET it was answered from (HEAD responses are never stored).
  copy.method = 'GET';
  copy.url = url;
  copy.headers = { ...req.headers };
  // Both views, as node's parser leaves them: an origin that forwards the raw list (the
  // proxy, `serve`) would otherwise send a request with no fields at all, not even `Host`.
  copy.rawHeaders = [...req.rawHeaders];
  copy.push(null);
  const res = new ServerResponse(copy);
  const sink = new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
  // An origin that destroys the response with an error (`serve`'s forwarder, when the
  // origin's body breaks off) destroys this socket with it: nobody reads it, and an 'error'
  // with no listener would crash the process.
  sink.on('error', () => {});
  res.assignSocket(sink as unknown as Socket);
  return { req: copy, res };
}

/**
 * An unconnected socket that reports what `from` tells about the client: the peer's address,
 * port and family, and `encrypted` when it came over TLS. An origin that reads them — the
 * proxy's `X-Forwarded-For` / `-Proto`, Express's `req.ip` / `req.protocol` — sees the same
 * client for the background refresh as for the request that triggered it. Read now, while
 * that connection is open (a closed socket forgets its peer).
 */
function connectionFacts(from: Socket | null): Socket {
  const socket = new Socket();
  if (from === null) return socket;
  const facts: Record<string, unknown> = {
    remoteAddress: from.remoteAddress,
    remotePort: from.remotePort,
    remoteFamily: from.remoteFamily,
    encrypted: (from as { encrypted?: unknown }).encrypted === true ? true : undefined,
  };
  for (const [name, value] of Object.entries(facts)) {
    // Own properties over the prototype's getters, which would ask the unconnected handle.
    if (value !== undefined) Object.defineProperty(socket, name, { value, enumerable: true });
  }
  return socket;
}

/**
 * Applies the cache's edits to both of node's views of the request: the record
 * (`req.headers`) and the raw list (`req.rawHeaders`), so an origin reading either — a proxy
 * forwards the raw list, for its repeated fields and their casing — sends the request the
 * cache decided (its validators in, the client's conditionals and Range out). Fields the
 * edits do not name keep their place, case and repeats; the fields set go last.
 */
function editRequest(req: IncomingMessage, edits: ForwardEdits | undefined): void {
  if (edits === undefined) return;
  applyEdits(req.headers, edits);
  const named = new Set(edits.remove);
  for (let i = 0; i < edits.set.length; i += 2) named.add(edits.set[i]!);
  const raw = req.rawHeaders;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!named.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  }
  req.rawHeaders = out.concat(edits.set);
}

/**
 * One handler for a whole app from a CodeAI plan: caches the plan's cached GET endpoints,
 * holds a successful write's response until the GETs it invalidates are dropped, and leaves
 * everything else alone (plan-routes.ts). The response comes from `next` or `origin`.
 */
export function planHandler(
  middleware: CachingMiddleware,
  plan: CodeAIPlan,
  origin?: NodeOrigin,
): NodeHandler {
  return nodeHandler(planSelector(new PlanRoutes(middleware, plan)), origin);
}

/** Writes a stored response. */
export function send(res: ServerResponse, response: ReplayResponse): void {
  // Node takes a flat list as is, but folds repeated names when headers were set before.
  res.writeHead(
    response.status,
    response.repeatedNames ? toNodeHeaders(response.headers) : response.headers,
  );
  res.end(response.body);
}

/** The headers a `writeHead(status, [reason], [headers])` call will send, lowercase and flat. */
function headHeaders(res: ServerResponse, reason: unknown, obj: unknown): FlatHeaders {
  const extra = typeof reason === 'string' ? obj : reason;
  const base = flattenHeaders(res.getHeaders() as OutgoingHttpHeaders as Record<string, string>);
  if (extra === undefined || extra === null) return base;
  const given: FlatHeaders = [];
  if (Array.isArray(extra)) {
    for (let i = 0; i + 1 < extra.length; i += 2) {
      const v = extra[i + 1] as string | string[];
      const name = String(extra[i]).toLowerCase();
      for (const one of Array.isArray(v) ? v : [v]) given.push(name, String(one));
    }
  } else {
    flattenHeaders(extra as Record<string, string>, given);
  }
  // Headers given to writeHead replace those set earlier with setHeader (node's rule).
  const names = new Set<string>();
  for (let i = 0; i < given.length; i += 2) names.add(given[i]!);
  const out: FlatHeaders = [];
  for (let i = 0; i < base.length; i += 2) {
    if (!names.has(base[i]!)) out.push(base[i]!, base[i + 1]!);
  }
  return out.concat(given);
}

function toBytes(chunk: Chunk, encoding: unknown): Uint8Array | undefined {
  if (chunk === undefined || chunk === null) return undefined;
  if (typeof chunk === 'string') {
    return Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  }
  return chunk;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Tees a miss through `recorder`, or replaces it when the recorder says so. Returns how to
 * answer with another response when the origin failed before its head (past the tee).
 */
function tee(res: ServerResponse, recorder: Recorder): (response: ReplayResponse) => void {
  const origWriteHead = res.writeHead as AnyFn;
  const origWrite = res.write as AnyFn;
  const origEnd = res.end as AnyFn;
  let headed = false;
  let replacement: ReplayResponse | undefined;
  let ended = false;

  res.writeHead = function writeHead(this: ServerResponse, ...args: unknown[]) {
    if (headed) {
      // A second head: what the client gets is no longer what was recorded. Node answers it
      // as it always does (it throws once the head is out); nothing is stored.
      recorder.abort('headers-twice');
      return origWriteHead.apply(this, args);
    }
    headed = true;
    const status = Number(args[0]);
    const action = recorder.head(status, headHeaders(res, args[1], args[2]));
    if (action.replace !== undefined) {
      replacement = action.replace;
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      return origWriteHead.call(
        this,
        replacement.status,
        replacement.repeatedNames ? toNodeHeaders(replacement.headers) : replacement.headers,
      );
    }
    res.setHeader('x-cache', action.xCache);
    return origWriteHead.apply(this, args);
  } as ServerResponse['writeHead'];

  res.write = function write(this: ServerResponse, chunk: Chunk, ...rest: unknown[]) {
    if (ended) return writeAfterEnd(res, recorder, rest);
    if (!headed) res.writeHead(res.statusCode);
    const bytes = toBytes(chunk, rest[0]);
    if (bytes !== undefined) recorder.chunk(bytes);
    if (replacement !== undefined) {
      // The origin's body is recorded but not sent: the replacement goes out at end().
      const cb = rest.find((a) => typeof a === 'function') as Callback | undefined;
      if (cb) process.nextTick(cb);
      return true;
    }
    return origWrite.call(this, chunk, ...rest) as boolean;
  } as ServerResponse['write'];

  res.end = function end(this: ServerResponse, ...args: unknown[]) {
    let chunk: Chunk;
    let encoding: unknown;
    let cb: Callback | undefined;
    if (typeof args[0] === 'function') cb = args[0] as Callback;
    else {
      chunk = args[0] as Chunk;
      if (typeof args[1] === 'function') cb = args[1] as Callback;
      else {
        encoding = args[1];
        cb = args[2] as Callback | undefined;
      }
    }
    if (ended) {
      if (chunk !== undefined && chunk !== null) writeAfterEnd(res, recorder, [cb]);
      else if (cb !== undefined) process.nextTick(cb);
      return this;
    }
    ended = true;
    if (!headed) {
      // What node does for an end(data) without a head: a Content-Length for the data.
      if (
        chunk !== undefined &&
        chunk !== null &&
        !res.hasHeader('content-length') &&
        !res.hasHeader('transfer-encoding')
      ) {
        const len =
          typeof chunk === 'string'
            ? Buffer.byteLength(chunk, encoding as BufferEncoding)
            : chunk.length;
        res.setHeader('content-length', len);
      }
      res.writeHead(res.statusCode);
    }
    const bytes = toBytes(chunk, encoding);
    if (bytes !== undefined) recorder.chunk(bytes);
    const out =
      replacement !== undefined
        ? (origEnd.call(this, replacement.body, cb) as ServerResponse)
        : (origEnd.apply(this, args) as ServerResponse);
    // Stored once node has sent it all ('finish' always comes after end() returns): a write
    // after end() in the same tick still voids it.
    res.once('finish', () => recorder.end());
    return out;
  } as ServerResponse['end'];

  // Trailers (RFC 9110 §6.5), announced or not: the response is not stored (cacheability.ts).
  const origAddTrailers = res.addTrailers as AnyFn;
  res.addTrailers = function addTrailers(this: ServerResponse, ...args: unknown[]) {
    const given = args[0];
    if (given !== null && typeof given === 'object' && Object.keys(given).length > 0) {
      recorder.abort('trailers');
    }
    return origAddTrailers.apply(this, args);
  } as ServerResponse['addTrailers'];
  // A reset before the last byte went out (the client's, or the handler destroying the
  // response): nothing is stored. After 'finish' the recorder is done and this is a no-op.
  // Destroyed with an error (`res.destroy(err)`: the origin's body failed, as `serve`'s
  // forwarder reports it), followers of this flight are told the origin failed.
  res.once('close', () => (res.errored ? recorder.originBroke() : recorder.abort()));
  return (response) => {
    ended = true;
    headed = true;
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    origWriteHead.call(res, response.status, response.headers);
    origEnd.call(res, response.body);
  };
}

/**
 * A write after `end()`: node sends nothing more and reports `ERR_STREAM_WRITE_AFTER_END`
 * to the callback and as an `'error'` event. The client gets the same; the response is not
 * stored; the event is emitted only to a listener, so the cache never turns a handler's slip
 * into an uncaught exception that crashes the server.
 */
function writeAfterEnd(res: ServerResponse, recorder: Recorder, rest: unknown[]): boolean {
  recorder.abort('write-after-end');
  const cb = rest.find((a) => typeof a === 'function') as Callback | undefined;
  const error = Object.assign(new Error('write after end'), { code: 'ERR_STREAM_WRITE_AFTER_END' });
  process.nextTick(() => {
    cb?.(error);
    if (res.listenerCount('error') > 0) res.emit('error', error);
  });
  return false;
}

/** Makes `res.end` wait for the invalidation a successful write triggers. */
function holdEndUntilInvalidated(res: ServerResponse, finish: FinishWrite): void {
  const origWriteHead = res.writeHead as AnyFn;
  const origEnd = res.end as AnyFn;
  let decided = false;
  let pending: Promise<void> | undefined;
  const decide = (status: number, flat: FlatHeaders | undefined) => {
    if (decided) return;
    decided = true;
    const get = (name: string) => {
      if (flat !== undefined) {
        for (let i = 0; i < flat.length; i += 2) if (flat[i] === name) return flat[i + 1];
      }
      const v = res.getHeader(name);
      return v === undefined ? undefined : String(v);
    };
    pending = finish(status, get('location'), get('content-location'));
  };
  res.writeHead = function writeHead(this: ServerResponse, ...args: unknown[]) {
    decide(Number(args[0]), headHeaders(res, args[1], args[2]));
    return origWriteHead.apply(this, args);
  } as ServerResponse['writeHead'];
  res.end = function end(this: ServerResponse, ...args: unknown[]) {
    if (!res.headersSent) decide(res.statusCode, undefined);
    if (pending === undefined) return origEnd.apply(this, args) as ServerResponse;
    const wait = pending;
    pending = undefined;
    wait.then(() => origEnd.apply(this, args));
    return this;
  } as ServerResponse['end'];
}
