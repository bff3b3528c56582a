/**
 * An origin that breaks its answers behind `createProxy`, under concurrent load, on the
 * memory backend and on a private Redis: it resets the connection (before the head,
 * mid-body), lies about `Content-Length` (fewer bytes then a close, more bytes at once, a
 * whole unasked-for response later on the pooled connection), answers with bytes that are
 * not HTTP, or with a head far past node's 16 KiB limit.
 *
 * The sequential, one-client versions are test/serve/framing.test.ts and the #10.9 rows of
 * test/http/scenarios.ts; here many clients hit the broken URL at once (coalesced misses)
 * while others use honest URLs over the same upstream pool. What must hold: no client gets
 * a response that claims more than it delivers without the connection closing, nor more
 * bytes than it claims; a head that never came is a `502`; nothing is stored; a client of
 * an honest URL only ever gets that URL's bytes; once the origin is healthy again the next
 * request gets a fresh `200` and stores it.
 */
import { describe, expect, it } from 'vitest';
import { eventually } from '../eventually.js';
import { crowd, rawGet, type Seen } from './support/origin-client.js';
import { BACKENDS, privateRedis, rig } from './support/origin-proxy.js';
import {
  type Behaviour,
  garbage,
  honest,
  hugeHead,
  lagging,
  longerInOneWrite,
  longerLater,
  resetBeforeHead,
  resetMidBody,
  shorterThenClose,
} from './support/origin-raw.js';

/** The proxy's upstream timeout: none of these faults should need it. */
const T = 5_000;
const CROWD = 30;
/** Honest URLs requested at the same time, over the same upstream pool. */
const BYSTANDERS = 10;

const redisUrl = privateRedis();

/** The only answers a client of a broken URL may get. */
type Allowed = 'bad-gateway' | 'cut-200' | 'closed';

const FAULTS: [string, Behaviour, Allowed[]][] = [
  ['resets before its head', resetBeforeHead, ['bad-gateway']],
  // The leader's client sees the cut; followers are told the origin failed.
  ['resets mid-body', resetMidBody, ['cut-200', 'bad-gateway']],
  [
    'sends fewer bytes than its Content-Length, then closes',
    shorterThenClose,
    ['cut-200', 'bad-gateway'],
  ],
  // The surplus arrives with the body, so the upstream parser fails before the head was
  // flushed to the leader's client: its connection closes with no byte (a cut all the same).
  [
    'sends more bytes than its Content-Length at once',
    longerInOneWrite,
    ['cut-200', 'bad-gateway', 'closed'],
  ],
  ['answers with bytes that are not HTTP', garbage, ['bad-gateway']],
  ['answers with a 64 KiB head', hugeHead, ['bad-gateway']],
];

function allowed(seen: Seen, kinds: Allowed[]): void {
  const what =
    seen.ending === 'complete' && seen.status === 502
      ? 'bad-gateway'
      : seen.ending === 'cut' && seen.status === 200
        ? 'cut-200'
        : seen.ending === 'no-head' && seen.body === ''
          ? 'closed'
          : `${seen.ending} ${seen.status}`;
  expect(kinds, `a client saw ${what} after ${Math.round(seen.ms)} ms`).toContain(what);
  // A cut body is a prefix of what the origin sent, never anything else.
  if (what === 'cut-200') expect('0123456789').toContain(seen.body);
}

