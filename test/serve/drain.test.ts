/**
 * `Proxy.close(drainMs)`, in-process: what SIGINT / SIGTERM run. In-flight requests finish,
 * idle keep-alive connections do not hold the drain up, and what is still running at the
 * bound is cut so the process can exit.
 */
import { Agent, request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type Proxy as CacheProxy, createProxy } from '../../src/index.js';
import { TestOrigin, until } from './util.js';

describe('closing the proxy', () => {
  let origin: TestOrigin;
  let proxy: CacheProxy | undefined;
  afterEach(async () => {
    await proxy?.close(0);
    await origin.close();
  });

  function get(url: string, agent: Agent): Promise<{ status: number; body: string }> {
    return new Promise((ok, fail) => {
      const req = request(url, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('error', fail);
        res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', fail);
      req.end();
    });
  }

  it('lets an in-flight request finish; an idle keep-alive connection does not hold it up', async () => {
    let release: (() => void) | undefined;
    origin = new TestOrigin()
      .on('GET /quick', (_req, res) => res.end('quick'))
      .on('GET /slow', (_req, res) => {
        release = () => res.end('finally');
      });
    proxy = createProxy({ upstream: await origin.listen() });
    const { url } = await proxy.listen(0);
    const idle = new Agent({ keepAlive: true });
    const busy = new Agent({ keepAlive: true });
    // A connection left open and idle by a keep-alive client.
    expect((await get(`${url}/quick`, idle)).body).toBe('quick');
    await until(
      'the connection to rest in the pool',
      () => Object.keys(idle.freeSockets).length === 1,
    );
    const resting = Object.values(idle.freeSockets)[0]![0]!;
    const restingClosed = new Promise<void>((ok) => resting.once('close', () => ok()));
    const slow = get(`${url}/slow`, busy);
    await until('the origin to see the slow request', () => release !== undefined);
    let closed = false;
    const closing = proxy.close(60_000).then(() => {
      closed = true;
    });
    // The proxy closes the idle connection while the slow request is still running.
    await restingClosed;
    expect(closed).toBe(false);
    release!();
    expect((await slow).body).toBe('finally');
    await closing;
    idle.destroy();
    busy.destroy();
  });

  it('cuts what is still running at the bound, and resolves', async () => {
    origin = new TestOrigin().on('GET /never', () => {});
    proxy = createProxy({ upstream: await origin.listen() });
    const { url } = await proxy.listen(0);
    const agent = new Agent({ keepAlive: true });
    const stuck = get(`${url}/never`, agent);
    await until('the origin to see the request', () => origin.count('GET /never') === 1);
    await proxy.close(100);
    await expect(stuck).rejects.toThrow();
    agent.destroy();
  });
});
