/**
 * The soak's checker: is an answer for the user who asked, for the resource asked, in the
 * variant asked, and no older than every write acknowledged more than `staleAfterMs` before
 * the read started?
 *
 * Acknowledged writes are kept per resource in the order they were acknowledged (one
 * event loop: that is time order), each with the running maximum of the versions so far,
 * so "the newest version acknowledged before t" is one binary search.
 */
import type { ReadBody } from './origin.js';

/** What a read must be checked against. */
export interface ReadQuestion {
  /** The resource key (`resourceOf`). */
  resource: string;
  /** The user whose credentials went with the request, `"public"` for public routes. */
  expectedUser: string;
  /** The language asked for, on `/api/me/profile`. */
  lang?: string;
  /** `performance.now()` when the request was sent. */
  startedAt: number;
}

/** What was wrong with one read, if anything. */
export interface Verdict {
  wrongUser: boolean;
  wrongResource: boolean;
  wrongVariant: boolean;
  /** The body did not parse, or a status the origin never sends for this read. */
  malformed: boolean;
  stale: boolean;
  /** When stale: the version shown and the one required. */
  shown?: number;
  required?: number;
}

const OK: Verdict = Object.freeze({
  wrongUser: false,
  wrongResource: false,
  wrongVariant: false,
  malformed: false,
  stale: false,
});

interface History {
  at: number[];
  /** Running maximum of the acknowledged versions. */
  max: number[];
}

/** See the file comment. */
export class Oracle {
  readonly #acks = new Map<string, History>();
  readonly #staleAfterMs: number;

  constructor(staleAfterMs: number) {
    this.#staleAfterMs = staleAfterMs;
  }

  /** A write that made `resource` version `version` was acknowledged at `at`. */
  ack(resource: string, version: number, at: number): void {
    let h = this.#acks.get(resource);
    if (h === undefined) {
      h = { at: [], max: [] };
      this.#acks.set(resource, h);
    }
    const last = h.max.length > 0 ? h.max[h.max.length - 1]! : 0;
    h.at.push(at);
    h.max.push(Math.max(last, version));
  }

  /** The newest version of `resource` acknowledged strictly before `before` (0: none). */
  required(resource: string, before: number): number {
    const h = this.#acks.get(resource);
    if (h === undefined) return 0;
    let lo = 0;
    let hi = h.at.length; // First index with at >= before.
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (h.at[mid]! < before) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 0 : h.max[lo - 1]!;
  }

  /** Checks one answer (`status`, raw `text`) to the read `q`. */
  check(q: ReadQuestion, status: number, text: string): Verdict {
    let body: ReadBody;
    try {
      body = JSON.parse(text) as ReadBody;
    } catch {
      return { ...OK, malformed: true };
    }
    if (typeof body !== 'object' || body === null || typeof body.version !== 'number') {
      return { ...OK, malformed: true };
    }
    const v: Verdict = { ...OK };
    if (body.user !== q.expectedUser) v.wrongUser = true;
    if (body.resource !== q.resource) v.wrongResource = true;
    if (q.lang !== undefined && body.lang !== q.lang) v.wrongVariant = true;
    if ((status === 404) !== (body.missing === true)) v.malformed = true;
    const required = this.required(q.resource, q.startedAt - this.#staleAfterMs);
    if (!v.wrongResource && body.version < required) {
      v.stale = true;
      v.shown = body.version;
      v.required = required;
    }
    return v;
  }
}
