/**
 * A real Redis Cluster of private redis-server processes, created with
 * `redis-cli --cluster create` and returned only once every node agrees it is healthy.
 */
import { join } from 'node:path';
import { baseArgv, launchRedis, type RedisServer } from './standalone.js';
import { findFreePort, HOST, parseInfo, redisCli, runRedisCli, waitFor } from './tools.js';

/** A node address, the shape cluster clients take as startup nodes. */
export interface NodeAddress {
  host: string;
  port: number;
}

/** A master as the cluster currently sees it, with the slot ranges it serves. */
export interface ClusterMaster extends NodeAddress {
  slots: Array<[number, number]>;
}

export interface StartClusterOptions {
  /** Number of masters; redis-cli refuses fewer than 3. */
  masters?: number;
  /** Replicas attached to each master. */
  replicasPerMaster?: number;
}

/** A running private cluster. */
export interface RedisCluster {
  /** Every node process, masters and replicas, in start order. */
  nodes: RedisServer[];
  /** The addresses of all nodes, to seed a cluster client. */
  startupNodes: NodeAddress[];
  /** Asks a reachable node for the current masters (changes after a failover). */
  masters(): Promise<ClusterMaster[]>;
  /** Stops every node and removes their temp dirs. */
  stop(): Promise<void>;
}

const SLOTS = 16_384;
const CREATE_TIMEOUT_MS = 30_000;
const HEALTHY_TIMEOUT_MS = 20_000;

function clusterNode(): Promise<RedisServer> {
  return launchRedis({
    label: 'cluster node',
    // The bus port defaults to port + 10000, which may be taken or past 65535; pick it.
    argv: async (port, dir) => [
      ...baseArgv(port, dir),
      ...['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf')],
      ...['--cluster-node-timeout', '2000', '--cluster-port', String(await findFreePort())],
    ],
  });
}

interface NodeEntry extends ClusterMaster {
  flags: Set<string>;
  linkState: string;
}

// `CLUSTER NODES` lines: id ip:port@busport[,hostname] flags master ping pong epoch link slot...
function parseNodes(clusterNodes: string): NodeEntry[] {
  const entries: NodeEntry[] = [];
  for (const line of clusterNodes.split('\n')) {
    const fields = line.trim().split(' ');
    const [, address, flags, , , , , linkState = ''] = fields;
    if (!address || !flags) continue;
    const hostPort = address.split('@')[0] ?? '';
    const colon = hostPort.lastIndexOf(':');
    const slots: Array<[number, number]> = [];
    // Entries like `[93->-nodeid]` are migrations in flight, not owned slots.
    for (const range of fields.slice(8).filter((f) => f && !f.startsWith('['))) {
      const [start, end = start] = range.split('-').map(Number);
      if (start !== undefined && end !== undefined) slots.push([start, end]);
    }
    const host = hostPort.slice(0, colon);
    const port = Number(hostPort.slice(colon + 1));
    entries.push({ host, port, slots, flags: new Set(flags.split(',')), linkState });
  }
  return entries;
}

// The masters not marked failed, sorted by port.
function parseMasters(clusterNodes: string): ClusterMaster[] {
  return parseNodes(clusterNodes)
    .filter((n) => n.flags.has('master') && !n.flags.has('fail') && !n.flags.has('noaddr'))
    .map(({ host, port, slots }) => ({ host, port, slots }))
    .sort((a, b) => a.port - b.port);
}

// Ready means this node sees the whole topology redis-cli built: state ok, every slot
// assigned, the expected masters and replicas all connected, and (if it is a replica)
// its own replication link up. Checking only cluster_state returns while replica roles
// are still spreading by gossip, and a test then sees six masters.
async function nodeReady(node: RedisServer, masters: number, replicas: number): Promise<boolean> {
  const info = parseInfo(await node.cli('CLUSTER', 'INFO'));
  if (info.get('cluster_state') !== 'ok') return false;
  if (info.get('cluster_slots_assigned') !== String(SLOTS)) return false;
  const entries = parseNodes(await node.cli('CLUSTER', 'NODES'));
  const connected = entries.filter((n) => n.linkState === 'connected' && !n.flags.has('fail?'));
  const seenMasters = connected.filter((n) => n.flags.has('master') && n.slots.length > 0);
  const seenReplicas = connected.filter((n) => n.flags.has('slave'));
  if (seenMasters.length !== masters || seenReplicas.length !== replicas) return false;
  const role = (await node.cli('ROLE')).split('\n');
  return role[0] === 'master' || role[3] === 'connected';
}

/** Starts `masters × (1 + replicasPerMaster)` private cluster nodes and joins them into a healthy cluster. */
export async function startCluster(options: StartClusterOptions = {}): Promise<RedisCluster> {
  const { masters = 3, replicasPerMaster = 1 } = options;
  if (!Number.isInteger(masters) || masters < 3) {
    throw new Error(`startCluster: masters must be an integer >= 3, got ${masters}`);
  }
  if (!Number.isInteger(replicasPerMaster) || replicasPerMaster < 0) {
    throw new Error(
      `startCluster: replicasPerMaster must be an integer >= 0, got ${replicasPerMaster}`,
    );
  }
  const count = masters * (1 + replicasPerMaster);
  const launched = await Promise.allSettled(Array.from({ length: count }, clusterNode));
  const nodes = launched.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  };

  try {
    const failed = launched.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    await runRedisCli(
      [
        ...['--cluster', 'create', ...nodes.map((n) => `${HOST}:${n.port}`)],
        ...['--cluster-replicas', String(replicasPerMaster), '--cluster-yes'],
      ],
      CREATE_TIMEOUT_MS,
    );
    await waitFor(
      'every node to see a healthy cluster with all masters and replicas connected',
      async () => {
        const ready = await Promise.all(nodes.map((n) => nodeReady(n, masters, count - masters)));
        return ready.every(Boolean);
      },
      { timeoutMs: HEALTHY_TIMEOUT_MS, intervalMs: 100 },
    );
  } catch (error) {
    const logs = nodes.map((n) => `--- node ${n.port} ---\n${n.logTail(10)}`).join('\n');
    await stop();
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`startCluster failed: ${message}\n${logs}`, { cause: error });
  }

  return {
    nodes,
    startupNodes: nodes.map((n) => ({ host: n.host, port: n.port })),
    async masters() {
      // Any node will do; skip ones a test has killed or paused.
      let lastError: unknown;
      for (const node of nodes) {
        try {
          return parseMasters(
            await redisCli(node.port, ['CLUSTER', 'NODES'], { timeoutMs: 1_000 }),
          );
        } catch (error) {
          lastError = error;
        }
      }
      throw new Error('no cluster node answered CLUSTER NODES', { cause: lastError });
    },
    stop,
  };
}
