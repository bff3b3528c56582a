/**
 * One process of the multi-process getOrSet tests: its own RedisCache, `calls` concurrent
 * `getOrSet(key)` once told to go. Run as `node --import tsx worker.ts '<WorkerConfig JSON>'`.
 *
 * stdin, one word a line: `go` starts the calls; `finish` lets a `gated` factory return.
 * stdout, one JSON object a line: `{ event: 'ready' }` once started, `{ event: 'computing' }`
 * each time the factory runs, `{ event: 'done', runs, values, errors }` once every call
 * settled (`values`: each distinct result as JSON text with how many calls got it). The
 * process exits after `done`.
 */
import { createInterface } from 'node:readline';
import { type Duration, RedisCache, type RedisCacheOptions } from '../../src/index.js';

/** What the test asks of one worker. */
export interface WorkerConfig {
  connection: RedisCacheOptions;
  prefix: string;
  key: string;
  calls: number;
  /** `quick`: returns after `delayMs`; `gated`: after `finish` on stdin; `hang`: never. */
  factory: 'quick' | 'gated' | 'hang';
  delayMs?: number;
  lock?: { ttl?: Duration; wait?: Duration };
}

/** A worker's final report. */
export interface WorkerReport {
  event: 'done';
  runs: number;
  values: Record<string, number>;
  errors: string[];
}

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
const say = (o: object): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

let go!: () => void;
const going = new Promise<void>((r) => (go = r));
let finish!: () => void;
const finished = new Promise<void>((r) => (finish = r));
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line === 'go') go();
  if (line === 'finish') finish();
});

const cache = new RedisCache({ ...config.connection, prefix: config.prefix });
// Failures the cache reports (a restarted Redis) are expected; they must not crash us.
cache.on('error', () => {});
await cache.start();

let runs = 0;
const factory = async (): Promise<{ pid: number; run: number }> => {
  runs++;
  const run = runs;
  say({ event: 'computing', run });
  if (config.factory === 'gated') await finished;
  else if (config.factory === 'hang') await new Promise(() => {});
  else await new Promise((r) => setTimeout(r, config.delayMs ?? 0));
  return { pid: process.pid, run };
};

say({ event: 'ready' });
await going;
const settled = await Promise.allSettled(
  Array.from({ length: config.calls }, () =>
    cache.getOrSet(config.key, factory, { ttl: '5m', ...(config.lock && { lock: config.lock }) }),
  ),
);
const values: Record<string, number> = {};
const errors: string[] = [];
for (const s of settled) {
  if (s.status === 'rejected') errors.push(String(s.reason));
  else {
    const text = JSON.stringify(s.value);
    values[text] = (values[text] ?? 0) + 1;
  }
}
say({ event: 'done', runs, values, errors } satisfies WorkerReport);
lines.close();
await cache.stop();
// Nothing of ours should keep the process alive; exit anyway so a test never waits on it.
process.stdout.write('', () => process.exit(0));
