/**
 * `codeai-cache serve` as a user runs it (a subprocess through tsx, from src), and the
 * small origin the serve tests put behind it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { cli, type Run } from '../cli/run-cli.js';

const root = resolve(new URL('../..', import.meta.url).pathname);
const main = join(root, 'src/cli/main.ts');

/** A running `serve` subprocess. */
export interface ServeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything printed so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<number | null>;
}

/** Starts `codeai-cache serve ...args` and resolves once it printed `listening on`. */
export function startServe(
  args: string[],
  env: Record<string, string> = {},
): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', main, 'serve', ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return new Promise((ok, fail) => {
    const onData = () => {
      const m = /listening on (http:\/\/\S+)/.exec(stdout);
      if (m === null) return;
      child.stdout!.off('data', onData);
      ok({
        child,
        url: m[1]!,
        stdout: () => stdout,
        stderr: () => stderr,
        exited,
        stop: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          return exited;
        },
      });
    };
    child.stdout!.on('data', onData);
    exited.then((code) =>
      fail(new Error(`serve exited (${code}) before listening:\n${stdout}\n${stderr}`)),
    );
  });
}

/** Runs `codeai-cache serve ...args` to completion (for usage errors). */
export function runServe(args: string[]): Promise<Run> {
  return cli(['serve', ...args]);
}

/** An origin for the tests: a handler per path, and a count of the requests it saw. */
export class TestOrigin {
  readonly server: Server;
  /** Requests seen, by `METHOD path`. */
  readonly calls = new Map<string, number>();
  /** The headers of the last request seen. */
  lastHeaders: IncomingHttpHeaders = {};
  #routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();

  constructor() {
    this.server = createServer((req, res) => {
      const key = `${req.method} ${req.url?.split('?')[0]}`;
      this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
      this.lastHeaders = req.headers;
      const route = this.#routes.get(key) ?? this.#routes.get(`* ${req.url?.split('?')[0]}`);
      if (route === undefined) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('no route');
        return;
      }
      route(req, res);
    });
  }

  /** Adds a route: `"GET /posts"` or `"* /echo"` for every method. */
  on(route: string, handler: (req: IncomingMessage, res: ServerResponse) => void): this {
    this.#routes.set(route, handler);
    return this;
  }

  count(route: string): number {
    return this.calls.get(route) ?? 0;
  }

  async listen(): Promise<string> {
    await new Promise<void>((ok) => this.server.listen(0, '127.0.0.1', ok));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((ok) => this.server.close(() => ok()));
  }
}

/** A response read whole, with raw headers, trailers and any 1xx seen before it. */
export interface Reply {
  status: number;
  reason: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  trailers: string[];
  body: string;
  interim: { status: number; rawHeaders: string[] }[];
}

/** Sends one request with node:http (so 1xx, reason phrases and trailers are visible). */
export function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((ok, fail) => {
    const interim: Reply['interim'] = [];
    // node's client frames a DELETE / OPTIONS body only when given its length.
    const headers: Record<string, string | number> = { ...options.headers };
    if (options.body !== undefined) headers['content-length'] = Buffer.byteLength(options.body);
    const req = request(url, { method: options.method ?? 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        body += c;
      });
      res.on('error', fail);
      res.on('end', () =>
        ok({
          status: res.statusCode ?? 0,
          reason: res.statusMessage ?? '',
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          trailers: res.rawTrailers,
          body,
          interim,
        }),
      );
    });
    req.on('information', (info) =>
      interim.push({ status: info.statusCode, rawHeaders: info.rawHeaders }),
    );
    req.on('error', fail);
    const expectContinue = /100-continue/i.test(options.headers?.expect ?? '');
    if (expectContinue) req.on('continue', () => req.end(options.body));
    else req.end(options.body);
  });
}

/** The resident set size of a process, in bytes (Linux). */
export function rssOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** Polls `check` until it returns true (a throw is "not yet"); fails after `timeoutMs`. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // Not yet.
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
