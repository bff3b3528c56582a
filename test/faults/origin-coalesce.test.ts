/**
 * A slow origin — within the proxy's timeout — and 200 clients asking for one URL at once,
 * on the memory backend and on a private Redis: the origin is asked once (request
 * coalescing), and every client gets the same status and the same body bytes.
 *
 * test/http/scenarios.ts has the 50-client in-process row for the middleware alone; this is
 * the same promise through `createProxy`'s forwarder and sockets, at four times the crowd.
 */
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { crowd, rawGet } from './support/origin-client.js';
import { BACKENDS, privateRedis, rig } from './support/origin-proxy.js';
import { response } from './support/origin-raw.js';

const CLIENTS = 200;
/** Far above what the held answer below takes, so the timeout never decides anything. */
const T = 15_000;

const redisUrl = privateRedis();

describe.concurrent.each(BACKENDS)('a slow origin and %s: 200 clients on one URL', (backend) => {
  it('asks the origin once and gives every client identical bytes', async () => {
    const r = await rig(backend, redisUrl, T);
    // The origin holds its answer until every client has reached the proxy, and a little
    // longer for their cache lookups (a Redis round trip each) to join the flight: it is
    // "slow" by exactly as much as the test needs, not by a guess at the machine's speed.
    let arrived = 0;
    let release: (() => void) | undefined;
    const allArrived = new Promise<void>((resolve) => {
      release = resolve;
    });
    r.proxy.server.on('request', () => {
      if (++arrived === CLIENTS) release?.();
    });
    const body = `slow but whole ${'x'.repeat(4000)}`;
    r.origin.on('/slow', (socket: Socket) => {
      void allArrived.then(() => setTimeout(() => socket.write(response(body)), 300));
    });

    const seen = await crowd(CLIENTS, () => rawGet(r.url, '/slow', { deadlineMs: T }));
    expect(r.origin.requests('/slow')).toBe(1);
    const outcomes = new Map<string, number>();
    for (const one of seen) {
      expect([one.ending, one.status, one.body.length]).toEqual(['complete', 200, body.length]);
      expect(one.body).toBe(body);
      const x = one.headers['x-cache'] ?? '';
      outcomes.set(x, (outcomes.get(x) ?? 0) + 1);
    }
    // One leader, and every other client served from its response.
    expect(Object.fromEntries(outcomes)).toEqual({ MISS: 1, HIT: CLIENTS - 1 });
    expect(r.stats().coalesced).toBe(CLIENTS - 1);
    await r.finish();
  });
});
