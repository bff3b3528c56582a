/**
 * A tour of the library on the embedded default, in one run: a cache with no setup at all, a
 * stampede that reaches the origin once, stale-while-revalidate, tags, counters and globs.
 * Run it with `npm run tour`. (`npm run demo` runs `codeai-cache demo`: the caching proxy.)
 */
import { createCache } from '../src/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (label: string, value: unknown) =>
  console.log(`${label.padEnd(50)} ${JSON.stringify(value)}`);

const cache = createCache(); // memory://, 64 MiB, W-TinyLFU
await cache.start();

await cache.set('greeting', 'hello', '1m');
say('get(greeting)', (await cache.get('greeting'))?.toString());

let originCalls = 0;
const slowOrigin = async () => {
  originCalls++;
  await sleep(50);
  return { product: 42, price: 9.99, at: new Date() };
};
const burst = await Promise.all(
  Array.from({ length: 1000 }, () =>
    cache.getOrSet('product:42', slowOrigin, { ttl: 100, grace: '10s' }),
  ),
);
say('1000 concurrent getOrSet → origin calls', originCalls);
say(
  'every caller got the value',
  burst.every((p) => p.product === 42),
);

await sleep(150);
const started = performance.now();
await cache.getOrSet('product:42', slowOrigin, { ttl: 100, grace: '10s' });
say('after expiry, within grace: served stale in ms', Math.round(performance.now() - started));
await sleep(80);
say('…while one background refresh ran → calls', originCalls);

await cache.setJSON('user:1', { name: 'Ada' }, '5m', { tags: ['users'] });
await cache.setJSON('user:2', { name: 'Alan' }, '5m', { tags: ['users'] });
await cache.invalidateTags(['users']);
say('after invalidateTags([users]) user:1 is', await cache.getJSON('user:1'));

for (let i = 0; i < 5; i++) await cache.incr('visits');
say('incr(visits) ×5', Number((await cache.get('visits'))?.toString()));

await cache.mset({ 'session:a': '1', 'session:b': '2', 'other:c': '3' });
say('keys(session:*)', (await cache.keys('session:*')).sort());
say('deletePattern(session:*)', await cache.deletePattern('session:*'));

say('stats', cache.stats());
say('health', await cache.health());
await cache.stop();
