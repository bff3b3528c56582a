/**
 * `stop()` leaves nothing that keeps the process alive: a child process that starts a
 * cache, uses it (timers, sweeps, getOrSet, sockets, pub/sub) and stops it must exit on its
 * own, without `process.exit`.
 */
import { spawn } from 'node:child_process';
import { describe, expect, inject, it } from 'vitest';

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
