/**
 * Runs the scenario table against every target (each adapter through `CachingMiddleware`,
 * and `serve`, the reverse proxy) × every backend, each on a real server on 127.0.0.1.
 * Adding a backend is one line in BACKENDS; adding an adapter is one line in servers.ts.
 * A row that a target cannot express names the target and why in `Scenario.skip`. A dead
 * backend is dead-backend.test.ts: a real Redis, paused and killed, under every target.
 */
import { randomUUID } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import { afterEach, describe, inject, it } from 'vitest';
import type { Cache } from '../../src/core/types.js';
import { type HttpCacheEvents, httpChannelName } from '../../src/http/events.js';
import { MemoryCache } from '../../src/stores/memory/memory-cache.js';
import { RedisCache } from '../../src/stores/redis/redis-cache.js';
import { send, until } from './client.js';
import { Origin } from './origin.js';
import { type Env, SCENARIOS, type Scenario, TABLE_OPTIONS } from './scenarios.js';
import { TARGETS, type Target } from './targets.js';

/** Backends the table runs on: each returns a started cache. */
const BACKENDS: Record<string, () => Promise<Cache>> = {
  memory: async () => {
    const cache = new MemoryCache({ maxMemory: '64mb' });
    await cache.start();
    return cache;
  },
  redis: async () => {
    // The shared test server: a prefix of our own keeps runs and files apart.
    const cache = new RedisCache({ url: inject('redisUrl'), prefix: `http-${randomUUID()}` });
    await cache.start();
    return cache;
  },
};

const SKIP_CHANNEL = httpChannelName('skip');

for (const [backendName, makeCache] of Object.entries(BACKENDS)) {
  for (const [targetName, openTarget] of Object.entries(TARGETS)) {
    describe(`${targetName} on ${backendName}`, () => {
      let cache: Cache | undefined;
      let target: Target | undefined;
      let onSkip: ((message: unknown) => void) | undefined;

      /** A target on this backend, with the table's options plus the row's. */
      const open = async (scenario: Scenario): Promise<Env> => {
        const c = await makeCache();
        cache = c;
        let offset = 0;
        const now = () => Date.now() + offset;
        // The origin dates its replies by the same clock (see Origin).
        const origin = new Origin(now);
        const t = await openTarget(
          c,
          {
            ...TABLE_OPTIONS,
            ...scenario.options,
            clock: { now },
          },
          origin,
        );
        target = t;
        // Every skip decision of this test, from the middleware's diagnostics channel: the
        // same for a middleware in this process and for the proxy's own.
        const skips: string[] = [];
        onSkip = (message) => skips.push((message as HttpCacheEvents['skip']).reason);
        diagnostics.subscribe(SKIP_CHANNEL, onSkip);
        return {
          adapter: targetName,
          url: t.url,
          origin,
          mw: t.mw,
          advance: (ms) => {
            offset += ms;
          },
          get: (path, headers, method) => send(t.url, path, { method, headers }),
          stored: (n) => until(() => t.mw.stats().stores >= n, 10_000, `${n} stored responses`),
          skips: () => skips,
          bare: () => t.bare(),
        };
      };

      afterEach(async () => {
        if (onSkip !== undefined) diagnostics.unsubscribe(SKIP_CHANNEL, onSkip);
        await target?.close();
        await cache?.stop();
        onSkip = undefined;
        target = undefined;
        cache = undefined;
      });

      for (const scenario of SCENARIOS) {
        const reason = scenario.skip?.[targetName];
        const bug = scenario.fails?.[targetName];
        if (reason !== undefined) it.skip(`${scenario.name} (not on ${targetName}: ${reason})`);
        else if (bug !== undefined) {
          it.fails(`${scenario.name} (known bug on ${targetName}: ${bug})`, async () =>
            scenario.run(await open(scenario)));
        } else it(scenario.name, async () => scenario.run(await open(scenario)));
      }
    });
  }
}
