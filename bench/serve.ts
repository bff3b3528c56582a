/**
 * `codeai-cache serve` benchmark: cache-hit requests/s and p99 through the proxy, against a
 * bare node:http server sending the same bytes, and against nginx `proxy_cache` (one worker
 * process) in front of the same origin when `nginx` is installed — one run, the servers
 * measured in alternating rounds (median), so machine noise hits every side alike.
 * 1 KiB bodies, autocannon, 50 connections.
 *
 * Server CPU per request is measured too, and is the steadier figure on a busy 2-core
 * machine: in separate rounds every server gets the same fixed number of requests at the
 * same time (so whatever else the machine does hits them alike), CPU time from /proc, and
 * the ratio to bare node:http taken round by round (median).
 *
 * `npx tsx bench/serve.ts [seconds=5] [connections=50] [rounds=3]`, or `npm run bench -- serve`.
 * `SERVE_BASELINE=/path/to/other/dist/cli/main.js` adds that build of serve as a fourth
 * server (e.g. the previous commit's, built in a `git worktree`), to measure a change.
 * Bars (PASS/FAIL): serve hits ≥ 0.8× bare node:http, and ≥ 0.8× nginx proxy_cache hits.
 * Runs the compiled CLI (`npm run build` first, done here), as users run it.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const root = fileURLToPath(new URL('../', import.meta.url));
const BODY = JSON.stringify({ data: 'x'.repeat(1000) }).slice(0, 1024);

interface Result {
  rps: number;
  p99: number;
  errors: number;
  cpuUs: number;
}

interface Running {
  name: string;
  url: string;
  pid: number;
  stop(): void;
}

/** The origin and the bare anchor: the same server, answering the same 1 KiB. */
const ORIGIN_JS = `
const http = require('node:http');
const body = Buffer.from(${JSON.stringify(BODY)});
const s = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length, 'cache-control': 'public, max-age=3600' });
  res.end(body);
});
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => console.log('PORT ' + s.address().port));
`;

function cpuOf(pid: number): number {
  // utime + stime in clock ticks (fields 14 and 15 of /proc/PID/stat), at 100 Hz.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

function waitFor(child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((ok, fail) => {
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      out += d;
      const m = pattern.exec(out);
      if (m) ok(m);
    });
    child.on('exit', (code) => fail(new Error(`exited (${code}) before ready: ${out}`)));
  });
}

