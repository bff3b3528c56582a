/**
 * Attacks on the HTTP cache, each run on every target (node:http, Express, Fastify, Hono,
 * Fetch through `CachingMiddleware`, and `serve`) on the memory backend, and the rows marked
 * `redis` on Redis too. Each row states the guarantee it attacks; a row fails when one
 * client's response reaches another, when a forged field's response reaches a clean
 * request, or when something is stored that must not be.
 *
 * Routes under `/sec/` use the table's default policy (`ttl: 30s`, no `varyBy`);
 * `/auth/sec/` varies by `Authorization`, `/cookies/sec/` by every cookie (test/http/servers.ts).
 * `serve` has no policy of its own: only the origin's explicit freshness stores there.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openEnv, REFLECTED, type SecEnv, TARGET_NAMES } from './harness.js';

interface Row {
  name: string;
  /** Also run on Redis. */
  redis?: boolean;
  /** Targets the row does not apply to, and why. */
  skip?: Readonly<Record<string, string>>;
  run(env: SecEnv): Promise<void>;
}

const NO_POLICY =
  'serve without a spec has no route policy (see security-serve.test.ts for vary_by)';

/** Sends `requests` in order and returns each body. */
async function bodies(env: SecEnv, path: string, who: Record<string, string>[]) {
  const out: string[] = [];
  for (const headers of who) out.push((await env.get(path, headers)).text);
  return out;
}

const ALICE_COOKIE = { cookie: 'sid=alice' };
const BOB_COOKIE = { cookie: 'sid=bob' };
const ALICE_AUTH = { authorization: 'Bearer alice' };
const BOB_AUTH = { authorization: 'Bearer bob' };

/** A value for each forged field; every one contains `evil`, which a clean body must not. */
const FORGED: Readonly<Record<(typeof REFLECTED)[number], string>> = {
  'x-forwarded-host': 'evil.example',
  'x-forwarded-proto': 'evil',
  'x-forwarded-for': '6.6.6.6, evil',
  'x-real-ip': 'evil',
  forwarded: 'for=6.6.6.6;host=evil.example;proto=https',
  'x-original-url': '/evil',
  'x-rewrite-url': '/evil',
  'x-http-method-override': 'EVIL',
  'x-host': 'evil.example',
  'x-forwarded-port': '6666-evil',
  'x-forwarded-prefix': '/evil',
};

/** Paths a victim's private page can be reached under when a cache trusts extensions. */
const DECEPTION_PATHS = [
  '/account',
  '/account/x.css',
  '/account;x.css',
  '/account%2Fx.css',
  '/account/..%2Fx.css',
  '/static/../account',
  '/static/..%2Faccount',
  '/account.css',
  '/account/.css',
  '/account.',
  '/account%00.css',
  '/account%3Bx.js',
  '/account?x=.css',
];

/** Distinct request targets that must never share an entry unless the origin saw one target. */
const DISTINCT_TARGETS = [
  '/sec/reflect/a',
  '/sec/reflect/a/',
  '/sec/reflect/A',
  '/sec/reflect/%61',
  '/sec/reflect/a%2F',
  '/sec/reflect/a;x',
  '/sec/reflect/a/.',
  '/sec/reflect/b/../a',
  '/sec/reflect/b/..%2Fa',
  '/sec/reflect//a',
  '/sec/reflect/a.',
  '/sec/reflect/a%00.css',
  '/sec/reflect/a%20',
  '/sec/reflect/a?x=1',
  '/sec/reflect/a?x=2',
  '/sec/reflect/a?x=1&x=2',
  '/sec/reflect/a?x=2&x=1',
  '/sec/reflect/a?x=%31',
];

