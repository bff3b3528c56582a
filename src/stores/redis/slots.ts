/**
 * Redis Cluster hash slots, so multi-key commands (MGET, MSET, UNLINK) can be split into
 * groups that each live in one slot: a Cluster refuses a multi-key command whose keys span
 * slots (CROSSSLOT), even when one node serves all of them.
 *
 * The slot is CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0) of the key's UTF-8
 * bytes, or of its hash tag (the text between the first `{` and the next `}` when that is
 * not empty), modulo 16384 — the rule in the Redis Cluster specification. The tests check
 * it against the server's own `CLUSTER KEYSLOT`.
 */
import { Buffer } from 'node:buffer';

/** Number of hash slots in a Redis Cluster. */
export const SLOT_COUNT = 16_384;

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    table[byte] = crc & 0xffff;
  }
  return table;
})();

function crc16(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++)
    crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ bytes[i]!) & 0xff]!;
  return crc;
}

const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }

/** The hash slot of a key, as a Redis Cluster computes it. */
export function keySlot(key: string | Uint8Array): number {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  let start = 0;
  let end = bytes.length;
  const open = bytes.indexOf(OPEN);
  if (open >= 0) {
    const close = bytes.indexOf(CLOSE, open + 1);
    if (close > open + 1) {
      start = open + 1;
      end = close;
    }
  }
  return crc16(bytes, start, end) % SLOT_COUNT;
}

/** Indexes of `keys` grouped by slot, in first-seen order. */
export function groupBySlot(keys: readonly (string | Uint8Array)[]): number[][] {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < keys.length; i++) {
    const slot = keySlot(keys[i]!);
    const group = groups.get(slot);
    if (group === undefined) groups.set(slot, [i]);
    else group.push(i);
  }
  return [...groups.values()];
}
