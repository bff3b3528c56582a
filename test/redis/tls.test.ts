/**
 * `rediss://` against a real TLS listener: a private redis-server with a throwaway CA and
 * server certificate made by openssl for this test. The cache connects when given the CA,
 * and refuses (CONNECTION) a server it cannot verify.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCache, RedisCache } from '../../src/index.js';
import { findFreePort, type RedisServer, startRedis } from '../harness/redis.js';

let dir: string;
let server: RedisServer;
let tlsPort: number;
let ca: Buffer;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'codeai-cache-tls-'));
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=test-ca',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  );
  openssl(
    ...[
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
    ],
    ...['-days', '1', '-out', 'server.crt'],
  );
  ca = readFileSync(join(dir, 'ca.crt'));
  tlsPort = await findFreePort();
  server = await startRedis({
    args: [
      ...['--tls-port', String(tlsPort), '--tls-auth-clients', 'no'],
      ...['--tls-cert-file', join(dir, 'server.crt'), '--tls-key-file', join(dir, 'server.key')],
      ...['--tls-ca-cert-file', join(dir, 'ca.crt')],
    ],
  });
}, 30_000);

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('connects over TLS with rediss:// and the CA', async () => {
  const cache = new RedisCache({
    url: `rediss://127.0.0.1:${tlsPort}/0?prefix=tls`,
    tls: { ca, servername: 'localhost' },
  });
  try {
    await cache.start();
    await cache.set('k', 'over tls');
    expect((await cache.get('k'))?.toString()).toBe('over tls');
    expect(await server.cli('GET', 'tls:k')).toBe('over tls');
  } finally {
    await cache.stop();
  }
});

it('refuses a server whose certificate it cannot verify', async () => {
  const cache = createCache(`rediss://127.0.0.1:${tlsPort}`);
  try {
    await expect(cache.start()).rejects.toMatchObject({ code: 'CONNECTION' });
  } finally {
    await cache.stop();
  }
});
