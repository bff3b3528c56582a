/**
 * Everything about one cacheable request that the lookup, the recorder and the replay need,
 * computed once: the primary key, the path tag, the client's validators and freshness limits.
 */
import { parseCacheControl } from './cache-control.js';
import type { Credential } from './cacheability.js';
import { type Conditions, readConditions } from './conditional.js';
import { type RequestFreshness, requestFreshness } from './freshness.js';
import type { HeaderGetter } from './headers.js';
import { parseTarget, pathTag, primaryHash, primaryKey } from './key.js';
import type { ResolvedPolicy } from './policy.js';

/** One GET or HEAD the cache may answer. */
export interface ReadContext {
  readonly policy: ResolvedPolicy;
  readonly header: HeaderGetter;
  /** The host keys and path tags use: the request's, or the middleware's `host` option. */
  readonly host: string;
  readonly path: string;
  readonly primary: string;
  readonly head: boolean;
  readonly noStore: boolean;
  /**
   * The request carries credentials the key does not cover (RFC 9111 §3.5): only an
   * explicitly shared (`public` / `s-maxage`) response may serve or be stored for it.
   */
  readonly credentialed: boolean;
  /** Which credential: `authorization` also accepts `must-revalidate` responses (§3.5). */
  readonly credential?: Credential | undefined;
  /** The `Range` field of a GET, answered from a stored complete response (range.ts). */
  readonly range?: string | undefined;
  /** The `If-Range` field that goes with `range` (RFC 9110 §13.1.5). */
  readonly ifRange?: string | undefined;
  readonly conditions: Conditions | undefined;
  /**
   * The request carries `If-Match` or `If-Unmodified-Since` (RFC 9110 §13.1.1, §13.1.4):
   * preconditions only the origin evaluates (RFC 9111 §4.3.2), so only a 2xx answer to it
   * is the representation every request of the key may reuse.
   */
  readonly preconditioned: boolean;
  readonly freshness: RequestFreshness | undefined;
  readonly requestTime: number;
}

/** Builds the context of a request already classified as a read. */
export function readContext(
  namespace: string,
  policy: ResolvedPolicy,
  url: string,
  header: HeaderGetter,
  cls: {
    head: boolean;
    noStore: boolean;
    credentialed: boolean;
    credential?: Credential | undefined;
  },
  host: string,
  now: number,
): ReadContext {
  const target = parseTarget(url);
  const cc = header('cache-control');
  // RFC 9110 §14.2: Range is defined for GET only; a HEAD ignores it.
  const range = cls.head ? undefined : header('range');
  return {
    policy,
    header,
    host,
    path: target.path,
    primary: primaryKey(namespace, host, target, primaryHash(policy, header)),
    head: cls.head,
    noStore: cls.noStore,
    credentialed: cls.credentialed,
    credential: cls.credential,
    range,
    ifRange: range === undefined ? undefined : header('if-range'),
    conditions: readConditions(header),
    preconditioned: header('if-match') !== undefined || header('if-unmodified-since') !== undefined,
    freshness: cc === undefined ? undefined : requestFreshness(parseCacheControl(cc)),
    requestTime: now,
  };
}

/**
 * The request's path tag and the tags its entry is written with before the origin answers
 * (path tag first, then the policy's). Computed on a miss, or along with a read that waits
 * on the backend (route.ts: the snapshot travels with the read).
 */
export function readTags(ctx: ReadContext): { pathTag: string; tags: string[] } {
  const tag = pathTag(ctx.host, ctx.path);
  const extra = ctx.policy.tags;
  return {
    pathTag: tag,
    tags: extra.length === 0 ? [tag] : [tag, ...extra.filter((t) => t !== tag)],
  };
}
