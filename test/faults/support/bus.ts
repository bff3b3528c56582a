/**
 * Helpers for the invalidation-bus fault tests: find and kill a TieredCache's bus
 * subscriber on the server side, and read its bus counters.
 */
import type { TieredCache } from '../../../src/index.js';
import { redisCli } from '../../harness/tools.js';

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
