import { defineConfig } from 'vitest/config';

/**
 * Four projects, so a run starts only the servers it needs (README, "Tests"):
 * - `unit`: no Redis at all (src/ beside the code, the memory conformance run); seconds.
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
  'test/harness/harness.test.ts',
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
          include: ['src/**/*.test.ts', 'test/conformance/**/*.test.ts'],
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
          include: [
            'test/redis/**/*.test.ts',
            'test/http/**/*.test.ts',
            'test/cli/**/*.test.ts',
            'test/serve/**/*.test.ts',
            'test/lifecycle.test.ts',
          ],
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
