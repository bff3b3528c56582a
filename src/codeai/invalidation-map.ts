/**
 * Which cached GET endpoints a successful write invalidates (CODEAI.md, "Automatic
 * invalidation"): the GETs on the same path and on its ancestors for every write, plus its
 * descendants for PUT / PATCH / DELETE. Segments are compared by position; a parameter
 * overlaps any segment, so `DELETE /authors/:id` reaches `GET /authors/:authorId/books`
 * and `GET /authors/featured` alike — over-invalidating a route that may share a URL is
 * safe, missing one is not.
 *
 * Cost: the GET templates go into a segment trie, and each write walks it once, so a
 * 5,000-endpoint spec links in linear time for ordinary REST shapes instead of comparing
 * every write with every GET.
 */
import type { InvalidationLink, PlanEndpoint } from './plan.js';
import type { Segment } from './route-path.js';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const DESCENDING_WRITES = new Set(['PUT', 'PATCH', 'DELETE']);

/** True for the methods whose success invalidates. */
export function isWriteMethod(method: string): boolean {
  return WRITES.has(method);
}

interface TrieNode {
  literals: Map<string, TrieNode>;
  param: TrieNode | undefined;
  /** GET endpoints whose template ends here. */
  here: PlanEndpoint[];
  /** Memo: every GET at or below this node. */
  below: PlanEndpoint[] | undefined;
}

const node = (): TrieNode => ({
  literals: new Map(),
  param: undefined,
  here: [],
  below: undefined,
});

/**
 * Fills `invalidates` / `invalidatedBy` on the endpoints. Every GET is linked, cached or not,
 * so a plan shows what a directive added later would get; the middleware acts on cached ones.
 */
export function linkInvalidations(
  endpoints: PlanEndpoint[],
  segmentsOf: (e: PlanEndpoint) => Segment[],
): void {
  const root = node();
  for (const e of endpoints) {
    if (e.method !== 'GET') continue;
    let n = root;
    for (const seg of segmentsOf(e)) {
      if (seg.param) {
        n.param ??= node();
        n = n.param;
      } else {
        let child = n.literals.get(seg.text);
        if (!child) {
          child = node();
          n.literals.set(seg.text, child);
        }
        n = child;
      }
    }
    n.here.push(e);
  }
  for (const w of endpoints) {
    if (!WRITES.has(w.method)) continue;
    const segments = segmentsOf(w);
    let frontier: TrieNode[] = [root];
    for (let depth = 0; depth <= segments.length && frontier.length > 0; depth++) {
      if (depth === segments.length) {
        for (const n of frontier) {
          for (const g of n.here) link(w, g, 'same-path');
          if (DESCENDING_WRITES.has(w.method)) {
            for (const g of below(n)) if (!n.here.includes(g)) link(w, g, 'descendant');
          }
        }
        break;
      }
      for (const n of frontier) for (const g of n.here) link(w, g, 'ancestor');
      frontier = step(frontier, segments[depth]!);
    }
  }
}

/** Adds a link both ways, once per pair. */
export function link(w: PlanEndpoint, g: PlanEndpoint, reason: InvalidationLink['reason']): void {
  if (w.invalidates.some((l) => l.endpoint === g.id)) return;
  w.invalidates.push({ endpoint: g.id, reason });
  g.invalidatedBy.push({ endpoint: w.id, reason });
}

function step(frontier: TrieNode[], seg: Segment): TrieNode[] {
  const next = new Set<TrieNode>();
  for (const n of frontier) {
    if (n.param) next.add(n.param);
    if (seg.param) for (const child of n.literals.values()) next.add(child);
    else {
      const child = n.literals.get(seg.text);
      if (child) next.add(child);
    }
  }
  return [...next];
}

function below(n: TrieNode): PlanEndpoint[] {
  if (n.below) return n.below;
  const all = [...n.here];
  for (const child of n.literals.values()) all.push(...below(child));
  if (n.param) all.push(...below(n.param));
  n.below = all;
  return all;
}
