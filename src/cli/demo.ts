/**
 * `codeai-cache demo`: the main job, on the embedded default, in one command. It starts a
 * small blog API (`demo-origin.ts`, 20–60 ms per request) described by the bundled
 * `examples/blog.cai`, puts the caching proxy (`createProxy`, what `serve` runs) in front
 * of it on a memory cache, drives the same load at the origin alone and through the cache,
 * shows a write invalidating a cached read, and prints what the cache did. Then it keeps
 * both running for the reader to try by hand, or exits with `--once`.
 *
 * Everything stays on loopback, nothing is fetched, no Redis is needed; the whole run takes
 * a few seconds.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  type Proxy as CacheProxy,
  createProxy,
  formatDiagnostic,
  loadCodeAI,
  type ProxyAddress,
} from '../index.js';
import {
  type CliIO,
  COMMON_OPTIONS,
  type Command,
  CommandError,
  parseCommandArgs,
  UsageError,
} from './command.js';
import { blogWorkload, drive, type LoadResult, Progress, percentile, send } from './demo-load.js';
import { startDemoOrigin } from './demo-origin.js';

/** The bundled spec: `examples/blog.cai`, two levels above both `src/cli/` and `dist/cli/`. */
export const DEMO_SPEC = fileURLToPath(new URL('../../examples/blog.cai', import.meta.url));

/** Requests sent to the origin alone, and through the cache; clients at once. */
const DIRECT_REQUESTS = 240;
const CACHED_REQUESTS = 1200;
const CONCURRENCY = 8;
/** The port the demo asks for first: the one the README's curl lines use. */
const PREFERRED_PORT = 8080;

const USAGE = `Usage: codeai-cache demo [--once] [--port N] [--host ADDR]

Starts a small blog API (20–60 ms per request, described by the bundled spec
examples/blog.cai) and the caching proxy in front of it on the embedded memory cache, then:
drives ${DIRECT_REQUESTS} requests at the origin alone and ${CACHED_REQUESTS} through the cache, shows a write
invalidating a cached read, and prints the hit ratio, the origin calls saved and the latency
p50 / p99 with and without the cache. Then it keeps running, with curl lines to try, until
Ctrl-C. Loopback only; no Redis; a few seconds.

  --once           Exit after the summary.
  --port <n>       The proxy's port (default ${PREFERRED_PORT}, or a free one if ${PREFERRED_PORT} is taken).
  --host <addr>    The proxy's address (default 127.0.0.1).
  --verbose        Print a failure's stack trace.
  -h, --help       Show this help.

Examples:
  codeai-cache demo
  codeai-cache demo --once
`;

/** `demo`. */
export const demo: Command = {
  name: 'demo',
  summary: 'A blog API behind the caching proxy, a short load, and what the cache saved.',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('demo', argv, {
      ...COMMON_OPTIONS,
      once: { type: 'boolean' },
      port: { type: 'string' },
      host: { type: 'string' },
    });
    if (values.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    if (positionals.length > 0)
      throw new UsageError(`demo takes no arguments, got "${positionals[0]}"`);
    let port: number | undefined;
    if (values.port !== undefined) {
      port = Number(values.port);
      if (!/^\d+$/.test(values.port) || port > 65535) {
        throw new UsageError(
          `--port must be a port number (0 picks a free one), got "${values.port}"`,
        );
      }
    }
    return runDemo(io, { once: values.once === true, port, host: values.host ?? '127.0.0.1' });
  },
};

async function runDemo(
  io: CliIO,
  options: { once: boolean; port: number | undefined; host: string },
): Promise<number> {
  const out = (line = '') => io.stdout.write(`${line}\n`);
  const source = readFileSync(DEMO_SPEC, 'utf8');
  const loaded = loadCodeAI(source, { file: DEMO_SPEC, env: {} });
  if (!loaded.ok) {
    const first = loaded.diagnostics.find((d) => d.severity === 'error')!;
    throw new CommandError(
      `the bundled spec does not load: ${formatDiagnostic(first, source, DEMO_SPEC).split('\n')[0]}`,
    );
  }
  const plan = loaded.plan;
  const origin = await startDemoOrigin();
  let proxy: CacheProxy | undefined;
  try {
    proxy = createProxy({ upstream: origin.url, cache: 'memory://', plan });
    const address = await listen(proxy, options.port, options.host);
    const cached = plan.endpoints.filter((e) => e.cached).length;
    out('codeai-cache demo: a blog API behind the caching proxy, on the embedded memory cache');
    out();
    out(`  origin  ${origin.url}  (a blog API answering in 20–60 ms)`);
    out(`  spec    ${DEMO_SPEC}  (${cached} cached GET routes of ${plan.endpoints.length})`);
    out('  cache   memory (embedded, 64 MiB)');
    out(`  proxy   ${address.url}${address.note}`);
    out();

    const workload = blogWorkload(DIRECT_REQUESTS + CACHED_REQUESTS);
    out(`1. The origin alone: ${DIRECT_REQUESTS} requests, ${CONCURRENCY} at a time`);
    const direct = await load(io, origin.url, workload.slice(0, DIRECT_REQUESTS), false);
    out(`2. Through the cache: ${CACHED_REQUESTS} requests, the same mix, starting cold`);
    const callsBefore = origin.calls;
    const through = await load(io, address.url, workload.slice(DIRECT_REQUESTS), true);
    const originCalls = origin.calls - callsBefore;
    out('3. A write invalidates a cached read');
    await showInvalidation(io, address.url);
    out();
    summary(io, direct, through, originCalls);
    out();
    const base = address.url;
    out(
      options.once
        ? 'Try it by hand: run "codeai-cache demo" (in a clone: npm run demo:live) to keep it running, then:'
        : 'Try it by hand while the demo runs (Ctrl-C stops it):',
    );
    out(`  curl -i ${base}/api/posts/1                # X-Cache: MISS, then HIT, with an Age`);
    out(`  curl -i ${base}/api/posts/1/comments`);
    out(
      `  curl -i -X POST ${base}/api/posts/1/comments -H 'content-type: application/json' -d '{"text":"hi"}'`,
    );
    out(
      `  curl -i -X PUT ${base}/api/posts/1 -H 'content-type: application/json' -d '{"title":"Edited"}'`,
    );
    out(`  curl -i ${base}/api/search?q=cache         # not cached: forwarded every time`);
    out(`  curl ${base}/__cache/health`);
    out(`  curl ${base}/__cache/metrics`);
    out(`  codeai-cache plan ${DEMO_SPEC}   # what the spec asks the cache to do`);
    if (!options.once) await untilSignal();
    return through.errors + direct.errors === 0 ? 0 : 1;
  } finally {
    await proxy?.close(1000);
    await origin.close();
  }
}

