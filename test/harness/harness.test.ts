import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type RedisServer,
  requireRedisBinaries,
  startCluster,
  startRedis,
  startSentinel,
} from './redis.js';
import { redisCli, waitFor } from './tools.js';

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('standalone server', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(() => server?.stop());

  it('answers PING, SET and GET through cli on a private loopback port', async () => {
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(server.port).not.toBe(6379);
    expect(await server.cli('PING')).toBe('PONG');
    expect(await server.cli('SET', 'greeting', 'hello world')).toBe('OK');
    expect(await server.cli('GET', 'greeting')).toBe('hello world');
    expect(await server.cli('CONFIG', 'GET', 'save')).toBe('save\n');
  });

  it('times out PING while paused and answers again after resume', async () => {
    server.pause();
    await expect(server.ping(300)).rejects.toThrow(/timed out/);
    server.resume();
    await server.ping(1_000);
  });

  it('comes back on the same port after a crash and restart', async () => {
    const { port, pid } = server;
    await server.kill();
    expect(processExists(pid)).toBe(false);
    await expect(server.ping(300)).rejects.toThrow();
    await server.restart();
    expect(server.port).toBe(port);
    expect(server.pid).not.toBe(pid);
    expect(await server.cli('PING')).toBe('PONG');
  });
});

describe('server lifecycle', () => {
  it('stop kills the process and removes the temp dir', async () => {
    const server = await startRedis();
    const { pid, dir } = server;
    expect(existsSync(dir)).toBe(true);
    await server.stop();
    expect(processExists(pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });

  it('passes extra args and authenticates cli when a password is set', async () => {
    const server = await startRedis({ password: 's3cret', args: ['--maxmemory', '10mb'] });
    try {
      expect(await server.cli('CONFIG', 'GET', 'maxmemory')).toBe('maxmemory\n10485760');
      expect(await redisCli(server.port, ['PING'])).toMatch(/NOAUTH/);
    } finally {
      await server.stop();
    }
  });

  it('shows the tail of the server log when startup fails', async () => {
    await expect(startRedis({ args: ['--no-such-directive', 'x'] })).rejects.toThrow(
      /redis\.log[\s\S]*no-such-directive/i,
    );
  });

  it('says how to install redis-server when it is not on PATH', () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(() => requireRedisBinaries()).toThrow(
        'redis-server not found: install it (apt-get install -y redis-server)',
      );
    } finally {
      process.env.PATH = path;
    }
  });

  // The watchdog covers SIGKILL, which no in-process handler can; SIGTERM takes the
  // signal-handler path.
  it.each(['SIGKILL', 'SIGTERM'] as const)(
    'leaves no server or temp dir behind when the test process dies by %s',
    async (signal) => {
      const fixture = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
      const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout.setEncoding('utf8');
        child.stdout.once('data', resolve);
        child.once('exit', () => reject(new Error('crash-child exited before starting')));
      });
      const { pid, dir } = JSON.parse(line) as { pid: number; dir: string };
      expect(processExists(pid)).toBe(true);
      child.kill(signal);
      try {
        await waitFor('the orphaned server to be killed and its dir removed', async () => {
          return !processExists(pid) && !existsSync(dir);
        });
      } finally {
        child.kill('SIGKILL');
      }
    },
  );
});

describe('shared servers from global setup', () => {
  it('provides a private standalone url and cluster nodes', async () => {
    const url = new URL(inject('redisUrl'));
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.port).not.toBe('6379');
    expect(await redisCli(Number(url.port), ['PING'])).toBe('PONG');
    const nodes = inject('clusterNodes');
    expect(nodes).toHaveLength(6);
    const first = nodes[0]!;
    expect(await redisCli(first.port, ['CLUSTER', 'INFO'])).toMatch(/cluster_state:ok/);
  });
});

describe('cluster', () => {
  it('has 3 masters covering all 16384 slots and follows redirects with -c', async () => {
    const cluster = await startCluster();
    try {
      expect(cluster.nodes).toHaveLength(6);
      expect(cluster.startupNodes).toHaveLength(6);
      const masters = await cluster.masters();
      expect(masters).toHaveLength(3);
      const covered = masters.flatMap((m) => m.slots).reduce((n, [a, b]) => n + b - a + 1, 0);
      expect(covered).toBe(16_384);

      // Different keys hash to slots on different masters, so some of these redirect.
      const [a, b] = cluster.nodes;
      for (const key of ['alpha', 'beta', 'gamma', 'delta']) {
        expect(await a!.cli('-c', 'SET', key, `v-${key}`)).toBe('OK');
        expect(await b!.cli('-c', 'GET', key)).toBe(`v-${key}`);
      }
    } finally {
      await cluster.stop();
    }
  });
});

describe('sentinel', () => {
  it('promotes the replica on failover', async () => {
    const deployment = await startSentinel({ sentinels: 3 });
    try {
      const { masterName, master, replica, sentinels } = deployment;
      expect(sentinels).toHaveLength(3);
      const addr = await sentinels[0]!.cli('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName);
      expect(addr).toBe(`127.0.0.1\n${master.port}`);

      await deployment.failover();

      for (const sentinel of sentinels) {
        expect(await sentinel.cli('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName)).toBe(
          `127.0.0.1\n${replica.port}`,
        );
      }
      expect((await replica.cli('ROLE')).split('\n')[0]).toBe('master');
      expect(await replica.cli('SET', 'after-failover', '1')).toBe('OK');
    } finally {
      await deployment.stop();
    }
  });
});
