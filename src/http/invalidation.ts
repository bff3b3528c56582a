/**
 * What a successful write invalidates (RFC 9111 §4.4): the target URI, its collection, and a
 * same-host `Location` / `Content-Location`. Invalidation is by tag — every stored variant of
 * a path carries `path:<host><path>` — so it costs O(tags) on any backend and reaches every
 * instance sharing the cache, with no keyspace scan.
 */
import { collectionPath, normalizeHost, parseTarget, pathTag } from './key.js';

/** True for statuses after which a write invalidates: "non-error" means 2xx and 3xx (§4.4). */
export function invalidatesOn(status: number): boolean {
  return status >= 200 && status < 400;
}

/**
 * The path tags a successful write to `url` invalidates. `host` is the one keys use (the
 * `host` option's, when set); `authority` is the request's own, against which a relative
 * `Location` resolves. Both name this service, so an absolute one may use either.
 */
export function writeTags(
  host: string,
  url: string,
  location: string | undefined,
  contentLocation: string | undefined,
  authority: string = host,
): string[] {
  const { path } = parseTarget(url);
  const tags = new Set<string>([pathTag(host, path)]);
  const collection = collectionPath(path);
  if (collection !== undefined) tags.add(pathTag(host, collection));
  for (const tag of locationTags(host, path, location, contentLocation, authority)) tags.add(tag);
  return [...tags];
}

/**
 * The path tags of a write's same-host `Location` / `Content-Location` (§4.4), resolved
 * against the write's `path`: a `POST /posts` answering `Location: /posts/9` drops a `404`
 * stored for `/posts/9` before the post existed.
 */
export function locationTags(
  host: string,
  path: string,
  location: string | undefined,
  contentLocation: string | undefined,
  authority: string = host,
): string[] {
  const tags: string[] = [];
  for (const ref of [location, contentLocation]) {
    const sameHostPath = sameHostPathOf(host, authority, path, ref);
    if (sameHostPath !== undefined) tags.push(pathTag(host, sameHostPath));
  }
  return tags;
}

/**
 * The path of `ref` resolved against the request, when it names this service. §4.4: a cache
 * must not invalidate a URI from Location or Content-Location whose host differs from the
 * target's (that would let one origin flush another's entries).
 */
function sameHostPathOf(
  host: string,
  authority: string,
  basePath: string,
  ref: string | undefined,
): string | undefined {
  if (ref === undefined || ref.length === 0) return undefined;
  const base = authority || 'localhost';
  let resolved: URL;
  try {
    resolved = new URL(ref, `http://${base}${basePath}`);
  } catch {
    return undefined;
  }
  const target = normalizeHost(resolved.host);
  if (target !== base && target !== host) return undefined;
  return resolved.pathname;
}
