/**
 * HTTP benchmark: requests/s and p99 of a cache hit through each adapter, against the same
 * framework sending the same 1 KiB with no cache, and against `apicache` on Express — all in
 * one run, each pair measured back to back, so machine noise hits both sides alike.
 *
 * `npx tsx bench/http/run.ts [seconds=5] [connections=50] [only=node|express|…]`.
 * Bars (printed PASS/FAIL):
 * - a hit through node:http ≥ 0.8× bare node:http writing the same response;
 * - a hit through Express ≥ 1.0× apicache's hit on the same Express app.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

interface Result {
  rps: number;
  p99: number;
  non2xx: number;
  /** Server CPU time (user + system) per request, in µs: robust to a busy machine. */
  cpuUs: number;
}

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('../../', import.meta.url));
const build = `${here}.build/`;

/**
 * Compiles the servers (and the library under them) with plain tsc, so the benchmark runs
 * the JavaScript users run — not tsx's on-the-fly output, which wraps every closure in a
 * naming helper the anchors (plain JS from node_modules) never pay for.
 */
function compile(): void {
  mkdirSync(build, { recursive: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(
    process.execPath,
    [
      tsc,
      `${here}servers.ts`,
      '--outDir',
      build,
      '--rootDir',
      root,
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      '--skipLibCheck',
      '--esModuleInterop',
      '--types',
      'node',
      '--lib',
      'es2023',
      '--strict',
      '--verbatimModuleSyntax',
    ],
    { stdio: 'inherit' },
  );
  writeFileSync(`${build}package.json`, '{"type":"module"}\n');
}

async function startVariant(name: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [`${build}bench/http/servers.js`, name], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8');
  for await (const chunk of child.stdout!) {
    out += chunk;
    const m = /PORT (\d+)/.exec(out);
    if (m) return { port: Number(m[1]), child };
  }
  throw new Error(`variant ${name} exited before listening`);
}

interface Running {
  url: string;
  child: ChildProcess;
}

async function start(name: string): Promise<Running> {
  const { port, child } = await startVariant(name);
  const url = `http://127.0.0.1:${port}/hit`;
  // Warm up: fills the cache and lets the JIT settle.
  await autocannon({ url, connections: 10, duration: 1 });
  return { url, child };
}

async function once1(server: Running, seconds: number, connections: number): Promise<Result> {
  const before = await cpu(server.child);
  const r = await autocannon({ url: server.url, connections, duration: seconds });
  const after = await cpu(server.child);
  const cpuUs = (after.user + after.system - before.user - before.system) / r.requests.total;
  return { rps: r.requests.average, p99: r.latency.p99, non2xx: r.non2xx + r.errors, cpuUs };
}

/**
 * Both servers run at once; the load alternates between them round by round and each figure
 * is the median over the rounds, so a neighbour's burst on a shared machine hits both sides.
 */
async function measurePair(
  ours: string,
  anchor: string,
  seconds: number,
  connections: number,
  rounds: number,
): Promise<[Result, Result]> {
  const a = await start(anchor);
  const o = await start(ours);
  try {
    const ra: Result[] = [];
    const ro: Result[] = [];
    for (let i = 0; i < rounds; i++) {
      if (i % 2 === 0) {
        ra.push(await once1(a, seconds, connections));
        ro.push(await once1(o, seconds, connections));
      } else {
        ro.push(await once1(o, seconds, connections));
        ra.push(await once1(a, seconds, connections));
      }
    }
    return [medianResult(ro), medianResult(ra)];
  } finally {
    for (const s of [a, o]) {
      s.child.kill('SIGTERM');
      await once(s.child, 'exit');
    }
  }
}

function medianResult(list: Result[]): Result {
  const med = (f: (r: Result) => number) => {
    const xs = list.map(f).sort((x, y) => x - y);
    return xs[Math.floor(xs.length / 2)]!;
  };
  return {
    rps: med((r) => r.rps),
    p99: med((r) => r.p99),
    cpuUs: med((r) => r.cpuUs),
    non2xx: list.reduce((n, r) => n + r.non2xx, 0),
  };
}

async function cpu(child: ChildProcess): Promise<NodeJS.CpuUsage> {
  const reply = once(child, 'message') as Promise<[NodeJS.CpuUsage]>;
  child.send('cpu');
  return (await reply)[0];
}

/** Runs the suite; resolves `true` when every bar holds. */
export async function benchHttp(
  seconds = 5,
  connections = 50,
  only?: string,
  rounds = 5,
): Promise<boolean> {
  compile();
  const pairs: [string, string, number | undefined][] = [
    ['node:cache', 'node:bare', 0.8],
    ['express:cache', 'express:apicache', 1.0],
    ['express:cache', 'express:bare', undefined],
    ['fastify:cache', 'fastify:bare', undefined],
    ['hono:cache', 'hono:bare', undefined],
    ['fetch:cache', 'hono:bare', undefined],
  ];
  console.log(
    `\nHTTP cache hits, 1 KiB JSON, ${connections} connections, median of ${rounds} alternating ${seconds}s rounds, Node ${process.version}`,
  );
  console.log(
    'ours'.padEnd(14),
    'req/s'.padStart(8),
    'p99'.padStart(6),
    'µs/req'.padStart(7),
    '  vs',
    'anchor'.padEnd(17),
    'req/s'.padStart(8),
    'p99'.padStart(6),
    'µs/req'.padStart(7),
    '  req/s ratio',
    ' cpu ratio',
  );
  let ok = true;
  for (const [ours, anchor, bar] of pairs) {
    if (only !== undefined && !ours.startsWith(only)) continue;
    const [o, a] = await measurePair(ours, anchor, seconds, connections, rounds);
    const ratio = o.rps / a.rps;
    const verdict =
      bar === undefined ? '' : ratio >= bar ? `PASS (bar ${bar}×)` : `FAIL (bar ${bar}×)`;
    if (bar !== undefined && ratio < bar) ok = false;
    if (o.non2xx > 0 || a.non2xx > 0) {
      ok = false;
      console.log(`  errors: ${ours} ${o.non2xx}, ${anchor} ${a.non2xx}`);
    }
    console.log(
      ours.padEnd(14),
      o.rps.toFixed(0).padStart(8),
      `${o.p99}ms`.padStart(6),
      o.cpuUs.toFixed(1).padStart(7),
      '  vs',
      anchor.padEnd(17),
      a.rps.toFixed(0).padStart(8),
      `${a.p99}ms`.padStart(6),
      a.cpuUs.toFixed(1).padStart(7),
      `  ${ratio.toFixed(2)}×`.padStart(13),
      // Requests per CPU-second, ours over anchor: what the ratio would be on an idle machine.
      `${(a.cpuUs / o.cpuUs).toFixed(2)}×`.padStart(10),
      verdict,
    );
  }
  return ok;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const seconds = Number(process.argv[2] ?? 5);
  const connections = Number(process.argv[3] ?? 50);
  const ok = await benchHttp(seconds, connections, process.argv[4]);
  console.log(`\nbars: ${ok ? 'all passed' : 'some missed (see FAIL above)'}`);
}
