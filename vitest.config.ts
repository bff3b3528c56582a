import { defineConfig } from 'vitest/config';

/**
 * Four projects, so a run starts only the servers it needs (README, "Tests"):
 * - `unit`: no Redis at all (src/ beside the code, the memory conformance run, the CodeAI
 *   loader and CLI); seconds.
 * - `package`: builds, packs and installs the tarball, then compiles a consumer with tsc.
 * - `redis`: one shared standalone server (real-Redis tests, Sentinel, HTTP over Redis).
 * - `cluster`: a shared standalone server and a shared 3-master cluster.
 * `npm test` runs them all in one vitest run, so one summary line closes it.
 */
const CLUSTER = [
  'test/redis/cluster.test.ts',
  'test/redis/cluster-faults.test.ts',
  'test/redis/conformance.cluster.test.ts',
  'test/redis/flights.test.ts',
  'test/redis/bookkeeping.test.ts',
  'test/harness/harness.test.ts',
  'test/multiprocess/cluster.test.ts',
  'test/tiered/conformance.cluster.test.ts',
  'test/tiered/cluster.test.ts',
  'test/faults/cluster-*.test.ts',
];

/** Test folders that need a Redis server; every other test file is a unit test. */
const NEEDS_REDIS = [
  'test/redis/**',
  'test/http/**',
  'test/serve/**',
  'test/cli/**',
  'test/lifecycle.test.ts',
  'test/harness/**',
  'test/multiprocess/**',
  'test/tiered/**',
  'test/faults/**',
  'test/properties/**',
  'test/security/**',
  'test/load/**',
];

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          // Everything not claimed by another project, so a new test folder can never be
          // left out of `npm test`: one that needs Redis fails loudly here instead.
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: [...NEEDS_REDIS, 'test/package.test.ts'],
          // Type-level specs (`*.test-d.ts`) run through tsc and count as tests.
          typecheck: { enabled: true, include: ['src/**/*.test-d.ts'], tsconfig: 'tsconfig.json' },
        },
      },
      {
        extends: true,
        test: { name: 'package', include: ['test/package.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'redis',
          include: NEEDS_REDIS.map((p) => (p.endsWith('**') ? `${p}/*.test.ts` : p)),
          exclude: CLUSTER,
          globalSetup: ['test/harness/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'cluster',
          include: CLUSTER,
          globalSetup: ['test/harness/global-setup-cluster.ts'],
        },
      },
    ],
  },
});
