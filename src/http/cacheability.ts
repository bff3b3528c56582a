/**
 * What may be looked up, what may be stored, and what a write invalidates — the rules of a
 * shared cache (RFC 9111 §3, §3.5, §4.4), each next to the section it comes from.
 */
import { type Directives, fieldNames, parseCacheControl } from './cache-control.js';
import { hasMeaningfulCookie } from './cookies.js';
import { HEURISTICALLY_CACHEABLE } from './freshness.js';
import {
  type FlatHeaders,
  getFlat,
  getFlatJoined,
  type HeaderGetter,
  listMembers,
} from './headers.js';
import { parseContentRange } from './partial-content.js';
import type { ResolvedPolicy } from './policy.js';
import { targetedDirectives } from './targeted.js';

/** How a request is handled. */
export type RequestClass =
  | {
      kind: 'read';
      head: boolean;
      noStore: boolean;
      credentialed: boolean;
      /** Which credential makes it credentialed (a cookie when both do). */
      credential: Credential | undefined;
    }
  | { kind: 'write' }
  | { kind: 'bypass'; reason: BypassReason };

/** Why a request went straight to the origin. */
export type BypassReason = 'method' | 'upgrade';

/**
 * Safe methods other than GET and HEAD (RFC 9110 §9.2.1): passed to the origin, never
 * invalidating. Every other method — the unsafe ones RFC 9110 defines and any method this
 * cache does not know (`PURGE`, `M-SEARCH`, …) — invalidates on a non-error response
 * (RFC 9111 §4.4: "a cache MUST invalidate … when it receives a non-error status code in
 * response to an unsafe request method (including methods whose safety is unknown)").
 */
const SAFE_BYPASS_METHODS = new Set(['OPTIONS', 'TRACE']);

/** Classifies a request before anything is read from the cache. */
export function classifyRequest(
  method: string,
  header: HeaderGetter,
  policy: ResolvedPolicy,
): RequestClass {
  const head = method === 'HEAD';
  if (method !== 'GET' && !head) {
    return SAFE_BYPASS_METHODS.has(method)
      ? { kind: 'bypass', reason: 'method' }
      : { kind: 'write' };
  }
  // A Range request is a read: a stored complete response answers it with 206 (range.ts).
  if (header('upgrade') !== undefined) return { kind: 'bypass', reason: 'upgrade' };
  const cc = header('cache-control');
  // RFC 9111 §5.2.1.5: request no-store forbids storing the response (serving stays allowed).
  const noStore = cc !== undefined && parseCacheControl(cc)['no-store'] !== undefined;
  const credential = credentialOf(header, policy);
  return { kind: 'read', head, noStore, credentialed: credential !== undefined, credential };
}

/** A credential a request carries that its key does not cover. */
export type Credential = 'authorization' | 'cookie';

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
  return credentialOf(header, policy) !== undefined;
}

/** The credential {@link credentialed} finds: a cookie when both are there (the stricter rule). */
export function credentialOf(header: HeaderGetter, policy: ResolvedPolicy): Credential | undefined {
  if (!policy.cookiesKeyed) {
    const cookie = header('cookie');
    if (cookie !== undefined && hasMeaningfulCookie(cookie, policy.ignoreCookies)) return 'cookie';
  }
  if (!policy.authorizationKeyed && header('authorization') !== undefined) return 'authorization';
  return undefined;
}

/**
 * Whether the origin marked a response as reusable for requests with `credential`. RFC 9111
 * §3.5 lets a response to a request with `Authorization` serve others when it carries
 * `public`, `s-maxage` or `must-revalidate` (§5.2.2.9, §5.2.2.10, §5.2.2.2); that is what
 * `authorization` gets, to the letter. A session cookie is a stricter case the RFC does not
 * cover: frameworks send `must-revalidate` by default on per-user pages
 * (`max-age=60, must-revalidate`), so for cookies only `public` or `s-maxage` count.
 */
