/**
 * A private Sentinel deployment: one master, one replica and N sentinels watching them,
 * returned only once every sentinel has found the replica and its peers, because a
 * sentinel that has not yet would answer a failover request with NOGOODSLAVE.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchRedis, type RedisServer, startRedis } from './standalone.js';
import { HOST, parseInfo, sleep, waitFor } from './tools.js';

export interface StartSentinelOptions {
  /** Number of sentinel processes; the quorum is 2 (1 with a single sentinel). */
  sentinels?: number;
  /** The name the sentinels monitor the master under. */
  masterName?: string;
}

/** A running master/replica pair and the sentinels watching it. */
export interface RedisSentinelDeployment {
  masterName: string;
  /** The server started as master (it is the replica after an odd number of failovers). */
  master: RedisServer;
  /** The server started as replica. */
  replica: RedisServer;
  /** The sentinel processes; `host`/`port` are what a Sentinel client takes. */
  sentinels: RedisServer[];
  /**
   * Forces a failover and waits until every sentinel names the other server as master.
   * Like real Sentinel, the demoted server keeps claiming `role:master` for about 10 s
   * until a sentinel reconfigures it; clients that ask the sentinels are not misled.
   */
  failover(): Promise<void>;
  /** Stops sentinels first (so they do not react), then the data nodes. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;
const FAILOVER_TIMEOUT_MS = 20_000;

function startSentinelProcess(name: string, masterPort: number, quorum: number) {
  return launchRedis({
    label: 'sentinel',
    // Sentinel rewrites its config file at runtime, so it must be a real writable file.
    argv: async (port, dir) => {
      const conf = join(dir, 'sentinel.conf');
      const lines = [
        `port ${port}`,
        `bind ${HOST}`,
        `dir ${dir}`,
        'sentinel resolve-hostnames no',
        `sentinel monitor ${name} ${HOST} ${masterPort} ${quorum}`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 5000`,
      ];
      writeFileSync(conf, `${lines.join('\n')}\n`);
      return [conf, '--sentinel'];
    },
  });
}

// redis-cli prints an array reply one element per line: key, value, key, value...
function parsePairs(text: string): Map<string, string> {
  const lines = text.split('\n');
  const pairs = new Map<string, string>();
  for (let i = 0; i + 1 < lines.length; i += 2) pairs.set(lines[i] ?? '', lines[i + 1] ?? '');
  return pairs;
}

async function reportedMasterPort(sentinel: RedisServer, name: string): Promise<number> {
  const [, port] = (await sentinel.cli('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)).split('\n');
  return Number(port);
}

async function replicaLinked(server: RedisServer): Promise<boolean> {
  const info = parseInfo(await server.cli('INFO', 'replication'));
  return info.get('role') === 'slave' && info.get('master_link_status') === 'up';
}

/** Starts a master, a replica of it, and `sentinels` sentinel processes monitoring them. */
export async function startSentinel(
  options: StartSentinelOptions = {},
): Promise<RedisSentinelDeployment> {
  const { sentinels: count = 3, masterName = 'codeai-master' } = options;
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(`startSentinel: sentinels must be an integer >= 1, got ${count}`);
  }
  const started: RedisServer[] = [];
  const sentinels: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(sentinels.map((s) => s.stop()));
    await Promise.all(started.map((s) => s.stop()));
  };

  try {
    const master = await startRedis();
    started.push(master);
    const replica = await startRedis({ args: ['--replicaof', HOST, String(master.port)] });
    started.push(replica);
    await waitFor('the replica to sync with the master', () => replicaLinked(replica));

    const quorum = Math.min(2, count);
    const launched = await Promise.allSettled(
      Array.from({ length: count }, () => startSentinelProcess(masterName, master.port, quorum)),
    );
    for (const r of launched) if (r.status === 'fulfilled') sentinels.push(r.value);
    const failed = launched.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;

    await waitFor(
      'every sentinel to discover the replica and its peer sentinels',
      async () => {
        for (const sentinel of sentinels) {
          const state = parsePairs(await sentinel.cli('SENTINEL', 'MASTER', masterName));
          const ready =
            state.get('flags') === 'master' &&
            Number(state.get('num-slaves')) >= 1 &&
            Number(state.get('num-other-sentinels')) === count - 1;
          if (!ready) return false;
        }
        return true;
      },
      { timeoutMs: READY_TIMEOUT_MS, intervalMs: 100 },
    );

    return {
      masterName,
      master,
      replica,
      sentinels,
      failover: () => failover(masterName, sentinels, master, replica),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function failover(
  name: string,
  sentinels: RedisServer[],
  master: RedisServer,
  replica: RedisServer,
): Promise<void> {
  const leader = sentinels[0]!;
  const current = await reportedMasterPort(leader, name);
  const target = current === master.port ? replica : master;
  const deadline = Date.now() + FAILOVER_TIMEOUT_MS;

  // NOGOODSLAVE / INPROG are transient right after a previous failover: retry until the
  // sentinel has re-learned its replica.
  for (;;) {
    const reply = await leader.cli('SENTINEL', 'FAILOVER', name);
    if (reply === 'OK') break;
    const transient = /NOGOODSLAVE|INPROG/.test(reply);
    if (!transient || Date.now() >= deadline) {
      throw new Error(`SENTINEL FAILOVER ${name} answered: ${reply}`);
    }
    await sleep(200);
  }

  await waitFor(
    `every sentinel to report port ${target.port} as master of ${name}`,
    async () => {
      const ports = await Promise.all(sentinels.map((s) => reportedMasterPort(s, name)));
      return ports.every((port) => port === target.port);
    },
    { timeoutMs: Math.max(1_000, deadline - Date.now()), intervalMs: 100 },
  );
}
