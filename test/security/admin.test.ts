/**
 * The admin surface of `serve` (`/__cache/health`, `/__cache/metrics`, `/__cache/invalidate`,
 * src/proxy/admin.ts) and what the CLI prints about where a cache lives.
 *
 * Without `adminToken` only a person on this machine may use it: a loopback peer, not
 * relayed by a local reverse proxy, naming a loopback `Host` (no DNS rebinding), and posting
 * JSON (no cross-site form). With a token, exactly `Authorization: Bearer <token>`, compared
 * through SHA-256 digests with `timingSafeEqual` (by construction: a timing measurement on a
 * loaded 2-core machine would prove nothing). Nothing under `/__cache/` is ever forwarded to
 * the origin or stored, and no URL password reaches an answer, a log line or CLI output.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { type IncomingMessage, request } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Proxy as CachingProxy, createProxy } from '../../src/proxy/proxy.js';
import { cli } from '../cli/run-cli.js';
import { findFreePort, startRedis } from '../harness/redis.js';
import { TestOrigin } from '../serve/util.js';

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** One request to `host:port` with raw headers (no Host added unless given). */
function call(
  address: { host: string; port: number },
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: address.host, port: address.port, path, method, headers, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const JSON_TYPE = { 'content-type': 'application/json' };

let origin: TestOrigin | undefined;
let proxy: CachingProxy | undefined;

afterEach(async () => {
  await proxy?.close(1_000);
  await new Promise<void>((ok) => (origin ? origin.server.close(() => ok()) : ok()));
  proxy = undefined;
  origin = undefined;
});

/** A proxy in front of an origin with one fresh route, `/page`. */
async function open(options: { adminToken?: string; bind?: string } = {}) {
  origin = new TestOrigin().on('GET /page', (_req, res) => {
    res.writeHead(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain' });
    res.end('page');
  });
  const upstream = await origin.listen();
  proxy = createProxy({ upstream, adminToken: options.adminToken });
  const { port, host } = await proxy.listen(0, options.bind ?? '127.0.0.1');
  const address = { host: options.bind === '0.0.0.0' ? '127.0.0.1' : host, port };
  // Stored, so an invalidation that goes through is visible.
  await call(address, '/page');
  expect((await call(address, '/page')).headers['x-cache']).toBe('HIT');
  return address;
}

const isHit = async (address: { host: string; port: number }) =>
  (await call(address, '/page')).headers['x-cache'] === 'HIT';

const INVALIDATE = JSON.stringify({ path: '/page' });

describe('admin without a token', () => {
  it('answers a loopback client on this machine: health, metrics, invalidate', async () => {
    const at = await open();
    for (const host of [`127.0.0.1:${at.port}`, `localhost:${at.port}`, 'localhost']) {
      expect((await call(at, '/__cache/health', { host })).status).toBe(200);
    }
    expect((await call(at, '/__cache/metrics')).status).toBe(200);
    const inv = await call(at, '/__cache/invalidate', JSON_TYPE, 'POST', INVALIDATE);
    expect(inv.status).toBe(200);
    expect(await isHit(at)).toBe(false);
  });

  it('refuses a request relayed by a reverse proxy on this machine (the client is elsewhere)', async () => {
    const at = await open();
    const relays: Record<string, string>[] = [
      { 'x-forwarded-for': '203.0.113.9' },
      { forwarded: 'for=203.0.113.9' },
      { 'x-real-ip': '203.0.113.9' },
      { via: '1.1 nginx' },
    ];
    for (const relayed of relays) {
      for (const path of ['/__cache/health', '/__cache/metrics']) {
        expect((await call(at, path, relayed)).status, `${path} ${Object.keys(relayed)}`).toBe(403);
      }
      const inv = await call(
        at,
        '/__cache/invalidate',
        { ...relayed, ...JSON_TYPE },
        'POST',
        INVALIDATE,
      );
      expect(inv.status).toBe(403);
      expect(await isHit(at)).toBe(true);
    }
  });

  it('refuses a page of another site reaching 127.0.0.1 through DNS rebinding (its Host)', async () => {
    const at = await open();
    for (const host of ['evil.example', `evil.example:${at.port}`, '127.0.0.1.evil.example']) {
      expect((await call(at, '/__cache/health', { host })).status).toBe(403);
      const inv = await call(at, '/__cache/invalidate', { host, ...JSON_TYPE }, 'POST', INVALIDATE);
      expect(inv.status).toBe(403);
    }
    expect(await isHit(at)).toBe(true);
  });

  it('refuses an invalidation a cross-site form or a no-cors fetch could send (not JSON)', async () => {
    const at = await open();
    for (const type of [undefined, 'text/plain', 'application/x-www-form-urlencoded']) {
      const headers: Record<string, string> = type === undefined ? {} : { 'content-type': type };
      const inv = await call(at, '/__cache/invalidate', headers, 'POST', INVALIDATE);
      expect(inv.status, String(type)).toBe(415);
    }
    expect(await isHit(at)).toBe(true);
  });

  it('refuses a client that is not on loopback', async (ctx) => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;
    if (external === undefined) {
      ctx.skip(); // no non-loopback IPv4 interface on this machine
      return;
    }
    const at = await open({ bind: '0.0.0.0' });
    const remote = { host: external, port: at.port };
    for (const path of ['/__cache/health', '/__cache/metrics']) {
      expect((await call(remote, path, { host: `localhost:${at.port}` })).status).toBe(403);
    }
    const inv = await call(remote, '/__cache/invalidate', JSON_TYPE, 'POST', INVALIDATE);
    expect(inv.status).toBe(403);
    expect(await isHit(at)).toBe(true);
  });

  it('nothing under /__cache/ is forwarded or stored, and look-alike paths never reach it', async () => {
    const at = await open();
    for (const path of [
      '/__cache/keys',
      '/__cache/',
      '/__cache/../__cache/health',
      '/__cache/health/',
    ]) {
      const r = await call(at, path);
      expect(r.status, path).toBe(404);
      expect(r.headers['x-cache']).toBeUndefined();
    }
    const health = await call(at, '/__cache/health');
    expect(health.headers['cache-control']).toBe('no-store');
    expect((await call(at, '/__cache/health')).headers['x-cache']).toBeUndefined();
    // Spellings that are not the admin prefix go to the origin, which has no such route.
    for (const path of [
      '//__cache/health',
      '/%5F%5Fcache/health',
      '/__CACHE/health',
      '/x/../__cache/health',
    ]) {
      const r = await call(at, path);
      expect(r.body, path).not.toMatch(/uptime/);
    }
    // The origin saw the look-alikes, never a path under the admin prefix itself.
    const seen = [...origin!.calls.keys()].map((k) => k.split(' ')[1]!);
    expect(seen).toContain('//__cache/health');
    expect(seen.some((p) => p.startsWith('/__cache/'))).toBe(false);
  });
});

describe('admin with a token', () => {
  const TOKEN = 's3cret-Token-0123456789';

  it('works with exactly the bearer token, from loopback or relayed', async () => {
    const at = await open({ adminToken: TOKEN });
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await call(at, '/__cache/health', auth)).status).toBe(200);
    expect(
      (await call(at, '/__cache/metrics', { ...auth, 'x-forwarded-for': '1.2.3.4' })).status,
    ).toBe(200);
    const inv = await call(at, '/__cache/invalidate', auth, 'POST', INVALIDATE);
    expect(inv.status).toBe(200);
    expect(await isHit(at)).toBe(false);
  });

  it('answers 401 with WWW-Authenticate to a missing or wrong token, and changes nothing', async () => {
    const at = await open({ adminToken: TOKEN });
    const wrong: Record<string, string>[] = [
      {},
      { authorization: `Bearer ${TOKEN.slice(0, -1)}x` }, // same length
      { authorization: `Bearer ${TOKEN.slice(0, -1)}` }, // a prefix
      { authorization: `Bearer ${TOKEN}x` }, // longer
      { authorization: `bearer ${TOKEN}` },
      { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` },
      { authorization: TOKEN },
      { authorization: 'Bearer ' },
      { 'x-admin-token': TOKEN },
    ];
    for (const headers of wrong) {
      for (const path of [
        '/__cache/health',
        '/__cache/metrics',
        `/__cache/health?token=${TOKEN}`,
      ]) {
        const r = await call(at, path, headers);
        expect(r.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(r.headers['www-authenticate']).toBe('Bearer');
        expect(r.body).not.toMatch(/uptime|codeai_cache/);
      }
      const inv = await call(
        at,
        '/__cache/invalidate',
        { ...headers, ...JSON_TYPE },
        'POST',
        INVALIDATE,
      );
      expect(inv.status).toBe(401);
    }
    expect(await isHit(at)).toBe(true);
  });
});

describe('no Redis password in answers, logs or CLI output', () => {
  const PASSWORD = 'hunter2-Pw';

  it('serve: health, metrics and its log never show the cache URL password', async () => {
    const dead = await findFreePort();
    const lines: string[] = [];
    origin = new TestOrigin();
    proxy = createProxy({
      upstream: await origin.listen(),
      cache: `redis://user:${PASSWORD}@127.0.0.1:${dead}`,
      log: (line) => lines.push(line),
    });
    const at = await proxy.listen(0, '127.0.0.1');
    const health = await call(at, '/__cache/health');
    const metrics = await call(at, '/__cache/metrics');
    await call(at, '/page');
    for (const text of [health.body, metrics.body, lines.join('\n')]) {
      expect(text).not.toContain(PASSWORD);
    }
  });

  it('the CLI commands mask the password, on a live server and on a dead one', async () => {
    const server = await startRedis({ password: PASSWORD });
    try {
      const live = `redis://:${PASSWORD}@127.0.0.1:${server.port}`;
      const dead = `redis://:${PASSWORD}@127.0.0.1:${await findFreePort()}`;
      // A spec that names its Redis with the password in the URL.
      const spec = join(await mkdtemp(join(tmpdir(), 'sec-spec-')), 'app.cai');
      await writeFile(spec, `config { cache: "redis" cache_url: "${live}" }\n`);
      // Five subprocesses (each a tsx start on a loaded machine): text and JSON output, a
      // live server and a dead one, the URL from a flag, the environment and a spec.
      const runs = await Promise.all([
        cli(['stats', '--cache', live]),
        cli(['keys', '--cache', live, '*']),
        cli(['stats', '--json'], { REDIS_URL: dead }),
        cli(['plan', spec, '--json']),
        cli(['plan', spec]),
      ]);
      expect(runs[0]!.code).toBe(0);
      for (const [i, run] of runs.entries()) {
        expect(`${run.stdout}\n${run.stderr}`, `run ${i}`).not.toContain(PASSWORD);
      }
      expect(runs[0]!.stdout).toContain('***');
      expect(runs.at(-2)!.stdout).toContain('***');
    } finally {
      await server.stop();
    }
  });
});