export function explicitlyShared(
  directives: Directives,
  credential: Credential | undefined = 'cookie',
): boolean {
  if (directives.public !== undefined || directives['s-maxage'] !== undefined) return true;
  return credential === 'authorization' && directives['must-revalidate'] !== undefined;
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
  | 'precondition'
  | 'head'
  | 'credentials'
  | 'content-range'
  | 'trailers';

/** The parts of a response the storage decision reads. */
export interface ResponseFacts {
  status: number;
  headers: FlatHeaders;
  /** This cache's directives: a targeted field's when one applies, else `Cache-Control`'s. */
  directives: Directives;
  /** A targeted field (RFC 9213) supplied the directives; `Expires` is then ignored. */
  targeted: boolean;
  /** Lowercase field names from `Vary`. */
  vary: string[];
}

/**
 * Reads the facts once from a response's headers. `targetedFields` are the targeted
 * cache-control fields this cache obeys, in priority order (RFC 9213 §2.1).
 */
export function responseFacts(
  status: number,
  headers: FlatHeaders,
  targetedFields: readonly string[] = [],
): ResponseFacts {
  const targeted =
    targetedFields.length === 0 ? undefined : targetedDirectives(headers, targetedFields);
  return {
    status,
    headers,
    directives: targeted ?? parseCacheControl(getFlatJoined(headers, 'cache-control')),
    targeted: targeted !== undefined,
    vary: listMembers(getFlatJoined(headers, 'vary')),
  };
}

/**
 * Status codes this cache understands (RFC 9110 §15): the ones `must-understand`
 * (RFC 9111 §5.2.2.3) lets it store.
 */
const UNDERSTOOD = new Set([
  200, 201, 202, 203, 204, 205, 206, 300, 301, 302, 303, 304, 305, 307, 308, 400, 401, 402, 403,
  404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 426, 500, 501,
  502, 503, 504, 505,
]);

/** Whether the origin stated a freshness lifetime (RFC 9111 §4.2.1), valid or not. */
export function hasExplicitFreshness(facts: ResponseFacts): boolean {
  const cc = facts.directives;
  if (cc['s-maxage'] !== undefined || cc['max-age'] !== undefined) return true;
  return !facts.targeted && getFlat(facts.headers, 'expires') !== undefined;
}

/**
 * Whether a response to a GET may be stored (RFC 9111 §3), or why not. Freshness and body
 * size are decided later, when they are known.
 */
export function storability(
  facts: ResponseFacts,
  policy: ResolvedPolicy,
): NotStoredReason | undefined {
  const cc = facts.directives;
  const status = facts.status;
  // §3: only final responses; a 304 is not a response of its own, a 416 answers the
  // request's Range (RFC 9110 §15.5.17) and a 412 its preconditions (RFC 9110 §13.1.1,
  // §13.1.4, §15.5.13), which the key does not hold: stored, either would answer every
  // request of the key (§4) with a failure only one request's fields caused.
  if (status < 200 || status === 304 || status === 412 || status === 416) return 'status';
  // §3.3: partial content is stored only when its ranges are understood — here one
  // `Content-Range: bytes a-b/length` with the complete length known (partial-content.ts);
  // a multipart/byteranges 206, another unit or an unknown length is not.
  if (status === 206 && parseContentRange(getFlat(facts.headers, 'content-range')) === undefined) {
    return 'content-range';
  }
  // §5.2.2.3: must-understand limits storing to caches that understand the status code, and
  // then overrides no-store.
  const mustUnderstand = cc['must-understand'] !== undefined;
  if (mustUnderstand && !UNDERSTOOD.has(status)) return 'status';
  if (!statusStorable(facts, policy)) return 'status';
  // §5.2.2.5: no-store.
  if (cc['no-store'] !== undefined && !mustUnderstand) return 'no-store';
  // §5.2.2.7: a shared cache must not store a private response; a qualified private="field"
  // is stored without those fields (fieldsToDrop).
  if (cc.private === true) return 'private';
  // RFC 9111 allows storing a response with Set-Cookie; this cache never does: a cookie set
  // for one client must never be replayed to another (§7.3 privacy).
  for (let i = 0; i < facts.headers.length; i += 2) {
    if (facts.headers[i] === 'set-cookie') return 'set-cookie';
  }
  // §4.1: "Vary: *" always fails to match, so storing it is pointless.
  if (facts.vary.includes('*')) return 'vary-star';
  // §3.1 lets a cache store trailer fields apart or discard them; this one does neither: a
  // response announcing trailers (RFC 9110 §6.6.2) is not stored, so every client gets the
  // origin's own (a checksum, a final status) rather than a replay without them.
  if (getFlat(facts.headers, 'trailer') !== undefined) return 'trailers';
  return undefined;
}

/**
 * The status rule. A response with explicit freshness may be stored whatever its (understood)
 * status (§3, §4.2.1); so may one of the policy's `statuses`, under the policy ttl or its
 * validators; so may a heuristically cacheable one with `Last-Modified` when no ttl applies
 * (§4.2.2). A policy that lists `statuses` limits every case to them.
 */
function statusStorable(facts: ResponseFacts, policy: ResolvedPolicy): boolean {
  // A 206 is part of a 200 (RFC 9111 §3.3: stored "as if it were an incomplete 200").
  const status = facts.status === 206 ? 200 : facts.status;
  if (policy.statuses.has(status)) return true;
  if (policy.statusesGiven) return false;
  if (hasExplicitFreshness(facts)) return true;
  return (
    policy.ttlMs === undefined &&
    HEURISTICALLY_CACHEABLE.has(status) &&
    getFlat(facts.headers, 'last-modified') !== undefined
  );
}

/**
 * Fields a qualified `no-cache="…"` (§5.2.2.4) or `private="…"` (§5.2.2.7) names: the
 * response is stored without them, so they never reach another client.
 */
export function fieldsToDrop(facts: ResponseFacts): string[] {
  const drop = fieldNames(facts.directives, 'no-cache');
  for (const name of fieldNames(facts.directives, 'private')) drop.push(name);
  return drop;
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
