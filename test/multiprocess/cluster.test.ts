/**
 * getOrSet across real processes on the shared 3-master Cluster: one factory run for
 * 4 × 250 concurrent calls, and a lock holder killed mid-factory.
 */
import { afterEach, describe, inject, it } from 'vitest';
import { killedHolder, oneRunAcrossProcesses } from './scenarios.js';
import { killAll } from './workers.js';

afterEach(killAll);

describe('getOrSet across processes (cluster)', () => {
  it('4 processes × 250 concurrent calls on one cold key run the factory once', async () => {
    await oneRunAcrossProcesses({ cluster: { nodes: inject('clusterNodes') } });
  }, 120_000);

  it('a lock holder killed mid-factory: one waiting process runs it after the lock expires', async () => {
    await killedHolder({ cluster: { nodes: inject('clusterNodes') } });
  }, 120_000);
});