describe.concurrent.each(BACKENDS)('an origin that breaks its answers, on %s', (backend) => {
  describe.each(FAULTS)('that %s', (_name, behaviour, kinds) => {
    it('every client sees a 502 or a cut, honest bystanders are untouched, nothing is stored, a healthy origin is asked again', async () => {
      const r = await rig(backend, redisUrl, T);
      r.origin.on('/broken', behaviour);
      for (let i = 0; i < BYSTANDERS; i++) r.origin.on(`/ok-${i}`, honest(`ok ${i}`));

      const [broken, bystanders] = await Promise.all([
        crowd(CROWD, () => rawGet(r.url, '/broken', { deadlineMs: T * 2 })),
        crowd(BYSTANDERS * 3, (i) => rawGet(r.url, `/ok-${i % BYSTANDERS}`)),
      ]);
      for (const seen of broken) {
        allowed(seen, kinds);
        // Answered by the failure itself, not by the upstream timeout.
        expect(seen.ms).toBeLessThan(T);
      }
      bystanders.forEach((seen, i) => {
        expect([seen.ending, seen.status, seen.body]).toEqual([
          'complete',
          200,
          `ok ${i % BYSTANDERS}`,
        ]);
      });
      // Never more requests than clients: followers do not fan out a failure.
      expect(r.origin.requests('/broken')).toBeGreaterThanOrEqual(1);
      expect(r.origin.requests('/broken')).toBeLessThanOrEqual(CROWD);
      await eventually(async () =>
        expect((await r.keys()).filter((k) => k.includes('/ok-'))).toHaveLength(BYSTANDERS),
      );
      expect((await r.keys()).filter((k) => k.includes('/broken'))).toEqual([]);

      // The origin recovers: the next request is asked of it, answered whole and stored.
      r.origin.on('/broken', honest('whole'));
      const asked = r.origin.requests('/broken');
      const fresh = await rawGet(r.url, '/broken');
      expect([fresh.ending, fresh.status, fresh.headers['x-cache'], fresh.body]).toEqual([
        'complete',
        200,
        'MISS',
        'whole',
      ]);
      expect(r.origin.requests('/broken')).toBe(asked + 1);
      await eventually(async () =>
        expect((await r.keys()).filter((k) => k.includes('/broken'))).toHaveLength(1),
      );
      const hit = await rawGet(r.url, '/broken');
      expect([hit.headers['x-cache'], hit.body]).toEqual(['HIT', 'whole']);
      await r.finish();
    });
  });

  it.each([
    ['before its head', resetBeforeHead],
    ['mid-body', resetMidBody],
  ])(
    'an origin that resets %s behind an entry within stale-if-error: the clients it did not start answering get the stale entry',
    async (_when, behaviour) => {
      const r = await rig(backend, redisUrl, T);
      r.origin.on('/sie', honest('old', 'max-age=1, stale-if-error=600'));
      expect((await rawGet(r.url, '/sie')).body).toBe('old');
      await eventually(async () => expect(await r.keys()).toHaveLength(1));
      r.clock.advance(5_000);
      r.origin.on('/sie', behaviour);
      const seen = await crowd(CROWD, () => rawGet(r.url, '/sie', { deadlineMs: T * 2 }));
      for (const one of seen) {
        if (one.ending === 'cut') {
          // A leader whose head had already gone out before the reset can only be cut.
          expect([behaviour, one.status, one.body]).toEqual([resetMidBody, 200, '0123456789']);
        } else {
          expect([one.ending, one.status, one.headers['x-cache'], one.body]).toEqual([
            'complete',
            200,
            'STALE',
            'old',
          ]);
        }
      }
      expect(seen.filter((one) => one.ending === 'cut').length).toBeLessThan(CROWD);
      // The stale entry is still the one stored: nothing replaced it (asked with a reset
      // before the head, which it answers whole).
      r.origin.on('/sie', resetBeforeHead);
      const again = await rawGet(r.url, '/sie');
      expect([again.headers['x-cache'], again.body]).toEqual(['STALE', 'old']);
      await r.finish();
    },
  );

  it('regression: a surplus response sent a little late, under load, leaves no entry stored under the wrong URL', async () => {
    const r = await rig(backend, redisUrl, T);
    // The same desync by timing: the liar's surplus arrives 5 ms late while the pool is busy
    // with honest URLs, so a connection reused at once runs one answer ahead. Its clients
    // may get a neighbour's answer (HTTP/1.1 cannot tell); no entry may stay that way.
    // Before the fix about one run in three kept one: the surplus and the next answer came
    // in one chunk, node's parser dropped the connection, and nothing was invalidated.
    r.origin.on('/liar', longerLater('SMUGGLED'));
    for (let i = 0; i < BYSTANDERS; i++) r.origin.on(`/ok-${i}`, honest(`ok ${i}`));
    const urls: [string, string][] = [];
    for (let round = 0; round < 3; round++) {
      urls.push([`/liar?round=${round}`, '0123456789']);
      for (let i = 0; i < BYSTANDERS; i++) urls.push([`/ok-${i}?round=${round}`, `ok ${i}`]);
      const seen = await Promise.all([
        crowd(10, () => rawGet(r.url, `/liar?round=${round}`)),
        crowd(BYSTANDERS * 3, (i) => rawGet(r.url, `/ok-${i % BYSTANDERS}?round=${round}`)),
      ]);
      for (const one of seen.flat()) expect(['complete', 'cut']).toContain(one.ending);
    }
    // The origin stops lying; once every surplus has surfaced, each URL answers its own.
    r.origin.on('/liar', honest('0123456789'));
    await eventually(async () => {
      for (const [url, body] of urls) {
        expect([url, (await rawGet(r.url, url)).body]).toEqual([url, body]);
      }
    });
    await r.finish();
  });

  it('regression: an origin one answer behind on a pooled connection leaves no entry stored under the wrong URL', async () => {
    const r = await rig(backend, redisUrl, T);
    // The liar's surplus response puts the upstream connection one answer behind: each
    // later request on it reads the previous one's answer (its client gets it: HTTP/1.1
    // framing cannot tell) until the connection rests and the held answer shows up. The
    // proxy used to drop only the last request's entry then, so /ok-0 kept answering
    // "SMUGGLED" and /ok-1 "ok 0" for their whole max-age.
    const origin = lagging('SMUGGLED', 300);
    r.origin.on('/liar', origin.liar);
    for (let i = 0; i < 3; i++) r.origin.on(`/ok-${i}`, origin.honest(`ok ${i}`));
    // One after the other, so the pool (last in, first out) reuses the liar's connection.
    const paths = ['/liar', '/ok-0', '/ok-1', '/ok-2'];
    for (const path of paths) expect((await rawGet(r.url, path)).ending).toBe('complete');
    // Once the held answer has reached the resting connection, every URL answers its own.
    r.origin.on('/liar', honest('0123456789'));
    for (let i = 0; i < 3; i++) r.origin.on(`/ok-${i}`, honest(`ok ${i}`));
    await eventually(async () => {
      for (const path of paths.slice(1)) {
        expect([path, (await rawGet(r.url, path)).body]).toEqual([path, `ok ${path.slice(4)}`]);
      }
    });
    await r.finish();
  });
});
