/**
 * `stop()` leaves nothing that keeps the process alive: a child process that starts a
 * cache, uses it (timers, sweeps, getOrSet, sockets, pub/sub) and stops it must exit on its
 * own, without `process.exit` — promptly, even when Redis is paused or killed.
 */
import { spawn } from 'node:child_process';
import { describe, expect, inject, it } from 'vitest';
import { startRedis } from './harness/redis.js';

const root = new URL('..', import.meta.url).pathname;

function runChild(source: string): Promise<{ code: number | null; out: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', source],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the process did not exit after stop(); output:\n${out}`));
    }, 15_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, ms: Date.now() - started });
    });
  });
}

const exercise = (url: string) => `
import { createCache } from './src/index.ts';
const cache = createCache(${JSON.stringify(url)});
await cache.start();
await cache.set('k', 'v', '1h');
await cache.getOrSet('g', async () => 1, { ttl: '1h', grace: '1h', timeout: '30s' });
await cache.setJSON('t', 1, '1h', { tags: ['x'] });
await cache.invalidateTags(['x']);
await cache.keys('*');
await cache.stop();
await new Promise((r) => setImmediate(r));
console.log('stopped', JSON.stringify(process.getActiveResourcesInfo()));
`;

describe('stop() releases everything', () => {
  it('a memory cache lets the process exit', async () => {
    const { code, out } = await runChild(exercise('memory://?sweepInterval=50'));
    expect(out).toContain('stopped');
    // Even the unref'd sweep timer must be gone, not merely unref'd.
    expect(out).not.toContain('Timeout');
    expect(code).toBe(0);
  });

  it('a Redis cache lets the process exit', async () => {
    const url = `${inject('redisUrl')}?prefix=lifecycle${Date.now()}`;
    const { code, out } = await runChild(exercise(url));
    expect(out).toContain('stopped');
    expect(code).toBe(0);
  });
});

/**
 * A child with two caches on `url`, one waiting on the other's getOrSet lock (so the flights'
 * pub/sub subscriber is open). It prints `ready`, waits for a line on stdin, makes one call
 * (which notices a killed server), prints `stopping`, stops both caches and prints
 * `stopped <ms>`.
 */
const outage = (url: string) => `
import { RedisCache } from './src/index.ts';
const options = { url: ${JSON.stringify(url)}, prefix: 'lifecycle-outage', commandTimeout: 300, breaker: false };
const a = new RedisCache(options);
const b = new RedisCache(options);
await a.start();
await b.start();
let release;
const held = a.getOrSet('g', () => new Promise((r) => (release = r)));
while (release === undefined) await new Promise((r) => setImmediate(r));
const waiting = b.getOrSet('g', () => 'b');
setTimeout(() => release('a'), 50);
await Promise.all([held, waiting]);
console.log('ready');
process.stdin.once('data', async () => {
  process.stdin.destroy();
  await a.get('k');
  console.log('stopping');
  const t0 = performance.now();
  await Promise.all([a.stop(), b.stop()]);
  console.log('stopped', Math.round(performance.now() - t0));
});
`;

/** Runs the outage child: `fault` is applied once it is ready; resolves with its timings. */
async function runOutageChild(
  url: string,
  fault: () => Promise<void> | void,
): Promise<{ code: number | null; out: string; stopMs: number; exitMs: number }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', outage(url)],
    {
      cwd: root,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let stoppingAt = 0;
  let onReady: () => void = () => {};
  const ready = new Promise<void>((r) => (onReady = r));
  child.stdout.on('data', (d) => {
    out += d;
    if (out.includes('ready')) onReady();
    if (stoppingAt === 0 && out.includes('stopping')) stoppingAt = performance.now();
  });
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the process did not exit after stop(); output:\n${out}`));
    }, 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  await Promise.race([ready, exited]);
  await fault();
  child.stdin.write('go\n');
  const code = await exited;
  const exitMs = stoppingAt === 0 ? Number.NaN : performance.now() - stoppingAt;
  const stopMs = Number(/stopped (\d+)/.exec(out)?.[1] ?? Number.NaN);
  return { code, out, stopMs, exitMs };
}

// ioredis's own wait for a half-closed socket is 2 s from the disconnect stop() makes, and a
// timer never fires early: a child that still held one would exit at least 2 s after stop()
// began. Exit is timed from there; the bounds sit far from both outcomes.
describe('stop() lets the process exit promptly whatever Redis does', () => {
  it('regression: with Redis paused, the flights subscriber held the process for 2 s after stop()', async () => {
    const server = await startRedis();
    try {
      const run = await runOutageChild(server.url, () => server.pause());
      expect(run.out).toContain('stopped');
      expect(run.code).toBe(0);
      expect(run.stopMs).toBeLessThan(1_000);
      expect(run.exitMs).toBeLessThan(1_500);
    } finally {
      server.resume();
      await server.stop();
    }
  });

  it('regression: with Redis killed, a reconnecting client held the process for 2 s after stop()', async () => {
    const server = await startRedis();
    try {
      const run = await runOutageChild(server.url, () => server.kill());
      expect(run.out).toContain('stopped');
      expect(run.code).toBe(0);
      expect(run.stopMs).toBeLessThan(1_000);
      expect(run.exitMs).toBeLessThan(1_500);
    } finally {
      await server.stop();
    }
  });
});
