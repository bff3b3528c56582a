/**
 * Everything about one cacheable request that the lookup, the recorder and the replay need,
 * computed once: the primary key, the path tag, the client's validators and freshness limits.
 */
import { parseCacheControl } from './cache-control.js';
import { type Conditions, readConditions } from './conditional.js';
import { type RequestFreshness, requestFreshness } from './freshness.js';
import type { HeaderGetter } from './headers.js';
import { headerHash, normalizeHost, parseTarget, pathTag, primaryKey } from './key.js';
import type { ResolvedPolicy } from './policy.js';

/** One GET or HEAD the cache may answer. */
export interface ReadContext {
  readonly policy: ResolvedPolicy;
  readonly header: HeaderGetter;
  readonly host: string;
  readonly path: string;
  readonly primary: string;
  readonly pathTag: string;
  /** `pathTag` plus the policy's tags: what the early snapshot covers. */
  readonly tags: readonly string[];
  readonly head: boolean;
  readonly noStore: boolean;
  readonly conditions: Conditions | undefined;
  readonly freshness: RequestFreshness | undefined;
  readonly requestTime: number;
}

/** Builds the context of a request already classified as a read. */
export function readContext(
  namespace: string,
  policy: ResolvedPolicy,
  url: string,
  header: HeaderGetter,
  head: boolean,
  noStore: boolean,
  now: number,
): ReadContext {
  const host = normalizeHost(header('host') ?? header(':authority'));
  const target = parseTarget(url);
  const tag = pathTag(host, target.path);
  const cc = header('cache-control');
  return {
    policy,
    header,
    host,
    path: target.path,
    primary: primaryKey(namespace, host, target, headerHash(policy.keyHeaders, header)),
    pathTag: tag,
    tags: policy.tags.length === 0 ? [tag] : [tag, ...policy.tags.filter((t) => t !== tag)],
    head,
    noStore,
    conditions: readConditions(header),
    freshness: cc === undefined ? undefined : requestFreshness(parseCacheControl(cc)),
    requestTime: now,
  };
}
