/**
 * Spawns TieredCache worker processes (worker.ts) and calls them, for tests that need
 * several real processes, each with its own L1, sharing one Redis.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TieredCacheOptions } from '../../src/index.js';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

/** One worker process and a way to call it. */
export interface Worker {
  readonly pid: number;
  call<T = unknown>(op: string, ...args: unknown[]): Promise<T>;
  close(): Promise<void>;
}

/** Starts `count` workers with `options` and starts their caches. */
export async function startWorkers(count: number, options: TieredCacheOptions): Promise<Worker[]> {
  const workers = await Promise.all(Array.from({ length: count }, () => spawnWorker(options)));
  await Promise.all(workers.map((w) => w.call('start')));
  return workers;
}

function spawnWorker(options: TieredCacheOptions): Promise<Worker> {
  const child: ChildProcess = fork(WORKER, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, TIERED_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  let next = 1;
  let ready!: () => void;
  const started = new Promise<void>((resolve, reject) => {
    ready = resolve;
    child.once('exit', (code) => reject(new Error(`worker exited with ${code} before starting`)));
  });
  child.on('message', (msg: { id: number; ok: boolean; value?: unknown; error?: unknown }) => {
    if (msg.id === 0) return ready();
    const call = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.ok) call?.resolve(msg.value);
    else call?.reject(Object.assign(new Error('worker call failed'), msg.error));
  });
  child.on('exit', () => {
    for (const call of pending.values()) call.reject(new Error('worker exited'));
    pending.clear();
  });
  const worker: Worker = {
    pid: child.pid as number,
    call<T>(op: string, ...args: unknown[]): Promise<T> {
      const id = next++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, op, args });
      });
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
  return started.then(() => worker);
}
