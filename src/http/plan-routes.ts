/**
 * One cache for a whole app, driven by a CodeAI plan (`loadCodeAI`): each request is matched
 * to its endpoint under `api_prefix`; a cached GET endpoint gets that endpoint's policy
 * (TTL, `varyBy`, tags); a successful write invalidates exactly the concrete GET routes the
 * plan links it to; every other request passes untouched.
 *
 * Invalidation by tag, per request. Every stored response already carries
 * `path:<host><path>` (read-context.ts). For a write the plan links to GET endpoints:
 * - same path / ancestor: the GET template is bound to the write's own segments by position
 *   (`PUT /authors/7` → `/authors/7` and `/authors`), and only when the GET's literal
 *   segments match the request (`PUT /authors/7` never drops `/authors/featured`); the
 *   concrete path tag is invalidated.
 * - descendant (PUT / PATCH / DELETE): the GET may have parameters past the write's path
 *   (`DELETE /authors/7` → `/authors/7/books/:bookId`), which no concrete tag can list. So a
 *   GET endpoint that some write reaches as a descendant writes its entries with one extra
 *   tag per such write depth, `codeai:under:<host><first k segments>`, and the write
 *   invalidates `codeai:under:<host></authors/7>`: every entry below `/authors/7`, none below
 *   `/authors/8`.
 * - `@invalidates`: the target's concrete path when it has no parameters, else its endpoint
 *   tag `codeai:<id>` (a cross-resource link binds no values, so all its entries go).
 * - A same-host `Location` / `Content-Location` of the answer: that path (RFC 9111 §4.4), so
 *   a `POST /authors` answering `Location: /authors/9` drops a 404 stored for `/authors/9`.
 * Tags are versions in the backend, so all of this holds on every instance sharing it.
 *
 * Matching is a segment trie per method, literal segments before parameters (the usual
 * router rule), so `/authors/featured` finds its own endpoint before `/authors/:id`.
 */
import type { CodeAIPlan, PlanEndpoint } from '../codeai/plan.js';
import { type Segment, splitTemplate } from '../codeai/route-path.js';
import type { CachingMiddleware } from './caching-middleware.js';
import type { HeaderGetter } from './headers.js';
import { invalidatesOn, locationTags } from './invalidation.js';
import { normalizeHost, parseTarget, pathTag } from './key.js';
import type { HttpCacheRoute } from './route.js';

/** What to do with one request. */
export type PlanDecision =
  /** Not an endpoint the plan caches or invalidates for: leave it alone. */
  | { readonly kind: 'pass' }
  /** A GET / HEAD of a cached endpoint: drive `route` as for any cached route. */
  | { readonly kind: 'read'; readonly endpoint: PlanEndpoint; readonly route: HttpCacheRoute }
  /**
   * A write the plan links to cached GETs: call `finish` with the status and the response's
   * `Location` / `Content-Location`, wait for it before ending.
   */
  | {
      readonly kind: 'write';
      readonly endpoint: PlanEndpoint;
      finish(
        status: number,
        location?: string,
        contentLocation?: string,
      ): Promise<void> | undefined;
    };

interface MatchNode {
  literals: Map<string, MatchNode>;
  param: MatchNode | undefined;
  endpoint: PlanEndpoint | undefined;
}

interface CachedGet {
  endpoint: PlanEndpoint;
  segments: Segment[];
  /** The route when no per-request tags are needed. */
  route: HttpCacheRoute | undefined;
  /** Write depths that reach this endpoint as a descendant: `codeai:under:` tags to write. */
  underDepths: number[];
}

interface WriteLinks {
  endpoint: PlanEndpoint;
  /** GET templates to bind to the request's segments (same path and ancestors). */
  bound: Segment[][];
  descendants: boolean;
  /** `@invalidates` targets: concrete paths, or endpoint tags for templates with parameters. */
  annotated: { path: string | undefined; tag: string }[];
}

const PASS: PlanDecision = { kind: 'pass' };

/** Routes requests to the policies and invalidations of a plan. */
export class PlanRoutes {
  readonly #mw: CachingMiddleware;
  readonly #tries = new Map<string, MatchNode>();
  readonly #gets = new Map<PlanEndpoint, CachedGet>();
  readonly #writes = new Map<PlanEndpoint, WriteLinks>();

