/**
 * A child process holding one TieredCache, driven by its parent over IPC: the parent sends
 * `{ id, op, args }`, the child answers `{ id, ok, value }` or `{ id, ok: false, error }`.
 * Values cross as strings (`null` for a miss). Started by processes.ts.
 */
import { TieredCache, type TieredCacheOptions } from '../../src/index.js';

interface Request {
  id: number;
  op: string;
  args: unknown[];
}

const options = JSON.parse(process.env.TIERED_OPTIONS ?? '{}') as TieredCacheOptions;
const cache = new TieredCache(options);
let factoryRuns = 0;

const text = (b: Buffer | undefined): string | null => (b === undefined ? null : b.toString());

async function handle(op: string, args: unknown[]): Promise<unknown> {
  const [key, value] = args as [string, string];
  switch (op) {
    case 'start':
      await cache.start();
      return cache.bus.id;
    case 'get':
      return text(await cache.get(key));
    case 'set':
      await cache.set(key, value, args[2] as number | undefined, args[3] as { tags?: string[] });
      return null;
    case 'health':
      return cache.health();
    case 'stats':
      return cache.stats();
    case 'mset':
      await cache.mset(args[0] as Record<string, string>);
      return null;
    case 'delete':
      return cache.delete(key);
    case 'deletePattern':
      return cache.deletePattern(key);
    case 'clear':
      await cache.clear();
      return null;
    case 'incr':
      return cache.incr(key);
    case 'decr':
      return cache.decr(key);
    case 'invalidateTags':
      await cache.invalidateTags(args[0] as string[]);
      return null;
    case 'getOrSetMany': {
      // `count` concurrent calls on one key; the factory holds long enough for all to pile up.
      const count = args[1] as number;
      const holdMs = args[2] as number;
      const results = await Promise.all(
        Array.from({ length: count }, () =>
          cache.getOrSet(
            key,
            async () => {
              factoryRuns++;
              await new Promise((r) => setTimeout(r, holdMs));
              return { by: process.pid };
            },
            { ttl: '10m' },
          ),
        ),
      );
      return { runs: factoryRuns, distinct: new Set(results.map((r) => JSON.stringify(r))).size };
    }
    case 'getOrSet':
      return cache.getOrSet(key, () => value, { ttl: '1m' });
    case 'bus':
      return cache.bus;
    case 'stop':
      await cache.stop();
      return null;
    default:
      throw new Error(`unknown op ${op}`);
  }
}

process.on('message', (msg: Request) => {
  handle(msg.op, msg.args).then(
    (value) => process.send?.({ id: msg.id, ok: true, value }),
    (err: unknown) =>
      process.send?.({
        id: msg.id,
        ok: false,
        error: { message: (err as Error).message, code: (err as { code?: string }).code },
      }),
  );
});
process.on('disconnect', () => {
  void cache.stop().finally(() => process.exit(0));
});
process.send?.({ id: 0, ok: true, value: 'ready' });
