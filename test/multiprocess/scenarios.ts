/**
 * The multi-process getOrSet scenarios, run on standalone, Cluster and Sentinel by the test
 * files beside this one. Each worker is a real Node process with its own RedisCache
 * (worker.ts); factory runs are counted from the workers' stdout.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { RedisCacheOptions } from '../../src/index.js';
import type { WorkerConfig } from './worker.js';
import { mergeValues, runTogether, startWorker } from './workers.js';

/** Generous: the bar is correctness, and a loaded machine may be slow to hand out locks. */
const WAIT = '60s';

function config(connection: RedisCacheOptions, extra: Partial<WorkerConfig>): WorkerConfig {
  return {
    connection,
    prefix: `mp-${randomUUID()}`,
    key: 'cold',
    calls: 250,
    factory: 'quick',
    delayMs: 50,
    lock: { wait: WAIT },
    ...extra,
  };
}

/** 4 processes × 250 concurrent getOrSet on one cold key: exactly one factory run, one value for all. */
export async function oneRunAcrossProcesses(connection: RedisCacheOptions): Promise<void> {
  const workers = await runTogether(4, config(connection, {}));
  const reports = await Promise.all(workers.map((w) => w.report));
  expect(reports.flatMap((r) => r.errors)).toEqual([]);
  expect(reports.reduce((sum, r) => sum + r.runs, 0)).toBe(1);
  const values = mergeValues(reports);
  expect(Object.values(values)).toEqual([1000]);
}

/**
 * A lock holder SIGKILLed mid-factory: it releases nothing, its lock runs out after its TTL
 * (1 s here), and then exactly one of the waiting processes runs the factory; every call
 * of theirs gets that value. Nothing hangs: the test ends when both processes have reported.
 */
export async function killedHolder(connection: RedisCacheOptions): Promise<void> {
  const base = config(connection, { lock: { ttl: '1s', wait: WAIT } });
  const holder = startWorker({ ...base, factory: 'hang', calls: 1 });
  await holder.next('ready');
  holder.send('go');
  await holder.next('computing');
  const others = await runTogether(2, base);
  await holder.kill();
  const reports = await Promise.all(others.map((w) => w.report));
  expect(holder.computing()).toBe(1);
  expect(reports.flatMap((r) => r.errors)).toEqual([]);
  expect(reports.reduce((sum, r) => sum + r.runs, 0)).toBe(1);
  const values = mergeValues(reports);
  expect(Object.values(values)).toEqual([500]);
  const [value] = Object.keys(values).map((v) => JSON.parse(v) as { pid: number });
  expect(others.map((w) => w.child.pid)).toContain(value?.pid);
}

/**
 * Redis restarted (SIGKILL, then started again, empty) while one process runs the factory
 * and the others wait on its lock: every call still gets a value computed by a factory, and
 * every process finishes.
 */
export async function redisRestart(
  connection: RedisCacheOptions,
  restart: () => Promise<void>,
): Promise<void> {
  const workers = await runTogether(
    4,
    config(connection, { factory: 'gated', lock: { ttl: '1s', wait: WAIT } }),
  );
  await Promise.any(workers.map((w) => w.next('computing')));
  await restart();
  for (const w of workers) w.send('finish');
  const reports = await Promise.all(workers.map((w) => w.report));
  expect(reports.flatMap((r) => r.errors)).toEqual([]);
  const values = mergeValues(reports);
  expect(Object.values(values).reduce((a, b) => a + b, 0)).toBe(1000);
  const pids = workers.map((w) => w.child.pid);
  for (const text of Object.keys(values)) {
    const value = JSON.parse(text) as { pid: number; run: number };
    expect(pids).toContain(value.pid);
  }
  // Each distinct value is some factory's result.
  const runs = reports.reduce((sum, r) => sum + r.runs, 0);
  expect(Object.keys(values).length).toBeLessThanOrEqual(runs);
}