/** Listens on the port asked for; without one, on 8080, else on a free port (and says so). */
async function listen(
  proxy: CacheProxy,
  port: number | undefined,
  host: string,
): Promise<ProxyAddress & { note: string }> {
  try {
    return { ...(await proxy.listen(port ?? PREFERRED_PORT, host)), note: '' };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (port === undefined && code === 'EADDRINUSE') {
      return {
        ...(await proxy.listen(0, host)),
        note: `  (port ${PREFERRED_PORT} is taken: a free one instead)`,
      };
    }
    throw new CommandError(
      `cannot listen on ${host}:${port ?? PREFERRED_PORT}: ${code ?? (err as Error).message}`,
    );
  }
}

async function load(
  io: CliIO,
  base: string,
  requests: ReturnType<typeof blogWorkload>,
  showHits: boolean,
): Promise<LoadResult> {
  const progress = new Progress(io.stdout, requests.length);
  return drive(base, requests, {
    concurrency: CONCURRENCY,
    onProgress: (done, result) =>
      progress.update(done, showHits ? `${ratio(served(result), done)} from the cache` : ''),
  });
}

/** A cached read, a write to the same post, and the read again: the write dropped the copy. */
async function showInvalidation(io: CliIO, base: string): Promise<void> {
  const path = '/api/posts/3';
  const title = (body: string) => {
    try {
      return JSON.stringify((JSON.parse(body) as { title?: unknown }).title);
    } catch {
      return '?';
    }
  };
  const row = (
    method: string,
    status: number,
    xCache: string | undefined,
    ms: number,
    note: string,
  ) =>
    io.stdout.write(
      `  ${method.padEnd(4)} ${path}  ${String(status)} ${(xCache ?? '-').padEnd(5)} ${ms.toFixed(1).padStart(5)} ms  ${note}\n`,
    );
  const first = await send(base, { method: 'GET', path });
  const second = await send(base, { method: 'GET', path });
  row('GET', second.status, second.xCache, second.ms, `title ${title(second.body)}`);
  const edited = `Edited at ${new Date().toISOString().slice(11, 19)}`;
  const write = await send(base, { method: 'PUT', path, body: JSON.stringify({ title: edited }) });
  row('PUT', write.status, write.xCache, write.ms, `title → ${JSON.stringify(edited)}`);
  const after = await send(base, { method: 'GET', path });
  row(
    'GET',
    after.status,
    after.xCache,
    after.ms,
    `title ${title(after.body)}  (the PUT dropped the cached copy)`,
  );
  const again = await send(base, { method: 'GET', path });
  row('GET', again.status, again.xCache, again.ms, 'cached again');
  if (title(after.body) !== JSON.stringify(edited) || first.status !== 200) {
    throw new CommandError(
      'the read after the write did not see it: the demo found a bug, please report it',
    );
  }
}

function summary(io: CliIO, direct: LoadResult, through: LoadResult, originCalls: number): void {
  const out = (line: string) => io.stdout.write(`${line}\n`);
  const total = through.latencies.length + through.errors;
  const fromCache = served(through);
  const o = through.outcomes;
  const saved = total - originCalls;
  const ms = (v: number) => `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;
  out('Summary');
  out(
    `  hit ratio            ${ratio(fromCache, total)}: ${fromCache} of ${total} requests answered from the cache`,
  );
  out(
    `                       (HIT ${o.HIT ?? 0}, STALE ${o.STALE ?? 0}, MISS ${o.MISS ?? 0}, BYPASS ${o.BYPASS ?? 0} — the writes, not cached ${o.none ?? 0} — the search)`,
  );
  out(
    `  origin calls saved   ${saved}: the origin answered ${originCalls} of the ${total} requests`,
  );
  out('  latency                p50        p99');
  out(
    `    origin alone       ${ms(percentile(direct.latencies, 50)).padStart(9)}  ${ms(percentile(direct.latencies, 99)).padStart(9)}`,
  );
  out(
    `    through the cache  ${ms(percentile(through.latencies, 50)).padStart(9)}  ${ms(percentile(through.latencies, 99)).padStart(9)}`,
  );
  if (direct.errors + through.errors > 0)
    out(`  errors               ${direct.errors + through.errors} requests failed`);
}

function served(result: LoadResult): number {
  return (result.outcomes.HIT ?? 0) + (result.outcomes.STALE ?? 0);
}

function ratio(part: number, whole: number): string {
  return whole === 0 ? '0 %' : `${((100 * part) / whole).toFixed(1)} %`;
}

function untilSignal(): Promise<void> {
  return new Promise((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
