/**
 * getOrSet across real processes on a standalone Redis: one factory run for 4 × 250
 * concurrent calls, a lock holder killed mid-factory, Redis restarted mid-run.
 */
import { afterAll, afterEach, beforeAll, describe, inject, it } from 'vitest';
import { type RedisServer, startRedis } from '../harness/redis.js';
import { killedHolder, oneRunAcrossProcesses, redisRestart } from './scenarios.js';
import { killAll } from './workers.js';

afterEach(killAll);

describe('getOrSet across processes (standalone)', () => {
  it('4 processes × 250 concurrent calls on one cold key run the factory once', async () => {
    await oneRunAcrossProcesses({ url: inject('redisUrl') });
  }, 120_000);

  it('a lock holder killed mid-factory: one waiting process runs it after the lock expires', async () => {
    await killedHolder({ url: inject('redisUrl') });
  }, 120_000);
});

describe('getOrSet across processes, Redis restarted mid-run', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('every call still gets a value from a factory, and nothing hangs', async () => {
    await redisRestart({ url: server.url }, async () => {
      await server.kill();
      await server.restart();
    });
  }, 120_000);
});
