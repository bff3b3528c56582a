/**
 * Vitest global setup of the `cluster` project: the shared standalone server and a shared
 * 3-master / 3-replica cluster (see global-setup.ts).
 */
import type { TestProject } from 'vitest/node';
import { startShared } from './global-setup.js';

/** Starts both shared servers; the returned function is vitest's teardown. */
export function setup(project: TestProject): Promise<() => Promise<void>> {
  return startShared(project, { cluster: true });
}
