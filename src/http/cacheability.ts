/**
 * What may be looked up, what may be stored, and what a write invalidates — the rules of a
 * shared cache (RFC 9111 §3, §3.5, §4.4), each next to the section it comes from.
 */
import { type Directives, fieldNames, parseCacheControl } from './cache-control.js';
import { hasMeaningfulCookie } from './cookies.js';
import { type FlatHeaders, getFlatJoined, type HeaderGetter, listMembers } from './headers.js';
import type { ResolvedPolicy } from './policy.js';

/** How a request is handled. */
export type RequestClass =
  | { kind: 'read'; head: boolean; noStore: boolean; credentialed: boolean }
  | { kind: 'write' }
  | { kind: 'bypass'; reason: BypassReason };

/** Why a request went straight to the origin. */
export type BypassReason = 'method' | 'range' | 'upgrade';

/** Methods whose success invalidates stored responses (RFC 9111 §4.4 "unsafe" methods). */
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Classifies a request before anything is read from the cache. */
export function classifyRequest(
  method: string,
  header: HeaderGetter,
  policy: ResolvedPolicy,
): RequestClass {
  const head = method === 'HEAD';
  if (method !== 'GET' && !head) {
    return WRITE_METHODS.has(method) ? { kind: 'write' } : { kind: 'bypass', reason: 'method' };
  }
  // Partial content is not cached (RFC 9111 §3.3 allows but does not require it).
  if (header('range') !== undefined) return { kind: 'bypass', reason: 'range' };
  if (header('upgrade') !== undefined) return { kind: 'bypass', reason: 'upgrade' };
  const cc = header('cache-control');
  // RFC 9111 §5.2.1.5: request no-store forbids storing the response (serving stays allowed).
  const noStore = cc !== undefined && parseCacheControl(cc)['no-store'] !== undefined;
  return { kind: 'read', head, noStore, credentialed: credentialed(header, policy) };
}

/**
 * Whether a request carries credentials its key does not cover. RFC 9111 §3.5: a shared
 * cache must not reuse a response to a request with `Authorization` for other requests
 * unless the response explicitly allows it. A session cookie is the same kind of credential
 * (and what the most trusted reverse proxies treat as one by default), so one rule covers
 * both: the request is cacheable as usual when the policy keys the credential (`varyBy`
 * names `authorization`, `cookie` or `cookie:<name>`) — every user then has their own
 * entries — and otherwise only an explicitly shared response may serve it or be stored from
 * it (see {@link explicitlyShared}). Cookies listed in `ignoreCookies` are not credentials.
 */
export function credentialed(header: HeaderGetter, policy: ResolvedPolicy): boolean {
  if (!policy.authorizationKeyed && header('authorization') !== undefined) return true;
  if (policy.cookiesKeyed) return false;
  const cookie = header('cookie');
  return cookie !== undefined && hasMeaningfulCookie(cookie, policy.ignoreCookies);
}

/**
 * Whether the origin marked a response as reusable for requests with credentials: `public`
 * or `s-maxage` (RFC 9111 §3.5, §5.2.2.9, §5.2.2.10). `must-revalidate`, which §3.5 also
 * accepts for `Authorization`, is left out on purpose: frameworks send it by default on
 * per-user pages (`max-age=60, must-revalidate`), and sharing those is the leak this guards.
 */
export function explicitlyShared(directives: Directives): boolean {
  return directives.public !== undefined || directives['s-maxage'] !== undefined;
}

/** Why a response was not stored, for stats and events. */
export type NotStoredReason =
  | 'status'
  | 'no-store'
  | 'private'
  | 'set-cookie'
  | 'vary-star'
  | 'no-freshness'
  | 'too-large'
  | 'request-no-store'
  | 'head'
  | 'credentials';

/** The parts of a response the storage decision reads. */
export interface ResponseFacts {
  status: number;
  headers: FlatHeaders;
  directives: Directives;
  /** Lowercase field names from `Vary`. */
  vary: string[];
}

/** Reads the facts once from a response's headers. */
export function responseFacts(status: number, headers: FlatHeaders): ResponseFacts {
  return {
    status,
    headers,
    directives: parseCacheControl(getFlatJoined(headers, 'cache-control')),
    vary: listMembers(getFlatJoined(headers, 'vary')),
  };
}

/**
 * Whether a response to a GET may be stored (RFC 9111 §3), or why not. Freshness and body
 * size are decided later, when they are known.
 */
export function storability(
  facts: ResponseFacts,
  policy: ResolvedPolicy,
): NotStoredReason | undefined {
  // 5xx are never stored; other statuses only when the policy lists them (§3 "final and
  // understood"; 206 and 304 are never in the list, as they are not complete responses).
  if (facts.status >= 500 || !policy.statuses.has(facts.status)) return 'status';
  const cc = facts.directives;
  // §5.2.2.5: no-store.
  if (cc['no-store'] !== undefined) return 'no-store';
  // §5.2.2.7: a shared cache must not store a private response. A qualified
  // private="field" would allow storing the rest; we refuse the whole response, which is safe.
  if (cc.private !== undefined) return 'private';
  // A cookie set for one client must never be replayed to another (§7.3 privacy).
  for (let i = 0; i < facts.headers.length; i += 2) {
    if (facts.headers[i] === 'set-cookie') return 'set-cookie';
  }
  // §4.1: "Vary: *" always fails to match, so storing it is pointless.
  if (facts.vary.includes('*')) return 'vary-star';
  return undefined;
}

/** Fields a qualified `no-cache="…"` names; we store the response without them (§5.2.2.4). */
export function fieldsToDrop(facts: ResponseFacts): string[] {
  return fieldNames(facts.directives, 'no-cache');
}

/**
 * The request fields a stored response varies on: its own `Vary`, plus `Accept-Encoding`
 * whenever the body is content-coded, so a gzip body is only replayed to requests that
 * accept it even when the origin forgot to say `Vary: Accept-Encoding`.
 */
export function variesOn(facts: ResponseFacts, policy: ResolvedPolicy): string[] {
  const fields = new Set<string>();
  for (const name of facts.vary) {
    // Fields already in the primary key need no secondary key.
    if (!policy.keyHeaders.includes(name)) fields.add(name);
  }
  const coding = getFlatJoined(facts.headers, 'content-encoding');
  if (coding !== undefined && coding.toLowerCase() !== 'identity') fields.add('accept-encoding');
  return [...fields].sort();
}
