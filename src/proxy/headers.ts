/**
 * What a proxy changes in the fields it forwards (RFC 9110 §7.6): connection-specific
 * ("hop-by-hop") fields are dropped in both directions, `Via` is added, and the request gets
 * `X-Forwarded-For / -Proto / -Host` from the connection it arrived on.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/**
 * Fields that describe one connection, never the message (RFC 9110 §7.6.1, plus the
 * pre-standard `Keep-Alive` / `Proxy-Connection` and RFC 9112's `Transfer-Encoding`, which
 * node re-frames on each side). `Upgrade` is dropped too: this proxy does not tunnel.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'transfer-encoding',
  'upgrade',
]);

/** The `Via` entry this proxy adds (RFC 9110 §7.6.3: protocol version and a pseudonym). */
export const VIA = '1.1 codeai-cache';

/**
 * What a proxy in front claims about the client and the URL it used: from a client nobody
 * vouches for, each is a forgery (a poisoned `X-Forwarded-Host` in every absolute link, a
 * spoofed address). Unless the proxy in front is trusted they are removed before the cache
 * reads the request (so they neither reach the origin nor split the cache's keys), and
 * `X-Forwarded-For / -Proto / -Host` are set again from the connection.
 */
const FORWARDING = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-scheme',
  'forwarded',
  'x-real-ip',
  'true-client-ip',
  'x-client-ip',
]);

/** Removes the forwarding fields nobody vouches for from `req.headers` (see FORWARDING). */
export function dropUntrustedForwarding(req: IncomingMessage): void {
  const h = req.headers;
  for (const name of FORWARDING) if (h[name] !== undefined) delete h[name];
}

/** Whether the request has more than one `Host` line (RFC 9112 §3.2: answered 400). */
export function repeatedHost(req: IncomingMessage): boolean {
  let seen = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.length === 4 && req.rawHeaders[i]!.toLowerCase() === 'host') seen++;
  }
  return seen > 1;
}

/** The hop-by-hop names of one message: the fixed list plus those its `Connection` names (§7.6.1). */
function dropped(raw: readonly string[]): Set<string> {
  let named: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'connection') continue;
    named ??= new Set(HOP_BY_HOP);
    for (const token of raw[i + 1]!.split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '') named.add(name);
    }
  }
  return named ?? HOP_BY_HOP;
}

/**
 * The end-to-end fields of `raw` (node's `rawHeaders`: name, value, name, value…), with
 * names' case and repeated fields kept, and `Via` appended to (or added).
 */
export function endToEnd(raw: readonly string[], skip?: ReadonlySet<string>): string[] {
  const drop = dropped(raw);
  const out: string[] = [];
  let via = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (drop.has(lower) || skip?.has(lower)) continue;
    if (lower === 'via' && !via) {
      via = true;
      out.push(name, `${raw[i + 1]}, ${VIA}`);
      continue;
    }
    out.push(name, raw[i + 1]!);
  }
  if (!via) out.push('Via', VIA);
  return out;
}

/**
 * The request fields sent upstream: end-to-end fields plus `X-Forwarded-*` (flat list).
 * Read from `rawHeaders`, which the cache edits as it edits `headers` (node-handler.ts,
 * `editRequest`: its validators in, the client's conditionals and Range out), so this is the
 * request the cache decided, with the client's other fields as sent.
 */
export function upstreamRequestHeaders(req: IncomingMessage, trustProxy: boolean): string[] {
  const out = endToEnd(req.rawHeaders, trustProxy ? undefined : FORWARDING);
  // A body framed by chunks (no Content-Length) is re-chunked upstream; said explicitly,
  // because node's client frames DELETE / OPTIONS bodies only when told to.
  if (
    req.headers['transfer-encoding'] !== undefined &&
    req.headers['content-length'] === undefined
  ) {
    out.push('Transfer-Encoding', 'chunked');
  }
  const socket = req.socket;
  const peer = socket.remoteAddress ?? '';
  const h = req.headers;
  const incoming = (name: string): string | undefined => {
    const v = h[name];
    return typeof v === 'string' ? v : Array.isArray(v) ? v.join(', ') : undefined;
  };
  if (trustProxy) {
    // A trusted hop's values stand; this hop appends itself to the client chain.
    const prior = incoming('x-forwarded-for');
    setFlat(out, 'x-forwarded-for', prior === undefined ? peer : `${prior}, ${peer}`);
    if (incoming('x-forwarded-proto') === undefined) out.push('X-Forwarded-Proto', protoOf(req));
    if (incoming('x-forwarded-host') === undefined && h.host !== undefined)
      out.push('X-Forwarded-Host', h.host);
    return out;
  }
  out.push('X-Forwarded-For', peer, 'X-Forwarded-Proto', protoOf(req));
  if (h.host !== undefined) out.push('X-Forwarded-Host', h.host);
  return out;
}

function protoOf(req: IncomingMessage): string {
  return (req.socket as Partial<TLSSocket>).encrypted === true ? 'https' : 'http';
}

/** Replaces every `name` field of a flat list with one `name: value`. */
function setFlat(flat: string[], name: string, value: string): void {
  for (let i = flat.length - 2; i >= 0; i -= 2) {
    if (flat[i]!.toLowerCase() === name) flat.splice(i, 2);
  }
  flat.push(name, value);
}

/**
 * A flat list with repeated names merged into one entry holding every value, in order:
 * the form node's `writeHead` keeps whole even after `setHeader` was called (the cache
 * sets `X-Cache` first; a flat list would then keep only the last of repeated fields).
 */
export function mergeRepeated(flat: readonly string[]): (string | string[])[] {
  const out: (string | string[])[] = [];
  const at = new Map<string, number>();
  for (let i = 0; i < flat.length; i += 2) {
    const lower = flat[i]!.toLowerCase();
    const j = at.get(lower);
    if (j === undefined) {
      at.set(lower, out.length + 1);
      out.push(flat[i]!, flat[i + 1]!);
      continue;
    }
    const prev = out[j]!;
    out[j] = Array.isArray(prev) ? [...prev, flat[i + 1]!] : [prev, flat[i + 1]!];
  }
  return out;
}
