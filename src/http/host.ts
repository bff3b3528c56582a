/**
 * The host a request's entries and invalidations are filed under.
 *
 * RFC 9111 §4 keys a response by its target URI, authority included, so by default the
 * request's own `Host` (or HTTP/2 `:authority`) is part of every key and path tag: two
 * names of one service (an internal name and the public one, or two ports) neither hit nor
 * invalidate each other's entries, and one origin can never answer for another. A service
 * reached under several names says so with the middleware's `host` option, a canonical host
 * or a function of the request; keys and path tags then both use it, so the names share one
 * set of entries and every write invalidates them all.
 */
import { CacheError } from '../core/errors.js';
import type { HeaderGetter } from './headers.js';
import { normalizeHost } from './key.js';

/** What a `host` function is given: the request as every adapter sees it. */
export interface HostRequest {
  /** The request's own authority (`Host`, else `:authority`), lowercased; '' when absent. */
  readonly host: string;
  /** The origin-form target, `/path?query`. */
  readonly url: string;
  /** Reads a request header by lowercase name. */
  header(name: string): string | undefined;
}

/** The middleware's `host` option: a canonical host, or a function of the request. */
export type HostOption = string | ((request: HostRequest) => string);

/** Resolves the host of one request. */
export type HostResolver = (header: HeaderGetter, url: string) => string;

/** The request's own authority, normalised. */
export function requestHost(header: HeaderGetter): string {
  return normalizeHost(header('host') ?? header(':authority'));
}

/** Validates the `host` option and returns the resolver keys and path tags share. */
export function hostResolver(option: HostOption | undefined): HostResolver {
  if (option === undefined) return requestHost;
  if (typeof option === 'string') {
    const canonical = canonicalHost(option);
    return () => canonical;
  }
  if (typeof option !== 'function') {
    throw new CacheError(
      'INVALID_CONFIG',
      'options.host must be a host such as "shop.example" or a function (request) => host',
    );
  }
  return (header, url) => {
    const host = option({ host: requestHost(header), url, header });
    if (typeof host !== 'string') {
      throw new CacheError(
        'INVALID_CONFIG',
        `options.host returned ${typeof host}; it must return a host string`,
      );
    }
    return normalizeHost(host);
  };
}

/** A host[:port] with nothing else (no scheme, user, path, query or fragment). */
function canonicalHost(value: string): string {
  const bad = () =>
    new CacheError(
      'INVALID_CONFIG',
      `options.host must be a host[:port] such as "shop.example", got ${JSON.stringify(value)}`,
    );
  if (value.length === 0 || /[\s/?#@\\]/.test(value)) throw bad();
  try {
    const url = new URL(`http://${value}/`);
    if (url.pathname !== '/' || url.username !== '' || url.search !== '') throw bad();
  } catch {
    throw bad();
  }
  // The operator's own name: `shop.example.` is meant as `shop.example`.
  return normalizeHost(value).replace(/\.$/, '');
}
