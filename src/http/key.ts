/**
 * Cache keys and path tags.
 *
 * A primary key names what the request asks for: method, host, path, the query with its
 * parameters sorted, and a hash of the request headers the policy varies by plus the
 * headers that commonly poison caches when left out of the key. A response that carries
 * its own `Vary` adds a secondary part: a hash of the request's values for the fields it
 * names (RFC 9111 §4.1). Header values are only ever stored hashed, so a bearer token never
 * reaches Redis as text.
 */
import { createHash } from 'node:crypto';
import { cookieKeyText, namedCookiesKeyText } from './cookies.js';
import type { HeaderGetter } from './headers.js';
import type { ResolvedPolicy } from './policy.js';
import { normaliseVaryValue } from './vary-normalise.js';

/**
 * Request fields that change what many origins (or the frameworks in front of them) answer
 * but that caches traditionally leave out of the key — the classic cache-poisoning vectors.
 * When present they always enter the key, so a forged value only ever poisons its own entry.
 * The client-address fields are among them: a page that shows or acts on the address
 * (`req.ip` behind `trust proxy`) reflects whatever a client put there. The middleware's
 * `ignoreHeaders` option takes a field out for an app whose front proxy sets it.
 */
export const UNKEYED_RISKY_HEADERS: readonly string[] = [
  'forwarded',
  'x-forwarded-for',
  'x-real-ip',
  'true-client-ip',
  'x-client-ip',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-scheme',
  'x-host',
  'x-original-url',
  'x-rewrite-url',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
];

/** A request target split into its path and its normalised query. */
export interface Target {
  path: string;
  /** Parameters sorted by name (the relative order of repeated names is kept); '' when none. */
  query: string;
}

/** Splits `url` (origin-form: `/path?query`) and sorts the query's parameters by name. */
export function parseTarget(url: string): Target {
  const q = url.indexOf('?');
  if (q === -1) return { path: url.length === 0 ? '/' : url, query: '' };
  const path = q === 0 ? '/' : url.slice(0, q);
  const raw = url.slice(q + 1);
  if (raw.length === 0) return { path, query: '' };
  const params = raw.split('&').filter((p) => p.length > 0);
  if (params.length > 1) {
    // Array#sort is stable, so `a=1&a=2` keeps its order while `b=1&a=1` becomes `a=1&b=1`.
    params.sort((x, y) => {
      const kx = paramName(x);
      const ky = paramName(y);
      return kx < ky ? -1 : kx > ky ? 1 : 0;
    });
  }
  return { path, query: params.join('&') };
}

function paramName(param: string): string {
  const eq = param.indexOf('=');
  return eq === -1 ? param : param.slice(0, eq);
}

/**
 * Lowercases a host; '' when the request had none. Case is all RFC 9110 §4.2.3 makes
 * equivalent: a trailing dot is kept, since an origin may answer `a.example.` with another
 * virtual host (an exact-match vhost falls through to the default one) — folded together,
 * that answer would be served for `a.example`.
 */
export function normalizeHost(host: string | undefined): string {
  if (!host) return '';
  return host.toLowerCase();
}

/**
 * Whether a read can be keyed without ambiguity. Keys and path tags are the host followed by
 * the target, so the host must hold none of `/ ? # @ \` or whitespace and the target must be
 * origin-form (start with `/`): otherwise `Host: h/a` + `/b` and `Host: h` + `/a/b` would
 * share one entry, and a forged Host could store an answer for another URL. Such a request
 * (no browser sends one) is passed through uncached.
 */
export function keyable(host: string, url: string): boolean {
  return url.startsWith('/') && !HOST_DELIMITERS.test(host);
}
const HOST_DELIMITERS = /[/?#@\\\s]/;

/** The path with a trailing slash removed (except for `/`), so `/posts/` and `/posts` share a tag. */
export function normalizePath(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** The tag every stored variant of `host` + `path` carries. */
export function pathTag(host: string, path: string): string {
  return `path:${host}${normalizePath(path)}`;
}

/** The collection a path belongs to: `/posts/7` → `/posts`; `/posts` → `/`; `/` → undefined. */
export function collectionPath(path: string): string | undefined {
  const p = normalizePath(path);
  if (p === '/' || p.length === 0) return undefined;
  const slash = p.lastIndexOf('/');
  return slash <= 0 ? '/' : p.slice(0, slash);
}

/** A 128-bit digest of `text`, base64url. */
export function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

/**
 * A hash over the values of `names` in the request, or '' when none is present (so requests
 * that carry none of them share one entry). Absent and empty values hash differently.
 */
export function headerHash(names: readonly string[], header: HeaderGetter): string {
  let text: string | undefined;
  for (const name of names) {
    const value = header(name);
    if (value === undefined) continue;
    // Equivalent values share an entry (vary-normalise.ts, RFC 9111 §4.1).
    text = `${text ?? ''}${name}\u0000${normaliseVaryValue(name, value)}\u0001`;
  }
  return text === undefined ? '' : digest(text);
}

/**
 * The hash of a request's primary key: the policy's key headers as {@link headerHash} does,
 * except that `Cookie` counts as its non-ignored cookies sorted by name (absent when none is
 * left, so a request whose only cookies are ignored shares the cookieless entry), followed
 * by the values of the policy's `cookie:<name>` cookies.
 */
export function primaryHash(
  policy: Pick<ResolvedPolicy, 'keyHeaders' | 'keyCookies' | 'ignoreCookies'>,
  header: HeaderGetter,
): string {
  let text: string | undefined;
  for (const name of policy.keyHeaders) {
    let value = header(name);
    if (value === undefined) continue;
    if (name === 'cookie') {
      value = cookieKeyText(value, policy.ignoreCookies);
      if (value.length === 0) continue;
    } else value = normaliseVaryValue(name, value);
    text = `${text ?? ''}${name}\u0000${value}\u0001`;
  }
  if (policy.keyCookies.length > 0) {
    const cookies = namedCookiesKeyText(header('cookie'), policy.keyCookies);
    if (cookies.length > 0) text = `${text ?? ''}cookie:\u0002${cookies}`;
  }
  return text === undefined ? '' : digest(text);
}

// Re-exported: callers and tests import it from here.
export { normalizeAcceptEncoding } from './vary-normalise.js';

const MAX_RAW_TARGET = 1024;

/** The primary key of a GET (HEAD uses the GET's key). */
export function primaryKey(namespace: string, host: string, target: Target, hash: string): string {
  let where = target.query.length > 0 ? `${target.path}?${target.query}` : target.path;
  // Very long targets are hashed so keys stay small; the path tag still carries the path.
  if (where.length > MAX_RAW_TARGET) where = `#${digest(where)}`;
  return `${namespace}GET:${host}${where}${hash.length > 0 ? ` ${hash}` : ''}`;
}

/** The key of one variant under a primary key, chosen by the response's `Vary` fields. */
export function variantKey(primary: string, varyHash: string): string {
  return `${primary} v:${varyHash.length > 0 ? varyHash : '-'}`;
}
