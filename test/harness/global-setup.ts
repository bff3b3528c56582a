/**
 * Vitest global setup of the `redis` project: one shared standalone server for the whole
 * project, handed to test files as `inject('redisUrl')`. The `cluster` project's setup
 * (global-setup-cluster.ts) adds a shared cluster, `inject('clusterNodes')`; the `unit`
 * project has no global setup and starts no Redis at all.
 *
 * These are shared by every test file of a project, so a test must not pause, kill,
 * FLUSHALL or reconfigure them: fault tests start their own servers with `startRedis()`,
 * and tests that write use their own key prefix.
 */
import type { TestProject } from 'vitest/node';
import { type RedisCluster, type RedisServer, startCluster, startRedis } from './redis.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `redis://127.0.0.1:PORT` of the shared standalone server. */
    redisUrl: string;
    /** The shared cluster's nodes, to seed a cluster client (`cluster` project only). */
    clusterNodes: { host: string; port: number }[];
  }
}

/**
 * Starts the shared servers (in parallel: the cluster's formation, about 2.2 s, dominates),
 * provides their addresses, and returns the teardown that stops them. The harness registry
 * kills them anyway if the teardown never runs.
 */
export async function startShared(
  project: TestProject,
  { cluster: withCluster }: { cluster: boolean },
): Promise<() => Promise<void>> {
  const results = await Promise.allSettled([
    startRedis(),
    withCluster ? startCluster() : Promise.resolve(undefined),
  ]);
  const [server, nodes] = results;
  const standalone: RedisServer | undefined =
    server.status === 'fulfilled' ? server.value : undefined;
  const cluster: RedisCluster | undefined = nodes.status === 'fulfilled' ? nodes.value : undefined;
  const teardown = async (): Promise<void> => {
    await Promise.all([standalone?.stop(), cluster?.stop()]);
  };
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure || !standalone || (withCluster && !cluster)) {
    await teardown();
    throw failure?.reason;
  }
  project.provide('redisUrl', standalone.url);
  if (cluster) project.provide('clusterNodes', cluster.startupNodes);
  return teardown;
}

/** Starts the shared standalone server; the returned function is vitest's teardown. */
export function setup(project: TestProject): Promise<() => Promise<void>> {
  return startShared(project, { cluster: false });
}
