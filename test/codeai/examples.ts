/**
 * Where the published CodeAI example specs live: `CODEAI_EXAMPLES`, else
 * `../shared/codeai-examples` beside the project (as in CI), else the shared folder of the
 * development machine. Undefined when none exists: the tests that read them then skip.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const examplesDir: string | undefined = [
  process.env.CODEAI_EXAMPLES,
  resolve(root, '../shared/codeai-examples'),
  '/work/shared/codeai-examples',
].find((dir): dir is string => dir !== undefined && dir !== '' && existsSync(dir));

/** The `.cai` file names in the examples folder, sorted; empty when it is absent. */
export const exampleFiles: string[] = examplesDir
  ? readdirSync(examplesDir)
      .filter((f) => f.endsWith('.cai'))
      .sort()
  : [];

/** The project's own fixtures. */
export const fixturesDir = resolve(root, 'test/codeai/fixtures');
