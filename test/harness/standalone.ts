/**
 * One private redis-server process: free port, own temp dir, no persistence, bound to
 * loopback, output logged to a file in its dir. The cluster and sentinel harnesses build
 * on `launchRedis`, which takes the argv as a function of the port and dir.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeDir, trackDir, trackProcess } from './registry.js';
import {
  findFreePort,
  HOST,
  logTail,
  rawPing,
  redisCli,
  requireRedisBinaries,
  sleep,
  waitFor,
} from './tools.js';

/** A running private redis-server (or sentinel) and the faults a test can inflict on it. */
export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:PORT` (no password, even with `password` set). */
  readonly url: string;
  /** The current process id; changes after `restart()`. */
  readonly pid: number;
  /** The server's private temp dir (holds `redis.log`, and `nodes.conf` for cluster nodes). */
  readonly dir: string;
  /** SIGTERM, then SIGKILL if it has not exited after a short wait; removes the temp dir. */
  stop(): Promise<void>;
  /** SIGKILL, to simulate a crash. The dir is kept so `restart()` can follow. */
  kill(): Promise<void>;
  /** SIGSTOP: the port still accepts connections but nothing answers. */
  pause(): void;
  /** SIGCONT after `pause()`. */
  resume(): void;
  /** Starts the server again on the same port (stopping it first if running); resolves on PING. */
  restart(): Promise<void>;
  /** Runs `redis-cli -p PORT ...args` (10 s deadline) and resolves with stdout minus the final newline. */
  cli(...args: string[]): Promise<string>;
  /** Resolves when a PING is answered within `timeoutMs`, rejects otherwise. */
  ping(timeoutMs?: number): Promise<void>;
  /** The last lines of the server's log. */
  logTail(lines?: number): string;
}

export interface StartRedisOptions {
  /** Extra redis-server arguments, appended last so they win, e.g. `['--maxmemory', '1mb']`. */
  args?: string[];
  /** Sets `--requirepass`; `cli()` then authenticates. */
  password?: string;
}

/** How a harness flavour builds its argv; called again with a new port if the first is taken. */
export interface LaunchSpec {
  label: string;
  password?: string | undefined;
  argv(port: number, dir: string): Promise<string[]>;
}

const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 2_000;
const PORT_ATTEMPTS = 5;

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

// A child whose spawn failed has no pid and never emits 'exit'.
function isRunning(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

class ServerProcess implements RedisServer {
  readonly host = HOST;
  readonly url: string;
  #child: ChildProcess;
  #argv: string[];
  #spec: LaunchSpec;
  #stopped = false;

  constructor(
    readonly port: number,
    readonly dir: string,
    argv: string[],
    spec: LaunchSpec,
    child: ChildProcess,
  ) {
    this.url = `redis://${HOST}:${port}`;
    this.#argv = argv;
    this.#spec = spec;
    this.#child = child;
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#terminate();
    removeDir(this.dir);
  }

  async kill(): Promise<void> {
    this.#child.kill('SIGKILL');
    await exitOf(this.#child);
  }

  pause(): void {
    this.#child.kill('SIGSTOP');
  }

  resume(): void {
    this.#child.kill('SIGCONT');
  }

  async restart(): Promise<void> {
    if (this.#stopped) throw new Error(`${this.#spec.label} on port ${this.port} was stopped`);
    await this.#terminate();
    this.#child = spawnServer(this.#argv, this.dir, false);
    await waitReady(this.#child, this.port, this.dir, this.#spec.label);
  }

  cli(...args: string[]): Promise<string> {
    return redisCli(this.port, args, { password: this.#spec.password });
  }

  async ping(timeoutMs = 1_000): Promise<void> {
    const reply = await rawPing(this.port, timeoutMs);
    if (!isAlive(reply)) throw new Error(`PING to port ${this.port} answered ${reply}`);
  }

  logTail(lines = 20): string {
    return logTail(join(this.dir, 'redis.log'), lines);
  }

  async #terminate(): Promise<void> {
    const child = this.#child;
    if (!isRunning(child)) return;
    child.kill('SIGTERM');
    // A paused server would hold the SIGTERM until continued.
    child.kill('SIGCONT');
    const exited = await Promise.race([exitOf(child).then(() => true), sleep(STOP_GRACE_MS)]);
    if (!exited) {
      child.kill('SIGKILL');
      await exitOf(child);
    }
  }
}

// NOAUTH means a password-protected server is up and answering; LOADING means not yet.
function isAlive(reply: string): boolean {
  return reply === '+PONG' || reply.startsWith('-NOAUTH');
}

function spawnServer(argv: string[], dir: string, fresh: boolean): ChildProcess {
  // A restart appends, keeping the log of every incarnation; a new launch truncates, so a
  // port-race retry does not inherit the failed attempt's "Address already in use".
  const log = openSync(join(dir, 'redis.log'), fresh ? 'w' : 'a');
  try {
    const child = spawn('redis-server', argv, { cwd: dir, stdio: ['ignore', log, log] });
    child.on('error', () => {}); // Surfaced by waitReady as an early exit.
    trackProcess(child);
    return child;
  } finally {
    closeSync(log); // The child holds its own copy of the descriptor.
  }
}

async function waitReady(child: ChildProcess, port: number, dir: string, label: string) {
  await waitFor(
    `${label} on port ${port} to answer PING`,
    async () => !isRunning(child) || isAlive(await rawPing(port, 500)),
    { timeoutMs: READY_TIMEOUT_MS, intervalMs: 20 },
  ).catch((error: Error) => {
    child.kill('SIGKILL');
    throw new StartupError(error.message, dir, error);
  });
  if (!isRunning(child)) {
    throw new StartupError(`${label} on port ${port} exited during startup`, dir);
  }
}

class StartupError extends Error {
  constructor(message: string, dir: string, cause?: unknown) {
    const tail = logTail(join(dir, 'redis.log'));
    super(`${message}\n--- redis.log (tail) ---\n${tail}`, { cause });
    this.name = 'StartupError';
  }
}

/** Starts a redis-server from `spec` in a fresh temp dir, retrying on a port race. */
export async function launchRedis(spec: LaunchSpec): Promise<RedisServer> {
  requireRedisBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'codeai-cache-redis-'));
  trackDir(dir);
  for (let attempt = 1; ; attempt++) {
    const port = await findFreePort();
    const argv = await spec.argv(port, dir);
    const child = spawnServer(argv, dir, true);
    try {
      await waitReady(child, port, dir, spec.label);
      return new ServerProcess(port, dir, argv, spec, child);
    } catch (error) {
      // Another process can grab a port between our probe and the server's bind.
      const raced = error instanceof Error && error.message.includes('Address already in use');
      if (!raced || attempt >= PORT_ATTEMPTS) {
        removeDir(dir);
        throw error;
      }
    }
  }
}

/** The arguments every harness data node shares: loopback, private dir, no persistence. */
export function baseArgv(port: number, dir: string): string[] {
  return [
    ...['--port', String(port), '--bind', HOST, '--dir', dir, '--save', '', '--appendonly', 'no'],
    // Redis 7 waits 5 s before a diskless full sync to batch replicas; ours start together
    // or not at all, so the wait only slows every replica (and cluster) startup.
    ...['--repl-diskless-sync-delay', '0'],
  ];
}

/** Starts a standalone private redis-server on a free loopback port; resolves once it answers PING. */
export function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const { args = [], password } = options;
  const auth = password === undefined ? [] : ['--requirepass', password];
  return launchRedis({
    label: 'redis-server',
    password,
    argv: async (port, dir) => [...baseArgv(port, dir), ...auth, ...args],
  });
}
