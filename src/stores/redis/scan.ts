/**
 * Pattern operations without blocking Redis: `SCAN … MATCH … COUNT` in batches, and
 * `UNLINK` per batch — never KEYS, never FLUSHDB, never one huge command. Each SCAN call
 * visits about `SCAN_COUNT` slots of the keyspace and each UNLINK removes at most one
 * batch, so Redis is never busy with us for more than about a millisecond at a time and
 * serves other clients between our calls. UNLINK frees large values in a background
 * thread, where DEL would free them inline.
 *
 * A Cluster's keyspace is split across its masters, and SCAN only sees the node it runs on,
 * so every master is scanned (its replicas hold the same keys). UNLINK of several keys must
 * stay inside one hash slot there, so each batch is grouped by slot.
 *
 * Keys travel as Buffers so a key that is not valid UTF-8 (written by another client into
 * a database we share) can still be matched and deleted byte for byte.
 */
import type { Cluster, Redis } from 'ioredis';
import { abortError } from '../../core/errors.js';
import { isCluster } from './connect.js';
import { groupBySlot } from './slots.js';

/** Slots visited per SCAN call: big enough to be quick, small enough to never stall Redis. */
export const SCAN_COUNT = 1_000;

/** Yields the keys matching `match` (a raw Redis glob), one SCAN reply at a time, across every master. */
export async function* scanBatches(
  client: Redis | Cluster,
  match: string,
  signal?: AbortSignal,
): AsyncGenerator<Buffer[]> {
  const nodes = isCluster(client) ? client.nodes('master') : [client];
  for (const node of nodes) {
    let cursor = '0';
    do {
      if (signal?.aborted) throw abortError(signal);
      const [next, keys] = await node.scanBuffer(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT);
      cursor = next.toString();
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }
}

/** UNLINKs a batch of keys (grouped by slot on a Cluster); resolves to how many existed. */
export async function unlinkBatch(
  client: Redis | Cluster,
  keys: readonly Buffer[],
): Promise<number> {
  if (keys.length === 0) return 0;
  // Keys go as one array, never spread: ioredis's auto-pipelining breaks (it throws from a
  // callback, crashing the process) on a call spread over tens of thousands of arguments.
  if (!isCluster(client)) return Number(await client.unlink(keys as Buffer[]));
  // One UNLINK per slot, all issued together: auto-pipelining sends each node's share in
  // one write, so a batch is still about one round trip.
  const counts = await Promise.all(
    groupBySlot(keys).map((group) => client.unlink(group.map((i) => keys[i]!))),
  );
  let n = 0;
  for (const c of counts) n += Number(c);
  return n;
}

/**
 * Deletes every key matching `match` that `keep` does not claim, batch by batch. The next
 * SCAN runs while the previous batch's UNLINK is in flight (at most one), which halves the
 * wall time without ever sending Redis more than one batch of work at once.
 */
export async function deleteMatching(
  client: Redis | Cluster,
  match: string,
  signal: AbortSignal | undefined,
  keep?: (key: Buffer) => boolean,
): Promise<number> {
  let deleted = 0;
  let pending: Promise<number> | undefined;
  for await (const batch of scanBatches(client, match, signal)) {
    const doomed = keep === undefined ? batch : batch.filter((k) => !keep(k));
    if (pending !== undefined) deleted += await pending;
    pending = unlinkBatch(client, doomed);
  }
  if (pending !== undefined) deleted += await pending;
  return deleted;
}
