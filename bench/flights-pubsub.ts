/**
 * `npx tsx bench/flights-pubsub.ts`: should getOrSet's release messages use sharded pub/sub
 * on a Cluster? On a private 3-master / 3-replica cluster, one release message per round:
 *
 * - latency: a message published, then awaited by the subscriber, one at a time (p50, p99);
 * - server CPU: `used_cpu_user + used_cpu_sys` summed over every node, per message, for a
 *   burst of messages 100 in flight — a plain PUBLISH is copied to every node by the
 *   cluster bus, SPUBLISH stays in its shard.
 *
 * Plain: PUBLISH / SUBSCRIBE on one channel (what flights.ts does). Sharded: SPUBLISH /
 * SSUBSCRIBE (ioredis `shardedSubscribers`) on a channel in the lock's slot. Measures the
 * message only: a sharded design would also pay an SSUBSCRIBE per wait (a channel per key
 * or slot), not counted here. Reports; never gates.
 */
import { Cluster } from 'ioredis';
import { startCluster } from '../test/harness/redis.js';

const ROUNDS = 2_000;
const BURST = 20_000;
const IN_FLIGHT = 100;

const cluster = await startCluster();
const nodes = cluster.startupNodes;

async function serverCpuMs(): Promise<number> {
  let total = 0;
  for (const node of cluster.nodes) {
    const info = await node.cli('INFO', 'cpu');
    for (const name of ['used_cpu_user', 'used_cpu_sys']) {
      const m = new RegExp(`${name}:([0-9.]+)`).exec(info);
      total += Number(m?.[1] ?? 0) * 1000;
    }
  }
  return total;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

interface Mode {
  name: string;
  channel: string;
  subscribe(sub: Cluster, onMessage: (message: string) => void): Promise<void>;
  publish(pub: Cluster, message: string): Promise<unknown>;
}

const modes: Mode[] = [
  {
    name: 'PUBLISH (plain)',
    channel: '__codeai:flights:0:bench:',
    async subscribe(sub, onMessage) {
      sub.on('message', (_c: string, m: string) => onMessage(m));
      await sub.subscribe(this.channel);
    },
    publish(pub, message) {
      return pub.publish(this.channel, message);
    },
  },
  {
    name: 'SPUBLISH (sharded)',
    channel: '__codeai:flights:{lock:k}',
    async subscribe(sub, onMessage) {
      sub.on('smessage', (_c: string, m: string) => onMessage(m));
      await sub.ssubscribe(this.channel);
    },
    publish(pub, message) {
      return pub.spublish(this.channel, message);
    },
  },
];

const rows: string[][] = [];
for (const mode of modes) {
  const pub = new Cluster(nodes);
  const sub = new Cluster(nodes, { shardedSubscribers: mode.name.startsWith('SPUBLISH') });
  let waiting: ((m: string) => void) | undefined;
  let received = 0;
  await mode.subscribe(sub, (m) => {
    received++;
    waiting?.(m);
  });
  // Warm-up: every connection open, scripts and slots known.
  for (let i = 0; i < 200; i++) {
    const got = new Promise<string>((r) => (waiting = r));
    await mode.publish(pub, `w${i}`);
    await got;
  }
  const latencies: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const got = new Promise<string>((r) => (waiting = r));
    const t0 = performance.now();
    await mode.publish(pub, `m${i}`);
    await got;
    latencies.push(performance.now() - t0);
  }
  waiting = undefined;
  latencies.sort((a, b) => a - b);
  const before = received;
  const cpu0 = await serverCpuMs();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < BURST) {
        next++;
        await mode.publish(pub, 'burst');
      }
    }),
  );
  while (received - before < BURST) await new Promise((r) => setTimeout(r, 10));
  const cpuUs = ((await serverCpuMs()) - cpu0) * 1000;
  rows.push([
    mode.name,
    `${(percentile(latencies, 0.5) * 1000).toFixed(0)} µs`,
    `${(percentile(latencies, 0.99) * 1000).toFixed(0)} µs`,
    `${(cpuUs / BURST).toFixed(1)} µs`,
  ]);
  pub.disconnect();
  sub.disconnect();
}
await cluster.stop();

console.log(`release message on a 3-master / 3-replica cluster (node ${process.version})`);
console.log('mode                 p50 publish→wake   p99 publish→wake   server CPU / message');
for (const [name, p50, p99, cpu] of rows) {
  console.log(
    `${name!.padEnd(20)} ${p50!.padStart(16)}   ${p99!.padStart(16)}   ${cpu!.padStart(20)}`,
  );
}
