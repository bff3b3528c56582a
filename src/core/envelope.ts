/**
 * The envelope: metadata stored in front of a value when a plain value is not enough.
 *
 * Most entries are stored as the caller's bytes alone, so other Redis clients read them as
 * written. An entry carries an envelope when it has tags (their versions at write time),
 * a logical expiry earlier than its physical one (getOrSet's grace / fail-safe keep the value
 * past its freshness), or when the caller's own bytes happen to begin with the magic — so the
 * format is never ambiguous.
 *
 * Layout: magic(4) · version(1) · freshUntil f64 (ms epoch, 0 = fresh until it expires)
 * · tag count u16 · per tag: length u16, UTF-8 bytes, version f64 · payload.
 */
import { Buffer } from 'node:buffer';

const MAGIC = [0x00, 0xc7, 0xca, 0xe1] as const;
const FORMAT = 1;
const HEADER = MAGIC.length + 1 + 8 + 2;

/** A decoded entry. */
export interface Envelope {
  /** The caller's bytes (a view into the stored buffer). */
  payload: Buffer;
  /** Logical expiry in ms since the epoch; 0 when fresh until the physical TTL. */
  freshUntil: number;
  tags: readonly string[];
  /** Each tag's version when the entry was written, in the order of `tags`. */
  tagVersions: readonly number[];
}

/** True when `bytes` starts with the envelope magic (cheap: the hit path calls it on every read). */
export function hasEnvelope(bytes: Uint8Array): boolean {
  return (
    bytes.length >= HEADER &&
    bytes[0] === MAGIC[0] &&
    bytes[1] === MAGIC[1] &&
    bytes[2] === MAGIC[2] &&
    bytes[3] === MAGIC[3]
  );
}

/** {@link hasEnvelope} for bytes held as a one-byte string (one char per byte). */
export function hasEnvelopeString(bytes: string): boolean {
  return (
    bytes.length >= HEADER &&
    bytes.charCodeAt(0) === MAGIC[0] &&
    bytes.charCodeAt(1) === MAGIC[1] &&
    bytes.charCodeAt(2) === MAGIC[2] &&
    bytes.charCodeAt(3) === MAGIC[3]
  );
}

/** True when a plain value must be wrapped so it is not mistaken for an envelope. */
export const needsEnvelope = hasEnvelope;

/** Encodes an entry with its metadata. */
export function encodeEnvelope(
  payload: Uint8Array,
  freshUntil: number,
  tags: readonly string[] = [],
  tagVersions: readonly number[] = [],
): Buffer {
  const encodedTags = tags.map((t) => Buffer.from(t, 'utf8'));
  let size = HEADER + payload.length;
  for (const t of encodedTags) size += 2 + t.length + 8;
  const out = Buffer.allocUnsafe(size);
  out.set(MAGIC, 0);
  out[4] = FORMAT;
  out.writeDoubleLE(freshUntil, 5);
  out.writeUInt16LE(encodedTags.length, 13);
  let at = HEADER;
  encodedTags.forEach((t, i) => {
    out.writeUInt16LE(t.length, at);
    out.set(t, at + 2);
    out.writeDoubleLE(tagVersions[i] ?? 0, at + 2 + t.length);
    at += 2 + t.length + 8;
  });
  out.set(payload, at);
  return out;
}

/** Decodes an envelope; `undefined` when the bytes are not a well-formed one. */
export function decodeEnvelope(bytes: Buffer): Envelope | undefined {
  if (!hasEnvelope(bytes) || bytes[4] !== FORMAT) return undefined;
  const freshUntil = bytes.readDoubleLE(5);
  const count = bytes.readUInt16LE(13);
  const tags: string[] = [];
  const tagVersions: number[] = [];
  let at = HEADER;
  for (let i = 0; i < count; i++) {
    if (at + 2 > bytes.length) return undefined;
    const len = bytes.readUInt16LE(at);
    if (at + 2 + len + 8 > bytes.length) return undefined;
    tags.push(bytes.toString('utf8', at + 2, at + 2 + len));
    tagVersions.push(bytes.readDoubleLE(at + 2 + len));
    at += 2 + len + 8;
  }
  return { payload: bytes.subarray(at), freshUntil, tags, tagVersions };
}
