/**
 * `codeai-cache serve`: the caching reverse proxy (`createProxy`) as a command. Only what a
 * user of the package could write: the public entry point, flags, signals.
 */
import { readFileSync } from 'node:fs';
import {
  type CacheConfig,
  type CodeAIPlan,
  cacheConfigForPlan,
  createProxy,
  formatDiagnostic,
  loadCodeAI,
  parseDuration,
  UNKEYED_RISKY_HEADERS,
} from '../index.js';
import {
  type CliIO,
  COMMON_OPTIONS,
  type Command,
  CommandError,
  parseCommandArgs,
  UsageError,
} from './command.js';
import { maskUrl } from './plan-table.js';

/** `serve --help`. */
export const SERVE_USAGE = `Usage: codeai-cache serve --upstream URL [options]

A caching reverse proxy in front of URL. With --spec, the spec's cached endpoints get its
policies and every other path is forwarded; without it, the origin's Cache-Control decides.

Options:
  --upstream <url>          The origin (http:// or https://). Required.
  --spec <app.cai>          A CodeAI spec; SIGHUP reloads it.
  --port <n>                Port to listen on (0 picks a free one). Default 8080.
  --host <addr>             Address to listen on. Default 127.0.0.1.
  --cache <url>             redis://… or memory://; else the spec's, else CACHE_URL /
                            REDIS_URL, else an embedded memory cache.
  --upstream-timeout <d>    Wait for the origin's answer ("30s", "500ms"). Default 30s.
  --admin-token <t>         /__cache/* requires "Authorization: Bearer <t>" (else loopback only).
  --trust-proxy             Keep incoming X-Forwarded-* (behind a trusted proxy).
  --ignore-header <name>    Leave this request field out of the cache key (repeatable;
                            one the cache keys on its own, such as X-Forwarded-For with
                            --trust-proxy when no response shows it). Default: all keyed.
  --verbose                 Stack traces on failures.
  -h, --help                Show this help.

Admin: GET /__cache/health, GET /__cache/metrics, POST /__cache/invalidate {"tags":[…]} or {"path":"/…"}
(Content-Type: application/json). Without --admin-token: this machine only (not relayed, loopback Host).
Signals: SIGINT / SIGTERM finish in-flight requests (at most 10 s), then exit 0.
SIGHUP reloads the --spec file; one that does not load keeps the running plan. The cache
itself (where it lives, its prefix and default TTL) changes only with a restart.
`;

/** How long in-flight requests may take to finish on SIGINT / SIGTERM. */
const DRAIN_MS = 10_000;

/** `serve`. */
export const serve: Command = {
  name: 'serve',
  summary: 'Run a caching reverse proxy in front of an origin.',
  usage: SERVE_USAGE,
  run,
};

