/**
 * Turning a stored response into what an adapter writes: the stored status, headers and body
 * bytes, plus `Age` (RFC 9111 §5.1), `X-Cache` and `Content-Length`; no body for HEAD
 * (RFC 9110 §9.3.2), a 304 when the client's validators match (RFC 9111 §4.3.2), and a
 * 206 / 416 for a `Range` request (RFC 9110 §14, range.ts) — after the validators, as
 * RFC 9110 §13.2.2 orders the preconditions before Range.
 */
import { Buffer } from 'node:buffer';
import { type Conditions, notModified, notModifiedHeaders } from './conditional.js';
import type { StoredResponse } from './entry.js';
import type { XCache } from './events.js';
import { currentAgeMs } from './freshness.js';
import type { FlatHeaders } from './headers.js';
import { type HeldParts, heldAnswer, heldSlice } from './partial-content.js';
import { contentRange, type RangeAnswer, rangeAnswer } from './range.js';

/** A response ready to write: `headers` is flat and lowercase, `body` absent for HEAD and 304. */
export interface ReplayResponse {
  status: number;
  headers: FlatHeaders;
  body: Buffer | undefined;
  /**
   * The stored body even for HEAD, for frameworks that derive a HEAD's `Content-Length` from
   * the payload they are given and drop it themselves (Fastify). Absent for 204 and 304.
   */
  headBody: Buffer | undefined;
  xCache: XCache;
  /** Whether a field name occurs twice in `headers`. */
  repeatedNames: boolean;
}

/** How a stored response is being used. */
export interface ReplayOptions {
  xCache: XCache;
  head: boolean;
  conditions: Conditions | undefined;
  now: number;
  /** Send `Age` (served from storage); a response straight from the origin has none. */
  withAge: boolean;
  /** The request's `Range` (a GET's only), answered with 206 / 416 from the stored body. */
  range?: string | undefined;
  /** The request's `If-Range`. */
  ifRange?: string | undefined;
}

/**
 * Builds the response an adapter writes for a stored (or just-fetched) response. A partial
 * entry (`stored.parts`) is only ever replayed for a request it can answer (route.ts checks
 * `heldAnswer` first, RFC 9111 §3.3): a 304 for matching validators, else a 206 or 416.
 */
export function replay(stored: StoredResponse, options: ReplayOptions): ReplayResponse {
  const parts = stored.parts;
  if (
    options.conditions !== undefined &&
    // A partial entry's validators are its complete representation's (a 304 stands for the 200).
    notModified(options.conditions, parts === undefined ? stored.status : 200, stored.headers)
  ) {
    const headers = notModifiedHeaders(stored.headers);
    if (options.withAge) headers.push('age', ageSeconds(stored, options.now));
    headers.push('x-cache', options.xCache);
    return {
      status: 304,
      headers,
      body: undefined,
      headBody: undefined,
      xCache: options.xCache,
      repeatedNames: stored.repeatedNames,
    };
  }
  if (parts !== undefined) {
    const answer = heldAnswer(parts, stored.headers, options.range, options.ifRange)!;
    return partial(stored, answer, options, parts);
  }
  if (options.range !== undefined && !options.head) {
    const answer = rangeAnswer(
      options.range,
      options.ifRange,
      stored.status,
      stored.headers,
      stored.body.length,
    );
    if (answer.kind !== 'full') return partial(stored, answer, options);
  }
  const headers = stored.headers.slice();
  if (options.withAge) headers.push('age', ageSeconds(stored, options.now));
  headers.push('x-cache', options.xCache);
  // 204 and 304 never carry a body or Content-Length (RFC 9110 §8.6).
  if (stored.status !== 204 && stored.status !== 304) {
    headers.push('content-length', String(stored.body.length));
  }
  const bodyless = stored.status === 204 || stored.status === 304;
  return {
    status: stored.status,
    headers,
    body: options.head || bodyless ? undefined : stored.body,
    headBody: bodyless ? undefined : stored.body,
    xCache: options.xCache,
    repeatedNames: stored.repeatedNames,
  };
}

/** A 206 with the requested slice, or a 416 (RFC 9110 §15.3.7, §15.5.17). */
function partial(
  stored: StoredResponse,
  answer: Exclude<RangeAnswer, { kind: 'full' }>,
  options: ReplayOptions,
  parts?: HeldParts,
): ReplayResponse {
  const satisfied = answer.kind === 'partial';
  // A 416 describes the range, not the representation: only Content-Range goes with it.
  const headers = satisfied ? stored.headers.slice() : [];
  if (options.withAge) headers.push('age', ageSeconds(stored, options.now));
  headers.push('x-cache', options.xCache, 'content-range', contentRange(answer));
  const body = !satisfied
    ? EMPTY
    : parts === undefined
      ? stored.body.subarray(answer.start, answer.end + 1)
      : heldSlice(parts, stored.body, answer.start, answer.end);
  headers.push('content-length', String(body.length));
  return {
    status: satisfied ? 206 : 416,
    headers,
    body,
    headBody: body,
    xCache: options.xCache,
    repeatedNames: satisfied && stored.repeatedNames,
  };
}

const EMPTY = Buffer.alloc(0);

function ageSeconds(stored: StoredResponse, now: number): string {
  return String(Math.floor(currentAgeMs(stored.info, now) / 1000));
}

/** A short gateway answer the cache makes itself: no body, `X-Cache: MISS`. */
function gatewayAnswer(status: 502 | 504, body?: Buffer): ReplayResponse {
  return Object.freeze({
    status,
    headers: ['content-length', '0', 'x-cache', 'MISS'],
    body,
    headBody: undefined,
    xCache: 'MISS',
    repeatedNames: false,
  }) as ReplayResponse;
}

/** `504`: `only-if-cached` with nothing usable stored, or a must-revalidate entry whose origin failed. */
export const GATEWAY_TIMEOUT = gatewayAnswer(504);
/** `502`: a revalidation answered by a 304 that selects no stored response (RFC 9111 §4.3.4). */
export const BAD_GATEWAY = gatewayAnswer(502, Buffer.alloc(0));
