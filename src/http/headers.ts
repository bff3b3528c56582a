/**
 * Header plumbing shared by the core and the adapters: one flat representation
 * (`[name, value, name, value, …]`, names lowercase) that node's `writeHead` accepts as is,
 * conversion from the shapes frameworks hand us, and the filter that decides which response
 * fields are stored (RFC 9111 §3.1).
 */

/** Response headers as a flat list: `[name, value, name, value, …]`, names lowercase. */
export type FlatHeaders = string[];

/** The header shapes frameworks give us: node's `getHeaders()`, plain objects, Fetch `Headers`. */
export type HeaderRecord = Readonly<
  Record<string, string | number | readonly string[] | undefined | null>
>;

/** Reads one request header by lowercase name; several field lines come back comma-joined. */
export type HeaderGetter = (name: string) => string | undefined;

/** Connection-specific fields (RFC 9110 §7.6.1, with the pre-standard `Keep-Alive` / `Proxy-Connection`). */
export const CONNECTION_FIELDS: readonly string[] = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
];

/**
 * Connection-specific fields a cache must not store or forward (RFC 9110 §7.6.1), plus the
 * ones this cache recomputes on every use (`age`, `x-cache`, `content-length`).
 */
const NOT_STORED = new Set([
  ...CONNECTION_FIELDS,
  'age',
  'x-cache',
  'content-length',
  // Never stored: a cookie set for one user must not be replayed to another.
  'set-cookie',
]);

/** Flattens a header record into {@link FlatHeaders}; array values become one line each. */
export function flattenHeaders(record: HeaderRecord, out: FlatHeaders = []): FlatHeaders {
  for (const name of Object.keys(record)) {
    const value = record[name];
    if (value === undefined || value === null) continue;
    const lower = name.toLowerCase();
    if (Array.isArray(value)) {
      for (const v of value as readonly string[]) out.push(lower, String(v));
    } else {
      out.push(lower, String(value));
    }
  }
  return out;
}

/** The first value of `name` (lowercase) in a flat list, or `undefined`. */
export function getFlat(headers: FlatHeaders, name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) return headers[i + 1];
  }
  return undefined;
}

/** All values of `name` (lowercase) in a flat list, comma-joined, or `undefined`. */
export function getFlatJoined(headers: FlatHeaders, name: string): string | undefined {
  let out: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) {
      const v = headers[i + 1] as string;
      out = out === undefined ? v : `${out}, ${v}`;
    }
  }
  return out;
}

/**
 * The headers worth storing: drops connection-specific fields, the fields named by
 * `Connection` (RFC 9110 §7.6.1) and by a qualified `no-cache="…"` (RFC 9111 §5.2.2.4 lets a
 * cache drop them instead of revalidating), and fields this cache recomputes.
 */
export function storableHeaders(headers: FlatHeaders, alsoDrop: readonly string[]): FlatHeaders {
  const connection = getFlatJoined(headers, 'connection');
  const extra = new Set(alsoDrop);
  if (connection) {
    for (const token of connection.split(',')) extra.add(token.trim().toLowerCase());
  }
  const out: FlatHeaders = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if (NOT_STORED.has(name) || extra.has(name)) continue;
    out.push(name, headers[i + 1] as string);
  }
  return out;
}

// HTTP-dates are parsed strictly (RFC 9110 §5.6.7) in http-date.ts; re-exported for callers here.
export { formatHttpDate, parseHttpDate } from './http-date.js';

/** A comma-separated list field split into lowercase, trimmed, non-empty members. */
export function listMembers(value: string | undefined): string[] {
  if (!value) return [];
  const out: string[] = [];
  for (const part of value.split(',')) {
    const t = part.trim().toLowerCase();
    if (t.length > 0) out.push(t);
  }
  return out;
}
