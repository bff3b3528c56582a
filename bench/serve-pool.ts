/**
 * Why `serve` forwards over node:http's Agent rather than undici: the same minimal
 * forwarding proxy (no cache) written on each, in front of the same 1 KiB origin, with
 * autocannon at 50 connections, alternating rounds. `npx tsx bench/serve-pool.ts [seconds=5] [rounds=3]`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import autocannon from 'autocannon';

const undiciPath = createRequire(import.meta.url).resolve('undici');

const ORIGIN = `
const http = require('node:http');
const body = Buffer.alloc(1024, 'x');
const s = http.createServer((req, res) => { res.writeHead(200, { 'content-length': body.length }); res.end(body); });
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => console.log('PORT ' + s.address().port));`;

const NODE_AGENT = (port: number) => `
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, scheduling: 'lifo', maxFreeSockets: 256 });
const s = http.createServer((req, res) => {
  const out = http.request({ host: '127.0.0.1', port: ${port}, method: req.method, path: req.url, headers: req.headers, agent }, (up) => {
    res.writeHead(up.statusCode, up.statusMessage, up.rawHeaders);
    up.pipe(res);
  });
  out.on('error', () => { res.statusCode = 502; res.end(); });
  req.pipe(out);
});
s.listen(0, '127.0.0.1', () => console.log('PORT ' + s.address().port));`;

const UNDICI = (port: number) => `
const http = require('node:http');
const { Pool } = require(${JSON.stringify(undiciPath)});
const pool = new Pool('http://127.0.0.1:${port}', { connections: 256, pipelining: 1 });
const s = http.createServer((req, res) => {
  const headers = { ...req.headers }; delete headers.connection; delete headers.host;
  pool.request({ method: req.method, path: req.url, headers, body: req.method === 'GET' || req.method === 'HEAD' ? undefined : req })
    .then(({ statusCode, headers, body }) => { res.writeHead(statusCode, headers); body.pipe(res); },
          () => { res.statusCode = 502; res.end(); });
});
s.listen(0, '127.0.0.1', () => console.log('PORT ' + s.address().port));`;

function start(js: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', js], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((ok) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /PORT (\d+)/.exec(out);
      if (m) ok({ port: Number(m[1]), child });
    });
  });
}

const seconds = Number(process.argv[2] ?? 5);
const rounds = Number(process.argv[3] ?? 3);
const origin = await start(ORIGIN);
const proxies = {
  'node:http Agent': await start(NODE_AGENT(origin.port)),
  'undici Pool': await start(UNDICI(origin.port)),
};
const results: Record<string, { rps: number[]; p99: number[] }> = {};
for (const [name, p] of Object.entries(proxies)) {
  await autocannon({ url: `http://127.0.0.1:${p.port}/`, connections: 10, duration: 1 });
  results[name] = { rps: [], p99: [] };
}
for (let i = 0; i < rounds; i++) {
  const order = Object.entries(proxies);
  for (const [name, p] of i % 2 === 0 ? order : order.reverse()) {
    const r = await autocannon({
      url: `http://127.0.0.1:${p.port}/`,
      connections: 50,
      duration: seconds,
    });
    results[name]!.rps.push(r.requests.average);
    results[name]!.p99.push(r.latency.p99);
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `forwarding only (no cache), 1 KiB, 50 connections, median of ${rounds} ${seconds}s rounds, Node ${process.version}`,
);
for (const [name, r] of Object.entries(results)) {
  console.log(
    `${name.padEnd(16)} ${med(r.rps).toFixed(0).padStart(7)} req/s  p99 ${med(r.p99).toFixed(1)} ms`,
  );
}
for (const p of [origin, ...Object.values(proxies)]) p.child.kill();
