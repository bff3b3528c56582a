/**
 * The Redis test harness: private redis-server processes on free loopback ports, never the
 * machine's shared Redis. Import from here; the other files are its parts.
 */
export {
  type ClusterMaster,
  type NodeAddress,
  type RedisCluster,
  type StartClusterOptions,
  startCluster,
} from './cluster.js';
export {
  type RedisSentinelDeployment,
  type StartSentinelOptions,
  startSentinel,
} from './sentinel.js';
export { type RedisServer, type StartRedisOptions, startRedis } from './standalone.js';
export { findFreePort, HOST, requireRedisBinaries } from './tools.js';