const ROWS: Row[] = [
  // --- cross-user leakage ---------------------------------------------------------------
  {
    name: 'per-user pages behind a session cookie, no varyBy, no Vary, no private: nobody gets another user’s page (RFC 9111 §3.5)',
    redis: true,
    async run(env) {
      const who = [ALICE_COOKIE, BOB_COOKIE, {}, ALICE_COOKIE, BOB_COOKIE, {}];
      expect(await bodies(env, '/sec/me', who)).toEqual([
        'user alice',
        'user bob',
        'user anonymous',
        'user alice',
        'user bob',
        'user anonymous',
      ]);
      // The anonymous page may be shared; a cookie request never read nor wrote it.
      const again = await env.get('/sec/me', ALICE_COOKIE);
      expect(again.text).toBe('user alice');
      expect(again.xCache).toBe('BYPASS');
    },
  },
  {
    name: 'per-user pages behind Authorization, no varyBy: nobody gets another user’s page (RFC 9111 §3.5)',
    redis: true,
    async run(env) {
      // The anonymous page first, so a credentialed request would find it stored.
      expect((await env.get('/sec/me')).text).toBe('user anonymous');
      const who = [ALICE_AUTH, BOB_AUTH, ALICE_AUTH, {}, BOB_AUTH];
      expect(await bodies(env, '/sec/me', who)).toEqual([
        'user Bearer alice',
        'user Bearer bob',
        'user Bearer alice',
        'user anonymous',
        'user Bearer bob',
      ]);
    },
  },
  {
    name: 'a cookie with must-revalidate is not a licence to share (only public / s-maxage are)',
    async run(env) {
      const who = [ALICE_COOKIE, BOB_COOKIE, ALICE_COOKIE, BOB_COOKIE];
      expect(await bodies(env, '/sec/me-must-revalidate', who)).toEqual([
        'user alice',
        'user bob',
        'user alice',
        'user bob',
      ]);
    },
  },
  {
    name: 'a private response is never stored, even on a route that varies by cookie',
    skip: { serve: NO_POLICY },
    async run(env) {
      const who = [ALICE_COOKIE, ALICE_COOKIE, BOB_COOKIE, {}, {}];
      expect(await bodies(env, '/cookies/sec/me-private', who)).toEqual([
        'user alice',
        'user alice',
        'user bob',
        'user anonymous',
        'user anonymous',
      ]);
      expect(env.origin.count('/cookies/sec/me-private')).toBe(5);
      expect(env.stores()).toBe(0);
    },
  },
  {
    name: 'varyBy authorization / cookie: each user gets their own entry, and only theirs',
    redis: true,
    skip: { serve: NO_POLICY },
    async run(env) {
      for (const [path, alice, bob] of [
        ['/auth/sec/me', ALICE_AUTH, BOB_AUTH],
        ['/cookies/sec/me', ALICE_COOKIE, BOB_COOKIE],
      ] as const) {
        const stored = env.stores();
        expect((await env.get(path, alice)).xCache).toBe('MISS');
        await env.stored(stored + 1);
        expect((await env.get(path, bob)).xCache).toBe('MISS');
        await env.stored(stored + 2);
        const a = await env.get(path, alice);
        const b = await env.get(path, bob);
        const anon = await env.get(path);
        expect([a.xCache, b.xCache]).toEqual(['HIT', 'HIT']);
        expect(a.text).toMatch(/alice$/);
        expect(b.text).toMatch(/bob$/);
        expect(anon.text).toBe('user anonymous');
      }
    },
  },
  {
    name: 'Vary: Cookie from the origin keeps users apart where the credential rule lets a response be stored',
    async run(env) {
      const who = [{ cookie: '_ga=1' }, ALICE_COOKIE, { cookie: '_ga=2' }, BOB_COOKIE, {}];
      const got = await bodies(env, '/sec/me-vary-cookie', who);
      expect(got).toEqual([
        'user anonymous',
        'user alice',
        'user anonymous',
        'user bob',
        'user anonymous',
      ]);
    },
  },

  // --- unkeyed-header poisoning -----------------------------------------------------------
  {
    name: 'a response made for a forged forwarding / rewrite / override field never reaches a clean request',
    redis: true,
    async run(env) {
      for (const name of REFLECTED) {
        const path = `/sec/reflect/${name}`;
        const forged = { [name]: FORGED[name] };
        // The attacker goes first, twice (a second request would hit a poisoned entry).
        await env.get(path, forged);
        await env.get(path, forged);
        for (let i = 0; i < 2; i++) {
          const clean = await env.get(path);
          expect(clean.status).toBe(200);
          expect(clean.text, `${env.target}: clean request after a forged ${name}`).not.toMatch(
            /evil/i,
          );
        }
      }
      // All of them at once.
      const all = Object.fromEntries(REFLECTED.map((n) => [n, FORGED[n]]));
      await env.get('/sec/reflect/all', all);
      expect((await env.get('/sec/reflect/all')).text).not.toMatch(/evil/i);
    },
  },

  // --- web cache deception and path normalisation ----------------------------------------
  {
    name: 'web cache deception: a victim’s page under a static-looking path is never served to anyone else',
    redis: true,
    async run(env) {
      const credentials: Record<string, string>[] = [
        { cookie: 'sid=victim' },
        { authorization: 'Bearer victim' },
      ];
      for (const credential of credentials) {
        for (const path of DECEPTION_PATHS) {
          const victim = await env.get(path, credential);
          const attacker = await env.get(path);
          const again = await env.get(path);
          for (const r of [attacker, again]) {
            expect(r.text, `${env.target}: ${path} after the victim`).not.toMatch(/victim/);
          }
          // The victim's own page was the origin's (it carried the victim's credential).
          if (victim.status === 200) expect(victim.text).toMatch(/victim|anonymous/);
        }
      }
    },
  },
  {
    name: 'distinct request targets never share an entry the origin would not share',
    async run(env) {
      // What the origin sees for each target, without a cache (framework normalisation included).
      const seen = new Map<string, string>();
      for (const path of DISTINCT_TARGETS) {
        const bare = await env.bare(path);
        seen.set(path, bare.status === 200 ? JSON.parse(bare.text).url : `status ${bare.status}`);
      }
      // Twice through the cache, interleaved: the second round is served from storage.
      for (let round = 0; round < 2; round++) {
        for (const path of DISTINCT_TARGETS) {
          const r = await env.get(path);
          const url = r.status === 200 ? JSON.parse(r.text).url : `status ${r.status}`;
          expect(url, `${env.target} round ${round}: ${path}`).toBe(seen.get(path));
        }
      }
    },
  },

  // --- Set-Cookie ---------------------------------------------------------------------------
  {
    name: 'Set-Cookie is never stored nor replayed to another client, even on a public response',
    redis: true,
    async run(env) {
      for (const path of ['/sec/set-cookie', '/sec/set-cookie/public']) {
        const handedOut = new Set<string>();
        for (let i = 0; i < 4; i++) {
          const r = await env.get(path);
          expect(r.xCache).not.toBe('HIT');
          const cookies = r.headers['set-cookie'] ?? [];
          expect(cookies.length, `${path} #${i}`).toBe(2);
          for (const c of cookies) {
            expect(handedOut.has(c), `${path}: ${c} handed out twice`).toBe(false);
            handedOut.add(c);
          }
        }
        expect(env.origin.count(path)).toBe(4);
      }
      expect(env.stores()).toBe(0);
    },
  },

  // --- Host separation ----------------------------------------------------------------------
  {
    name: 'two virtual hosts never share entries, whatever the Host looks like',
    redis: true,
    async run(env) {
      const hosts = ['a.example', 'b.example', 'a.example:8080', 'a.example.', 'b.example.:8080'];
      for (let round = 0; round < 2; round++) {
        for (const host of hosts) {
          const r = await env.get('/sec/reflect/vhost', { host });
          expect(JSON.parse(r.text).host, `${env.target} round ${round}`).toBe(host);
        }
      }
      // Case is not a different host (RFC 9110 §4.2.3): `A.EXAMPLE` may share a.example's entry.
      const upper = await env.get('/sec/reflect/vhost', { host: 'A.EXAMPLE' });
      expect(JSON.parse(upper.text).host.toLowerCase()).toBe('a.example');
    },
  },
  {
    name: 'an absolute-form target naming another host, or two Host lines, never fills another host’s entry',
    async run(env) {
      const attacks: [string, string[]][] = [
        ['http://b.example/sec/reflect/abs', ['Host', 'a.example']],
        ['http://a.example/sec/reflect/abs', ['Host', 'b.example']],
        ['/sec/reflect/abs', ['Host', 'a.example', 'Host', 'b.example']],
        ['/sec/reflect/abs', ['Host', 'b.example', 'Host', 'a.example']],
      ];
      for (const [target, headers] of attacks) {
        const r = await env.raw(target, headers).catch(() => undefined);
        // Refused, or answered: either way the clean requests below must be untouched.
        if (r !== undefined) expect(r.status).toBeLessThan(500);
        for (const host of ['a.example', 'b.example']) {
          const clean = await env.get('/sec/reflect/abs', { host });
          expect(JSON.parse(clean.text).host, `${env.target} after ${target} ${headers}`).toBe(
            host,
          );
        }
      }
    },
  },

  // --- error pages ----------------------------------------------------------------------------
  {
    name: 'error pages without explicit freshness are never stored under the policy ttl (RFC 9111 §3, §4.2.2)',
    async run(env) {
      for (const status of [400, 401, 403, 429, 500, 502, 503, 504]) {
        const path = `/sec/err/${status}`;
        const first = await env.get(path);
        const second = await env.get(path);
        expect(first.status).toBe(status);
        expect(second.text, `${status} replayed`).not.toBe(first.text);
        expect(second.xCache).not.toBe('HIT');
        expect(env.origin.count(path)).toBe(2);
      }
      expect(env.stores()).toBe(0);
    },
  },
  {
    name: 'a 404 is stored only where the rules allow: under the policy ttl on a route, never on serve without freshness',
    async run(env) {
      const first = await env.get('/sec/err/404');
      if (env.target === 'serve') {
        // No policy, no explicit freshness, no Last-Modified: nothing to store (§4.2.2).
        const second = await env.get('/sec/err/404');
        expect(second.text).not.toBe(first.text);
        expect(env.stores()).toBe(0);
        return;
      }
      // RFC 9110 §15.1: 404 is heuristically cacheable; the policy ttl is this cache's heuristic.
      await env.stored(1);
      const second = await env.get('/sec/err/404');
      expect(second.xCache).toBe('HIT');
      expect(second.text).toBe(first.text);
    },
  },
];

