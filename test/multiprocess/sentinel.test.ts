/**
 * getOrSet across real processes through Sentinel (a private master, replica and
 * sentinels): one factory run for 4 × 250 concurrent calls.
 */
import { afterAll, afterEach, beforeAll, describe, it } from 'vitest';
import type { RedisCacheOptions } from '../../src/index.js';
import { type RedisSentinelDeployment, startSentinel } from '../harness/redis.js';
import { oneRunAcrossProcesses } from './scenarios.js';
import { killAll } from './workers.js';

let deployment: RedisSentinelDeployment;
let connection: RedisCacheOptions;

beforeAll(async () => {
  deployment = await startSentinel();
  connection = {
    sentinel: {
      sentinels: deployment.sentinels.map((s) => ({ host: s.host, port: s.port })),
      name: deployment.masterName,
    },
  };
}, 60_000);

afterAll(async () => {
  await deployment?.stop();
});

afterEach(killAll);

describe('getOrSet across processes (sentinel)', () => {
  it('4 processes × 250 concurrent calls on one cold key run the factory once', async () => {
    await oneRunAcrossProcesses(connection);
  }, 120_000);
});
