/**
 * Helpers for the invalidation-bus fault tests: fill B's L1 from A's writes, read every key
 * as B serves it, and find and kill a TieredCache's bus subscriber on the server side.
 */
import { expect } from 'vitest';
import type { TieredCache } from '../../../src/index.js';
import { eventually } from '../../eventually.js';
import { redisCli } from '../../harness/tools.js';

/** The keys the bus tests write and read. */
export const KEYS = Array.from({ length: 20 }, (_, i) => `k${i}`);

/**
 * A writes every key at v0 and B's L1 ends up holding them all. A read overlapping an
 * invalidation message stores nothing (fill-guard.ts): let A's messages land first, then
 * read until every key is held.
 */
export async function fillL1(a: TieredCache, b: TieredCache): Promise<void> {
  await a.mset(Object.fromEntries(KEYS.map((k) => [k, 'v0'])));
  await eventually(() => expect(b.bus.received).toBeGreaterThan(0));
  await eventually(async () => {
    await Promise.all(KEYS.map((k) => b.get(k)));
    expect(b.stats().entries).toBe(KEYS.length);
  });
}

/** Every key as `cache` serves it. */
export async function readAll(cache: TieredCache): Promise<(string | undefined)[]> {
  return Promise.all(KEYS.map(async (k) => (await cache.get(k))?.toString()));
}

/** One `CLIENT LIST` line as fields. */
export type ClientInfo = Map<string, string>;

export async function clientList(port: number): Promise<ClientInfo[]> {
  const out = await redisCli(port, ['CLIENT', 'LIST'], { timeoutMs: 5_000 });
  return out
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map(
      (line) =>
        new Map(
          line
            .trim()
            .split(' ')
            .map((f) => {
              const eq = f.indexOf('=');
              return [f.slice(0, eq), f.slice(eq + 1)] as [string, string];
            }),
        ),
    );
}

/**
 * Kills `cache`'s invalidation-bus subscriber on whichever of `ports` holds it (the bus
 * names its connection `codeai-cache:bus:<instance id>`). Resolves with how many it killed.
 */
export async function killBusSubscriber(cache: TieredCache, ports: number[]): Promise<number> {
  const name = `codeai-cache:bus:${cache.bus.id}`;
  let killed = 0;
  for (const port of ports) {
    let clients: ClientInfo[];
    try {
      clients = await clientList(port);
    } catch {
      continue; // A node a test has killed.
    }
    for (const c of clients.filter((c) => c.get('name') === name)) {
      await redisCli(port, ['CLIENT', 'KILL', 'ID', c.get('id') as string], { timeoutMs: 5_000 });
      killed++;
    }
  }
  return killed;
}