for (const backend of ['memory', 'redis']) {
  for (const target of TARGET_NAMES) {
    describe(`security: ${target} on ${backend}`, () => {
      let env: (SecEnv & { close(): Promise<void> }) | undefined;
      afterEach(async () => {
        await env?.close();
        env = undefined;
      });
      for (const row of ROWS) {
        if (backend === 'redis' && row.redis !== true) continue;
        const reason = row.skip?.[target];
        if (reason !== undefined) {
          it.skip(`${row.name} (not on ${target}: ${reason})`);
          continue;
        }
        it(row.name, async () => {
          env = await openEnv(target, backend, { ignoreCookies: ['_ga'] });
          await row.run(env);
        });
      }
    });
  }
}

describe('ignoreHeaders: a front proxy that owns a field takes it out of the key', () => {
  it('leaves only the named field out; the other risky fields stay keyed; a bad name is named', async () => {
    const env = await openEnv('node:http', 'memory', { ignoreHeaders: ['X-Forwarded-For'] });
    try {
      const a = await env.get('/sec/reflect/own', { 'x-forwarded-for': '10.0.0.1' });
      await env.stored(1);
      const b = await env.get('/sec/reflect/own', { 'x-forwarded-for': '10.0.0.2' });
      expect([a.xCache, b.xCache]).toEqual(['MISS', 'HIT']);
      const forged = await env.get('/sec/reflect/own', { 'x-forwarded-host': 'evil.example' });
      expect(forged.xCache).toBe('MISS');
    } finally {
      await env.close();
    }
    await expect(openEnv('node:http', 'memory', { ignoreHeaders: ['bad name'] })).rejects.toThrow(
      /options\.ignoreHeaders\[0\]/,
    );
  });
});
