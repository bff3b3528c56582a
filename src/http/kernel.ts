/**
 * The adapter kernel: what every adapter (node:http, Fastify, Hono / Fetch) does with a
 * request, written once. An adapter only translates its framework's request and response:
 * it reads request headers, hands the kernel a {@link Selector}, and follows the
 * {@link Step} it gets back.
 *
 * - Selection: a request goes to one route (a policy) or to a CodeAI plan (plan-routes.ts);
 *   both are a {@link Selector}, so no adapter has a plan variant of its own.
 * - Forwarding: before the origin sees a miss, the client's validators come off (the cache
 *   answers them itself from the full response) and the stored entry's go on (RFC 9111
 *   §4.3.1); {@link forwardEdits} says which.
 * - Headers: the flat list the core works with, grouped (`{ name: value | value[] }`) or
 *   node's `writeHead` list, and a request header getter over node's header record.
 * - stale-while-revalidate (RFC 5861 §3): {@link BackgroundRefresh} runs one refresh per key
 *   at a time, off the request's path; an adapter supplies how to re-run its origin.
 */
import type { FlatHeaders, HeaderGetter } from './headers.js';
import type { PlanRoutes } from './plan-routes.js';
import type { ReadContext } from './read-context.js';
import type { HttpCacheRoute, Outcome, Plan } from './route.js';

/** A write's invalidation: call with the final status and location fields, await what it returns. */
export type FinishWrite = Extract<Plan, { kind: 'write' }>['finish'];

/** What the kernel decided for one request. */
export type Step =
  /** Not ours (a plan's uncached endpoint, a route with `cache: false`): leave it alone. */
  | { readonly kind: 'pass' }
  /** Forward to the origin with `X-Cache: BYPASS`. */
  | { readonly kind: 'bypass' }
  /** Forward with `X-Cache: BYPASS`; call `finish` once the head is known and hold the end on it. */
  | { readonly kind: 'write'; readonly finish: FinishWrite }
  /** A cacheable read: `route.lookup(ctx)` (or `route.refresh(ctx)` for the cache's own refresh). */
  | { readonly kind: 'read'; readonly route: HttpCacheRoute; readonly ctx: ReadContext };

/** Picks what to do with a request; `url` is the origin-form target `/path?query`. */
export type Selector = (method: string, url: string, header: HeaderGetter) => Step;

const PASS: Step = { kind: 'pass' };
const BYPASS: Step = { kind: 'bypass' };

/** The step a route's plan maps to. */
export function stepOf(route: HttpCacheRoute, plan: Plan): Step {
  if (plan.kind === 'read') return { kind: 'read', route, ctx: plan.ctx };
  return plan.kind === 'write' ? { kind: 'write', finish: plan.finish } : BYPASS;
}

/** A selector applying one route to every request. */
export function routeSelector(route: HttpCacheRoute): Selector {
  return (method, url, header) => stepOf(route, route.begin(method, url, header));
}

/** A selector applying a CodeAI plan: its cached GETs, its linked writes, nothing else. */
export function planSelector(routes: PlanRoutes): Selector {
  return (method, url, header) => {
    const d = routes.decide(method, url, header);
    if (d.kind === 'pass') return PASS;
    if (d.kind === 'read') return stepOf(d.route, d.route.begin(method, url, header));
    return { kind: 'write', finish: d.finish };
  };
}

/** Edits to the request before a miss goes to the origin. */
export interface ForwardEdits {
  /** Request fields to remove (the client's own validators). */
  readonly remove: readonly string[];
  /** Request fields to set, flat (the stored entry's validators). */
  readonly set: FlatHeaders;
}

const CLIENT_VALIDATORS = ['if-none-match', 'if-modified-since'] as const;
const RANGE_FIELDS = ['range', 'if-range'] as const;
const BOTH = [...CLIENT_VALIDATORS, ...RANGE_FIELDS] as const;
const NONE: readonly string[] = [];

/** What to change in the request before the origin sees this miss; `undefined` for nothing. */
export function forwardEdits(
  ctx: ReadContext,
  outcome: Extract<Outcome, { kind: 'fetch' }>,
): ForwardEdits | undefined {
  const validators = outcome.validators;
  // A conditional request asks the origin for the full response so it can be stored; the
  // recorder answers the client's validators itself (RFC 9111 §4.3.2). `Range` and
  // `If-Range` go through: the origin's 206 is what the client asked for, and the cache
  // stores and combines it (RFC 9111 §3.3–§3.4, partial-content.ts) — except for the cache's
  // own background refresh, which fetches the whole representation (`whole`).
  const conditional = ctx.conditions !== undefined;
  const remove =
    outcome.whole === true && ctx.range !== undefined
      ? conditional
        ? BOTH
        : RANGE_FIELDS
      : conditional
        ? CLIENT_VALIDATORS
        : NONE;
  if (validators === undefined && remove.length === 0) return undefined;
  return { remove, set: validators ?? [] };
}

/** Applies {@link forwardEdits} to a mutable header record (node's `req.headers`). */
export function applyEdits(
  headers: Record<string, string | string[] | undefined>,
  edits: ForwardEdits | undefined,
): void {
  if (edits === undefined) return;
  for (const name of edits.remove) delete headers[name];
  for (let i = 0; i < edits.set.length; i += 2) headers[edits.set[i]!] = edits.set[i + 1];
}

/** Request headers as node keeps them (`IncomingMessage.headers`). */
export type NodeHeaderRecord = Readonly<Record<string, string | string[] | undefined>>;

/** Reads request headers from node's record; repeated lines come back comma-joined. */
export function nodeHeaderGetter(headers: NodeHeaderRecord): HeaderGetter {
  return (name) => {
    const v = headers[name];
    return v === undefined || typeof v === 'string' ? v : v.join(', ');
  };
}

/** Flat headers as an object, repeated names as arrays. */
export function groupHeaders(flat: FlatHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!;
    const value = flat[i + 1]!;
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

/** Flat headers as a record with repeated fields joined by ", " (RFC 9110 §5.3). */
export function joinHeaders(flat: FlatHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!;
    const prev = out[name];
    out[name] = prev === undefined ? flat[i + 1]! : `${prev}, ${flat[i + 1]!}`;
  }
  return out;
}

/** Flat headers as node's `writeHead` takes them when names repeat: one entry per name. */
export function toNodeHeaders(flat: FlatHeaders): (string | string[])[] {
  const out: (string | string[])[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i] as string;
    const value = flat[i + 1] as string;
    let merged = false;
    for (let j = 0; j < out.length; j += 2) {
      if (out[j] === name) {
        const prev = out[j + 1]!;
        out[j + 1] = Array.isArray(prev) ? [...prev, value] : [prev, value];
        merged = true;
        break;
      }
    }
    if (!merged) out.push(name, value);
  }
  return out;
}

/**
 * stale-while-revalidate's background refresh (RFC 5861 §3): the stale copy is served at
 * once and `run` re-runs the origin off the request's path. One refresh per key at a time;
 * a failed refresh only means the next stale request tries again.
 */
export class BackgroundRefresh {
  readonly #running = new Set<string>();

  /** Starts `run` for `key` unless one is already running. */
  start(key: string, run: () => Promise<unknown>): void {
    if (this.#running.has(key)) return;
    this.#running.add(key);
    let pending: Promise<unknown>;
    try {
      pending = run();
    } catch {
      this.#running.delete(key);
      return;
    }
    pending.then(
      () => this.#running.delete(key),
      () => this.#running.delete(key),
    );
  }
}
