/**
 * Vitest global setup: one shared standalone server and one shared cluster for the whole
 * run, started in parallel (about 2.2 s, the cluster's formation dominates) and handed to
 * test files as `inject('redisUrl')` and `inject('clusterNodes')`.
 *
 * These are shared by every test file, so a test must not pause, kill, FLUSHALL or
 * reconfigure them: fault tests start their own servers with `startRedis()`, and tests
 * that write use their own key prefix.
 */
import type { TestProject } from 'vitest/node';
import { type RedisCluster, type RedisServer, startCluster, startRedis } from './redis.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `redis://127.0.0.1:PORT` of the shared standalone server. */
    redisUrl: string;
    /** The shared cluster's nodes, to seed a cluster client. */
    clusterNodes: { host: string; port: number }[];
  }
}

let standalone: RedisServer | undefined;
let cluster: RedisCluster | undefined;

/** Starts the shared servers and provides their addresses to test files. */
export async function setup(project: TestProject): Promise<void> {
  const results = await Promise.allSettled([startRedis(), startCluster()]);
  const [server, nodes] = results;
  if (server.status === 'fulfilled') standalone = server.value;
  if (nodes.status === 'fulfilled') cluster = nodes.value;
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure || !standalone || !cluster) {
    await teardown();
    throw failure?.reason;
  }
  project.provide('redisUrl', standalone.url);
  project.provide('clusterNodes', cluster.startupNodes);
}

/** Stops the shared servers; the harness registry kills them anyway if this never runs. */
export async function teardown(): Promise<void> {
  await Promise.all([standalone?.stop(), cluster?.stop()]);
  standalone = undefined;
  cluster = undefined;
}
