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

/** The path tags a successful write to `url` on `host` invalidates. */
export function writeTags(
  host: string,
  url: string,
  location: string | undefined,
  contentLocation: string | undefined,
): string[] {
  const { path } = parseTarget(url);
  const tags = new Set<string>([pathTag(host, path)]);
  const collection = collectionPath(path);
  if (collection !== undefined) tags.add(pathTag(host, collection));
  for (const ref of [location, contentLocation]) {
    const sameHostPath = sameHostPathOf(host, path, ref);
    if (sameHostPath !== undefined) tags.add(pathTag(host, sameHostPath));
  }
  return [...tags];
}

/**
 * The path of `ref` resolved against the request, when it names the same host. §4.4: a cache
 * must not invalidate a URI from Location or Content-Location whose host differs from the
 * target's (that would let one origin flush another's entries).
 */
function sameHostPathOf(
  host: string,
  basePath: string,
  ref: string | undefined,
): string | undefined {
  if (ref === undefined || ref.length === 0) return undefined;
  let resolved: URL;
  try {
    resolved = new URL(ref, `http://${host || 'localhost'}${basePath}`);
  } catch {
    return undefined;
  }
  if (normalizeHost(resolved.host) !== (host || 'localhost')) return undefined;
  return resolved.pathname;
}
