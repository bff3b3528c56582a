/**
 * Guards: the time `loadCodeAI` takes on a large spec — 5,000 endpoints over 1,000
 * resources (list, item, create, update, delete; a nested list under every tenth
 * resource), cache middleware, annotations and endpoint TTLs in both dialects, and
 * entities and `do` blocks to skip. Bar: under 200 ms per load. The median of several
 * loads after a warm-up is reported, with the invalidation links the plan holds.
 */
import { loadCodeAI } from '../src/index.js';

const BAR_MS = 200;

/** A spec with exactly `endpoints` endpoints. */
export function generateSpec(endpoints = 5_000): string {
  const parts: string[] = [
    `config {
    api_prefix: "/api/v1"
    cache: redis { ttl: 5m prefix: "bench:" }
}
middleware login { type authentication config { provider: jwt } }
middleware per_user { type cache config { ttl: 300 vary_by: "Authorization, Accept-Language" } }
`,
  ];
  let count = 0;
  for (let r = 0; count < endpoints; r++) {
    const name = `res${r}`;
    parts.push(`entity Res${r} {
    id: uuid, primary, auto
    title: string, required, default("{}")   // braces in strings and comments: }
}
`);
    const block = [
      `@cache("1m")\nendpoint GET "/${name}" {\n    request Query from query\n    response List status 200\n}`,
      `endpoint GET /${name}/{id} {\n    description: "one ${name}"\n    cache: 10m\n}`,
      `endpoint POST "/${name}" {\n    middleware login\n    request New from body\n    response Item status 201\n    do { item = create(Res${r}, request) emit(created, item) }\n}`,
      `endpoint PUT "/${name}/:id" {\n    middleware login\n    request Patch from body\n    response Item status 200\n}`,
      `endpoint DELETE "/${name}/:id" {\n    middleware login\n    response Empty status 204\n}`,
    ];
    if (r % 10 === 0) {
      block.push(
        `endpoint GET "/${name}/:id/children" {\n    middleware login\n    middleware per_user\n}`,
      );
    }
    for (const b of block) {
      if (count === endpoints) break;
      parts.push(b);
      count++;
    }
  }
  return parts.join('\n');
}

/** Runs the benchmark; true when the bar is met. */
export async function benchCodeAI(): Promise<boolean> {
  const source = generateSpec(5_000);
  const lines = source.split('\n').length;
  const first = loadCodeAI(source, { env: {} });
  if (!first.ok) throw new Error(`generated spec did not load: ${first.diagnostics[0]?.message}`);
  const plan = first.plan;
  for (let i = 0; i < 3; i++) loadCodeAI(source, { env: {} }); // warm-up
  const times: number[] = [];
  for (let i = 0; i < 15; i++) {
    const start = process.hrtime.bigint();
    loadCodeAI(source, { env: {} });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  const links = plan.endpoints.reduce((n, e) => n + e.invalidates.length, 0);
  console.log('\n== codeai: loadCodeAI on a generated spec');
  console.log(
    `${plan.endpoints.length} endpoints (${plan.endpoints.filter((e) => e.cached).length} cached), ${lines} lines, ${(source.length / 1024).toFixed(0)} KiB, ${links} invalidation links`,
  );
  const pass = median < BAR_MS;
  console.log(
    `load: median ${median.toFixed(1)} ms, min ${times[0]!.toFixed(1)} ms, max ${times.at(-1)!.toFixed(1)} ms — bar < ${BAR_MS} ms: ${pass ? 'PASS' : 'FAIL'}`,
  );
  return pass;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const pass = await benchCodeAI();
  process.exitCode = pass ? 0 : 1;
}