  constructor(mw: CachingMiddleware, plan: CodeAIPlan) {
    this.#mw = mw;
    const byId = new Map(plan.endpoints.map((e) => [e.id, e]));
    for (const e of plan.endpoints) {
      if (e.method === 'GET' && e.cached) {
        this.#gets.set(e, {
          endpoint: e,
          segments: splitTemplate(e.path),
          route: undefined,
          underDepths: [],
        });
      }
    }
    for (const w of plan.endpoints) {
      const links: WriteLinks = { endpoint: w, bound: [], descendants: false, annotated: [] };
      for (const link of w.invalidates) {
        const g = byId.get(link.endpoint);
        const cached = g && this.#gets.get(g);
        if (!g || !cached) continue;
        if (link.reason === 'descendant') {
          links.descendants = true;
          const depth = splitTemplate(w.path).length;
          if (!cached.underDepths.includes(depth)) cached.underDepths.push(depth);
        } else if (link.reason === 'annotation') {
          const params = cached.segments.some((s) => s.param);
          links.annotated.push({ path: params ? undefined : g.path, tag: `codeai:${g.id}` });
        } else {
          links.bound.push(cached.segments);
        }
      }
      if (links.bound.length > 0 || links.descendants || links.annotated.length > 0) {
        this.#writes.set(w, links);
      }
    }
    for (const e of plan.endpoints) {
      if (e.method === 'GET' ? this.#gets.has(e) : this.#writes.has(e)) this.#add(e);
    }
    for (const get of this.#gets.values()) {
      if (get.underDepths.length === 0) get.route = this.#route(get.endpoint, []);
    }
  }

  /** Classifies a request (synchronous, no I/O). `url` is the origin-form target `/path?query`. */
  decide(method: string, url: string, header: HeaderGetter): PlanDecision {
    const m = method === 'HEAD' ? 'GET' : method;
    const trie = this.#tries.get(m);
    if (trie === undefined) return PASS;
    const { path } = parseTarget(url);
    const segments = path.split('/').filter((s) => s !== '');
    const endpoint = match(trie, segments, 0);
    if (endpoint === undefined) return PASS;
    const host = normalizeHost(header('host') ?? header(':authority'));
    if (m === 'GET') {
      const get = this.#gets.get(endpoint)!;
      const route =
        get.route ??
        this.#route(
          endpoint,
          get.underDepths
            .filter((k) => k <= segments.length)
            .map((k) => underTag(host, segments.slice(0, k))),
        );
      return { kind: 'read', endpoint, route };
    }
    const links = this.#writes.get(endpoint)!;
    return {
      kind: 'write',
      endpoint,
      finish: (status, location, contentLocation) => {
        if (!invalidatesOn(status)) return undefined;
        const tags = writeTags(links, host, segments);
        // §4.4, as a policy route does: a created resource's path (a POST's `Location`) may
        // hold a 404 stored before it existed, which no link of the plan reaches.
        for (const tag of locationTags(host, path, location, contentLocation)) {
          if (!tags.includes(tag)) tags.push(tag);
        }
        return this.#mw.invalidateTags(tags);
      },
    };
  }

  #route(e: PlanEndpoint, extraTags: string[]): HttpCacheRoute {
    return this.#mw.route({
      ttl: e.ttlMs,
      varyBy: e.varyBy ?? [],
      tags: [...(e.tags ?? []), ...extraTags],
      // Writes are the plan's to invalidate, not the route's.
      invalidate: false,
    });
  }

  #add(e: PlanEndpoint): void {
    let node = this.#tries.get(e.method);
    if (node === undefined) {
      node = newNode();
      this.#tries.set(e.method, node);
    }
    for (const seg of splitTemplate(e.path)) {
      if (seg.param) {
        node.param ??= newNode();
        node = node.param;
      } else {
        let child = node.literals.get(seg.text);
        if (child === undefined) {
          child = newNode();
          node.literals.set(seg.text, child);
        }
        node = child;
      }
    }
    node.endpoint ??= e;
  }
}

const newNode = (): MatchNode => ({ literals: new Map(), param: undefined, endpoint: undefined });

/** Literal segments first, then a parameter; backtracks when a literal branch dead-ends. */
function match(node: MatchNode, segments: string[], i: number): PlanEndpoint | undefined {
  if (i === segments.length) return node.endpoint;
  const literal = node.literals.get(segments[i]!);
  if (literal !== undefined) {
    const found = match(literal, segments, i + 1);
    if (found !== undefined) return found;
  }
  return node.param === undefined ? undefined : match(node.param, segments, i + 1);
}

function underTag(host: string, segments: string[]): string {
  return `codeai:under:${host}/${segments.join('/')}`;
}

/** The tags a successful write to `segments` invalidates. */
function writeTags(links: WriteLinks, host: string, segments: string[]): string[] {
  const tags = new Set<string>();
  for (const template of links.bound) {
    if (template.length > segments.length) continue;
    let fits = true;
    for (let i = 0; i < template.length; i++) {
      const seg = template[i]!;
      if (!seg.param && seg.text !== segments[i]) {
        fits = false;
        break;
      }
    }
    if (fits) tags.add(pathTag(host, `/${segments.slice(0, template.length).join('/')}`));
  }
  if (links.descendants) tags.add(underTag(host, segments));
  for (const a of links.annotated) tags.add(a.path === undefined ? a.tag : pathTag(host, a.path));
  return [...tags];
}
