/**
 * A client on raw TCP that reports exactly what it saw, so a fault test can tell a clean
 * answer from a cut one and from one that claims a length it never delivers while the
 * connection stays open (a client hanging on it forever). node's own client would turn
 * several of these into one generic error.
 *
 * One request per connection, keep-alive (no `Connection: close`), so the proxy has to end
 * a broken response by closing the connection, not by our asking.
 */
import { connect } from 'node:net';

/** How the exchange ended. */
export type Ending =
  /** every byte the framing promised arrived, and no more */
  | 'complete'
  /** the connection closed before the promised bytes (the client can tell it is cut) */
  | 'cut'
  /** nothing had closed and the promised bytes had not all come by the deadline */
  | 'stuck'
  /** more bytes than the framing allows (would be read as another response) */
  | 'overrun'
  /** closed (or reset) before a whole head */
  | 'no-head'
  /** the bytes are not an HTTP/1.1 response */
  | 'bad-framing';

/** What one client saw. */
export interface Seen {
  ending: Ending;
  status: number;
  /** Lowercased names; a repeated field keeps its last value. */
  headers: Record<string, string>;
  body: string;
  /** Milliseconds from connecting to the ending. */
  ms: number;
}

/**
 * `GET path` on `base` (`http://127.0.0.1:PORT`); gives up after `deadlineMs` (the ending
 * is then `stuck`, or `no-head`).
 */
export function rawGet(
  base: string,
  path: string,
  {
    deadlineMs = 30_000,
    headers = {},
  }: { deadlineMs?: number; headers?: Record<string, string> } = {},
): Promise<Seen> {
  const { hostname, port } = new URL(base);
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let raw = Buffer.alloc(0);
    let settled = false;
    const seen: Seen = { ending: 'no-head', status: 0, headers: {}, body: '', ms: 0 };
    const finish = (ending: Ending) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      seen.ending = ending;
      seen.ms = performance.now() - started;
      socket.destroy();
      resolve(seen);
    };
    const timer = setTimeout(() => finish(parse(true) ?? 'stuck'), deadlineMs);
    /** Parses what came so far: an ending once there is one, `undefined` while waiting. */
    const parse = (closed: boolean): Ending | undefined => {
      const end = raw.indexOf('\r\n\r\n');
      if (end === -1) return closed ? 'no-head' : undefined;
      const lines = raw.subarray(0, end).toString('latin1').split('\r\n');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
      if (status === null) return 'bad-framing';
      seen.status = Number(status[1]);
      seen.headers = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        seen.headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const rest = raw.subarray(end + 4);
      const length = seen.headers['content-length'];
      if (seen.status === 304 || seen.status === 204)
        return rest.length > 0 ? 'overrun' : 'complete';
      if (length !== undefined) {
        const want = Number(length);
        seen.body = rest.subarray(0, want).toString('latin1');
        if (rest.length > want) return 'overrun';
        if (rest.length === want) return 'complete';
        return closed ? 'cut' : undefined;
      }
      if (/chunked/i.test(seen.headers['transfer-encoding'] ?? '')) {
        return dechunk(rest, seen, closed);
      }
      // Neither: the body runs to the close (RFC 9112 §6.3 rule 8).
      seen.body = rest.toString('latin1');
      return closed ? 'complete' : undefined;
    };
    socket.on('connect', () => {
      const fields = Object.entries({ host: 'origin.test', ...headers })
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      socket.write(`GET ${path} HTTP/1.1\r\n${fields}\r\n`);
    });
    socket.on('data', (chunk) => {
      raw = Buffer.concat([raw, chunk]);
      const ending = parse(false);
      if (ending !== undefined) finish(ending);
    });
    socket.on('error', () => {});
    socket.on('close', () => finish(parse(true) ?? 'cut'));
  });
}

function dechunk(rest: Buffer, seen: Seen, closed: boolean): Ending | undefined {
  let at = 0;
  let body = '';
  for (;;) {
    const eol = rest.indexOf('\r\n', at);
    if (eol === -1) break;
    const size = Number.parseInt(rest.subarray(at, eol).toString('latin1').split(';')[0]!, 16);
    if (Number.isNaN(size)) return 'bad-framing';
    if (size === 0) {
      // The last chunk; trailers (if any) end with an empty line.
      const close = rest.indexOf('\r\n\r\n', eol);
      seen.body = body;
      if (close === -1) return closed ? 'cut' : undefined;
      return close + 4 < rest.length ? 'overrun' : 'complete';
    }
    if (rest.length < eol + 2 + size + 2) break;
    body += rest.subarray(eol + 2, eol + 2 + size).toString('latin1');
    at = eol + 2 + size + 2;
  }
  seen.body = body;
  return closed ? 'cut' : undefined;
}

/** Runs `n` clients at once; resolves with what each saw, in order. */
export function crowd(n: number, one: (i: number) => Promise<Seen>): Promise<Seen[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => one(i)));
}
