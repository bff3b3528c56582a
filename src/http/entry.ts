/**
 * The stored form of a response: one buffer, so a hit is one cache read and a decode that
 * copies nothing but the header block.
 *
 * ```
 * 0   u8  magic 0xCA       1  u8 format version      2 u8 kind (1 response, 2 vary marker)
 * 3   u8  flags (bit 0 no-cache, 1 must-revalidate, 2 immutable)   4 u16 status   6 u16 reserved
 * 8   f64 responseTime     16 f64 initialAgeMs       24 f64 lifetimeMs
 * 32  f64 swrMs            40 f64 sieMs              48 u32 header block length
 * 52  header block: latin1 "name\nvalue\nname\nvalue" (field values cannot hold LF, RFC 9110 §5.5)
 * …   body bytes
 * ```
 *
 * A partial entry (status 206, RFC 9111 §3.3) keeps one `content-range: bytes a-b/size` line
 * per held range at the end of its header block; its body is those ranges' bytes in order
 * (partial-content.ts). Decoded, the lines become `parts` and leave `headers`.
 *
 * A vary marker (kind 2) sits at a primary key whose response named request fields in
 * `Vary`; its header block is those field names, and the response itself lives under the
 * variant key (RFC 9111 §4.1).
 */
import { Buffer } from 'node:buffer';
import type { Decoder } from '../core/shared-read.js';
import type { FreshnessInfo } from './freshness.js';
import type { FlatHeaders } from './headers.js';
import { contentRanges, type HeldParts, heldPartsOf } from './partial-content.js';

const MAGIC = 0xca;
const VERSION = 1;
const KIND_RESPONSE = 1;
const KIND_VARY = 2;
const HEAD = 52;
const CONTENT_RANGE = 'content-range';

/** A decoded stored response. `body` is a view into the buffer the cache returned. */
export interface StoredResponse {
  status: number;
  headers: FlatHeaders;
  body: Buffer;
  info: FreshnessInfo;
  /** Whether a field name occurs twice in `headers` (adapters that key headers by name merge them). */
  repeatedNames: boolean;
  /** For a partial entry (status 206): the ranges `body` holds. Absent for a complete response. */
  parts?: HeldParts | undefined;
}

/** True when some field name occurs more than once in a flat header list. */
export function hasRepeatedNames(headers: FlatHeaders): boolean {
  for (let i = 2; i < headers.length; i += 2) {
    for (let j = 0; j < i; j += 2) if (headers[i] === headers[j]) return true;
  }
  return false;
}

/** What a read at a primary key can find. */
export type Decoded =
  | { kind: 'response'; response: StoredResponse }
  | { kind: 'vary'; fields: string[] }
  | undefined;

/** Encodes a response for the cache. */
export function encodeResponse(response: Omit<StoredResponse, 'repeatedNames'>): Buffer {
  const parts = response.parts;
  const lines = parts === undefined ? response.headers : [...response.headers];
  if (parts !== undefined)
    for (const value of contentRanges(parts)) lines.push(CONTENT_RANGE, value);
  const block = lines.join('\n');
  const blockLength = block.length;
  const out = Buffer.allocUnsafe(HEAD + blockLength + response.body.length);
  const info = response.info;
  out[0] = MAGIC;
  out[1] = VERSION;
  out[2] = KIND_RESPONSE;
  out[3] = (info.noCache ? 1 : 0) | (info.mustRevalidate ? 2 : 0) | (info.immutable ? 4 : 0);
  out.writeUInt16LE(response.status, 4);
  out.writeUInt16LE(0, 6);
  out.writeDoubleLE(info.responseTime, 8);
  out.writeDoubleLE(info.initialAgeMs, 16);
  out.writeDoubleLE(info.lifetimeMs, 24);
  out.writeDoubleLE(info.swrMs, 32);
  out.writeDoubleLE(info.sieMs, 40);
  out.writeUInt32LE(blockLength, 48);
  out.write(block, HEAD, 'latin1');
  out.set(response.body, HEAD + blockLength);
  return out;
}

/** Encodes a vary marker naming the request fields the response varies on. */
export function encodeVaryMarker(fields: readonly string[]): Buffer {
  const block = fields.join('\n');
  const out = Buffer.alloc(HEAD + block.length);
  out[0] = MAGIC;
  out[1] = VERSION;
  out[2] = KIND_VARY;
  out.writeUInt32LE(block.length, 48);
  out.write(block, HEAD, 'latin1');
  return out;
}

/**
 * Decodes what the cache returned. Anything that is not one of our entries (another format
 * version, a foreign value under our key) reads as `undefined`, i.e. a miss.
 */
/** {@link decode} over what a shared read hands out (a one-byte string is its bytes). */
export const decodeShared: Decoder<Decoded> = (bytes) =>
  decode(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);

export function decode(buf: Buffer | undefined): Decoded {
  if (buf === undefined || buf.length < HEAD || buf[0] !== MAGIC || buf[1] !== VERSION) {
    return undefined;
  }
  const blockLength = buf.readUInt32LE(48);
  if (HEAD + blockLength > buf.length) return undefined;
  const block = buf.toString('latin1', HEAD, HEAD + blockLength);
  const kind = buf[2];
  if (kind === KIND_VARY) {
    return { kind: 'vary', fields: block.length > 0 ? block.split('\n') : [] };
  }
  if (kind !== KIND_RESPONSE) return undefined;
  let headers = block.length > 0 ? block.split('\n') : [];
  if (headers.length % 2 !== 0) return undefined;
  const status = buf.readUInt16LE(4);
  const body = buf.subarray(HEAD + blockLength);
  let parts: HeldParts | undefined;
  if (status === 206) {
    // The range lines close the block (the representation's headers never hold one).
    let at = headers.length;
    while (at >= 2 && headers[at - 2] === CONTENT_RANGE) at -= 2;
    const ranges: string[] = [];
    for (let i = at; i < headers.length; i += 2) ranges.push(headers[i + 1]!);
    parts = heldPartsOf(ranges, body.length);
    if (parts === undefined) return undefined;
    headers = headers.slice(0, at);
  }
  return {
    kind: 'response',
    response: {
      status,
      headers,
      body,
      repeatedNames: hasRepeatedNames(headers),
      parts,
      info: {
        responseTime: buf.readDoubleLE(8),
        initialAgeMs: buf.readDoubleLE(16),
        lifetimeMs: buf.readDoubleLE(24),
        swrMs: buf.readDoubleLE(32),
        sieMs: buf.readDoubleLE(40),
        noCache: (buf[3]! & 1) === 1,
        mustRevalidate: (buf[3]! & 2) === 2,
        immutable: (buf[3]! & 4) === 4,
      },
    },
  };
}