/** Runs `serve`; resolves with the exit code once the proxy has stopped. */
async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs('serve', argv, {
    ...COMMON_OPTIONS,
    upstream: { type: 'string' },
    spec: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    cache: { type: 'string' },
    'upstream-timeout': { type: 'string' },
    'admin-token': { type: 'string' },
    'trust-proxy': { type: 'boolean' },
    'ignore-header': { type: 'string', multiple: true },
  });
  if (values.help) {
    io.stdout.write(SERVE_USAGE);
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(`serve takes no arguments, got "${positionals[0]}"`);
  }
  if (values.upstream === undefined) throw new UsageError('--upstream URL is required');
  if (!/^https?:\/\/[^/]/.test(values.upstream)) {
    throw new UsageError(`--upstream must be an http:// or https:// URL, got "${values.upstream}"`);
  }
  const port = values.port === undefined ? 8080 : Number(values.port);
  if (!/^\d+$/.test(values.port ?? '0') || port > 65535) {
    throw new UsageError(`--port must be a port number (0 picks a free one), got "${values.port}"`);
  }
  let upstreamTimeoutMs: number | undefined;
  if (values['upstream-timeout'] !== undefined) {
    try {
      upstreamTimeoutMs = parseDuration(values['upstream-timeout'] as never, '--upstream-timeout');
    } catch {
      throw new UsageError(
        `--upstream-timeout must be a duration such as "30s" or "500ms", got "${values['upstream-timeout']}"`,
      );
    }
    if (upstreamTimeoutMs <= 0) throw new UsageError('--upstream-timeout must be above zero');
  }
  const cacheUrl = values.cache;
  if (cacheUrl !== undefined && !/^(redis|rediss|memory):\/\//.test(cacheUrl)) {
    throw new UsageError(
      `--cache must be a redis://, rediss:// or memory:// URL, got "${cacheUrl}"`,
    );
  }
  if (values['admin-token'] === '') throw new UsageError('--admin-token must not be empty');
  const ignoreHeaders = (values['ignore-header'] ?? []).map((name) => name.toLowerCase());
  for (const name of ignoreHeaders) {
    if (!UNKEYED_RISKY_HEADERS.includes(name)) {
      throw new UsageError(
        `--ignore-header takes a forwarding field the cache keys (${UNKEYED_RISKY_HEADERS.join(', ')}), got "${name}"`,
      );
    }
  }

  const log = (line: string) => io.stderr.write(`codeai-cache serve: ${line}\n`);
  const specFile = values.spec;
  let plan: CodeAIPlan | undefined;
  if (specFile !== undefined) {
    const loaded = loadSpec(specFile, io);
    if (typeof loaded === 'string') throw new CommandError(loaded);
    plan = loaded;
  }

  const cache = cacheLocation(plan, cacheUrl, io.env);
  io.stdout.write(`cache: ${cache.label}\n`);
  const proxy = createProxy({
    upstream: values.upstream,
    cache: cache.config,
    ...(plan !== undefined ? { plan } : {}),
    ...(upstreamTimeoutMs !== undefined ? { upstreamTimeout: upstreamTimeoutMs } : {}),
    ...(values['admin-token'] !== undefined ? { adminToken: values['admin-token'] } : {}),
    trustProxy: values['trust-proxy'] === true,
    ...(ignoreHeaders.length > 0 ? { middleware: { ignoreHeaders } } : {}),
    log,
  });
  let address: Awaited<ReturnType<typeof proxy.listen>>;
  try {
    address = await proxy.listen(port, values.host ?? '127.0.0.1');
  } catch (err) {
    // A taken port: release the cache (a Redis connection) before the one-line failure.
    await proxy.close(0);
    throw err;
  }
  io.stdout.write(
    `upstream: ${values.upstream}${specFile !== undefined ? `, spec ${specFile}` : ''}\n`,
  );
  io.stdout.write(`listening on ${address.url}\n`);

  return new Promise<number>((done) => {
    const stop = (signal: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      process.off('SIGHUP', onHup);
      log(`${signal}: finishing in-flight requests`);
      proxy.close(DRAIN_MS).then(
        () => done(0),
        (err: unknown) => {
          log(`closing: ${(err as Error).message}`);
          done(1);
        },
      );
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    const onHup = () => {
      if (specFile === undefined) {
        log('SIGHUP: no --spec to reload');
        return;
      }
      const next = loadSpec(specFile, io);
      if (typeof next === 'string') {
        log(`reload failed, keeping the previous spec: ${next}`);
        return;
      }
      proxy.reload(next);
      log(`reloaded ${specFile} (${next.endpoints.length} endpoints)`);
      // The cache was made at start: its place, prefix and default TTL stay until a restart.
      const wanted = cacheLocation(next, cacheUrl, io.env);
      if (JSON.stringify(wanted.config) !== JSON.stringify(cache.config)) {
        log(
          `the spec's cache settings changed (${wanted.label}); a reload keeps the running cache (${cache.label}): restart serve to change it`,
        );
      }
    };
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    process.on('SIGHUP', onHup);
  });
}

/** The plan in `file`, or why it cannot be loaded (its diagnostics go to stderr). */
function loadSpec(file: string, io: CliIO): CodeAIPlan | string {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (err) {
    return `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
  }
  const result = loadCodeAI(source, { env: io.env, file });
  for (const d of result.diagnostics) {
    if (d.severity === 'error') io.stderr.write(`${formatDiagnostic(d, source, file)}\n`);
  }
  if (!result.ok) {
    const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
    return `${file}: ${errors} error${errors === 1 ? '' : 's'}; the spec was not loaded`;
  }
  return result.plan;
}

/** Where the cache lives (DESIGN §7): --cache, else the spec's, else CACHE_URL / REDIS_URL, else memory. */
export function cacheLocation(
  plan: CodeAIPlan | undefined,
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): { config: CacheConfig | string; label: string } {
  if (plan !== undefined) {
    // The plan's backend already took cache_url, else CACHE_URL / REDIS_URL (loadCodeAI).
    const config = cacheConfigForPlan(plan, flag);
    return { config, label: describe(config.type === 'redis' ? config.url : undefined) };
  }
  const url = flag ?? env.CACHE_URL ?? env.REDIS_URL;
  if (url === undefined || url.startsWith('memory:')) {
    return { config: url ?? { type: 'memory' }, label: describe(undefined) };
  }
  return { config: url, label: describe(url) };
}

function describe(redisUrl: string | undefined): string {
  return redisUrl === undefined
    ? 'memory (embedded in this process)'
    : `redis at ${maskUrl(redisUrl)}`;
}