async function startNode(name: string): Promise<Running> {
  const child = spawn(process.execPath, ['-e', ORIGIN_JS], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const m = await waitFor(child, /PORT (\d+)/);
  return { name, url: `http://127.0.0.1:${m[1]}/hit`, pid: child.pid!, stop: () => child.kill() };
}

async function startServe(
  upstream: string,
  main = join(root, 'dist/cli/main.js'),
  name = 'serve',
): Promise<Running> {
  const child = spawn(process.execPath, [main, 'serve', '--upstream', upstream, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const m = await waitFor(child, /listening on (http:\/\/\S+)/);
  return { name, url: `${m[1]}/hit`, pid: child.pid!, stop: () => child.kill('SIGTERM') };
}

function findNginx(): string | undefined {
  for (const dir of [
    ...(process.env.PATH ?? '').split(delimiter),
    '/usr/sbin',
    '/usr/local/sbin',
  ]) {
    try {
      execFileSync(join(dir, 'nginx'), ['-v'], { stdio: 'ignore' });
      return join(dir, 'nginx');
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** nginx as one process (no master, one worker's work), proxy_cache in a temp dir. */
async function startNginx(bin: string, upstream: string, port: number): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'codeai-bench-nginx-'));
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  proxy_cache_path ${dir}/cache keys_zone=bench:10m;
  upstream origin { server ${new URL(upstream).host}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache bench;
      add_header X-Cache $upstream_cache_status;
    }
  }
}
`,
  );
  const child = spawn(bin, ['-c', conf, '-p', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}/hit`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.ok) break;
    } catch {
      // Not up yet.
    }
    if (Date.now() > deadline) throw new Error('nginx did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name: 'nginx',
    url,
    pid: child.pid!,
    stop: () => {
      child.kill('SIGQUIT');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

async function measure(server: Running, seconds: number, connections: number): Promise<Result> {
  const before = cpuOf(server.pid);
  const r = await autocannon({ url: server.url, connections, duration: seconds });
  const cpuUs = (cpuOf(server.pid) - before) / Math.max(1, r.requests.total);
  return { rps: r.requests.average, p99: r.latency.p99, errors: r.non2xx + r.errors, cpuUs };
}

/**
 * CPU µs per request with every server loaded at once by the same fixed number of requests,
 * and each server's ratio to the first one, per round; medians over the rounds.
 */
async function cpuRounds(
  servers: Running[],
  requests: number,
  connections: number,
  rounds: number,
): Promise<Map<string, { cpuUs: number; ratio: number }>> {
  const cpu = new Map<string, number[]>(servers.map((s) => [s.name, []]));
  const ratios = new Map<string, number[]>(servers.map((s) => [s.name, []]));
  for (let i = 0; i < rounds; i++) {
    const before = servers.map((s) => cpuOf(s.pid));
    const runs = await Promise.all(
      servers.map((s) => autocannon({ url: s.url, connections, amount: requests })),
    );
    const perRequest = servers.map(
      (s, j) => (cpuOf(s.pid) - before[j]!) / Math.max(1, runs[j]!.requests.total),
    );
    servers.forEach((s, j) => {
      cpu.get(s.name)!.push(perRequest[j]!);
      ratios.get(s.name)!.push(perRequest[j]! / perRequest[0]!);
    });
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return new Map(
    servers.map((s) => [s.name, { cpuUs: med(cpu.get(s.name)!), ratio: med(ratios.get(s.name)!) }]),
  );
}

function median(list: Result[]): Result {
  const med = (f: (r: Result) => number) => {
    const s = list.map(f).sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)]!;
  };
  return {
    rps: med((r) => r.rps),
    p99: med((r) => r.p99),
    errors: med((r) => r.errors),
    cpuUs: med((r) => r.cpuUs),
  };
}

/** Runs the suite; resolves `true` when every bar holds. */
export async function benchServe(seconds = 5, connections = 50, rounds = 3): Promise<boolean> {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  const origin = await startNode('origin');
  const upstream = new URL(origin.url).origin;
  const servers: Running[] = [await startNode('bare node:http'), await startServe(upstream)];
  const baseline = process.env.SERVE_BASELINE;
  if (baseline) servers.push(await startServe(upstream, baseline, 'serve (baseline)'));
  const nginx = findNginx();
  if (nginx === undefined) {
    console.log(
      'nginx not installed: the nginx proxy_cache comparison is skipped (apt-get install -y nginx)',
    );
  } else {
    servers.push(await startNginx(nginx, upstream, await freePort()));
  }
  const results = new Map<string, Result[]>();
  let cpu: Map<string, { cpuUs: number; ratio: number }>;
  try {
    for (const s of servers) {
      // Warm up: fills the caches and lets the JIT settle.
      await autocannon({ url: s.url, connections: 10, duration: 1 });
      results.set(s.name, []);
    }
    for (let i = 0; i < rounds; i++) {
      for (const s of i % 2 === 0 ? servers : [...servers].reverse()) {
        results.get(s.name)!.push(await measure(s, seconds, connections));
      }
    }
    cpu = await cpuRounds(servers, 20_000, connections, Math.max(5, rounds * 2 + 1));
  } finally {
    for (const s of [...servers, origin]) s.stop();
  }
  const med = new Map([...results].map(([k, v]) => [k, median(v)]));
  const serve = med.get('serve')!;
  console.log(
    `\nserve cache hits, 1 KiB, ${connections} connections, median of ${rounds} alternating ${seconds}s rounds, Node ${process.version}`,
  );
  console.log('server              req/s     p99 ms   CPU µs/req  errors');
  for (const [name, r] of med) {
    console.log(
      `${name.padEnd(18)} ${r.rps.toFixed(0).padStart(7)}  ${r.p99.toFixed(1).padStart(8)}  ${r.cpuUs.toFixed(1).padStart(10)}  ${String(r.errors).padStart(6)}`,
    );
  }
  console.log(
    `\nserver CPU per request, every server loaded at once with 20,000 requests, median of ${Math.max(5, rounds * 2 + 1)} rounds`,
  );
  console.log('server              CPU µs/req  ratio to bare (per round, median)');
  for (const [name, r] of cpu) {
    console.log(
      `${name.padEnd(18)} ${r.cpuUs.toFixed(1).padStart(10)}  ${r.ratio.toFixed(2).padStart(6)}×`,
    );
  }
  let ok = true;
  for (const [anchor, bar] of [
    ['bare node:http', 0.8],
    ['nginx', 0.8],
  ] as const) {
    const a = med.get(anchor);
    if (a === undefined) continue;
    const ratio = serve.rps / a.rps;
    const pass = ratio >= bar;
    ok &&= pass;
    console.log(
      `${pass ? 'PASS' : 'FAIL'} serve hits / ${anchor}: ${ratio.toFixed(2)}× req/s (bar ≥ ${bar}×), CPU per request ${(serve.cpuUs / a.cpuUs).toFixed(2)}×`,
    );
  }
  return ok;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [seconds, connections, rounds] = process.argv.slice(2).map(Number);
  const ok = await benchServe(seconds || 5, connections || 50, rounds || 3);
  process.exitCode = ok ? 0 : 1;
}
