/**
 * Spawns and drives the worker processes of the multi-process getOrSet tests (worker.ts):
 * real Node processes, each with its own RedisCache, talking to the test over stdin/stdout.
 * Every worker started is SIGKILLed by `killAll()` (call it in `afterEach`), so a failing
 * test leaves nothing running.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { WorkerConfig, WorkerReport } from './worker.js';

const root = resolve(new URL('../..', import.meta.url).pathname);
const script = resolve(root, 'test/multiprocess/worker.ts');

/** A running worker. */
export interface Worker {
  readonly child: ChildProcess;
  /** Resolves once the worker printed an event of this name (at once if it already did). */
  next(event: 'ready' | 'computing'): Promise<void>;
  /** Sends a line on the worker's stdin (`go`, `finish`). */
  send(line: 'go' | 'finish'): void;
  /** Resolves with the final report; rejects if the process exits without one. */
  readonly report: Promise<WorkerReport>;
  /** How many `computing` events it printed (factory runs, a killed worker's included). */
  computing(): number;
  /** SIGKILL, as a crash; resolves once it is gone. */
  kill(): Promise<void>;
}

const started = new Set<ChildProcess>();

/** Starts one worker. */
export function startWorker(config: WorkerConfig): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(config)], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  started.add(child);
  // Writing to a worker that just died must not raise an unhandled EPIPE.
  child.stdin!.on('error', () => {});
  const seen = new Map<string, number>();
  const listeners: (() => void)[] = [];
  let out = '';
  let err = '';
  let report: WorkerReport | undefined;
  child.stderr!.on('data', (d) => {
    err += d;
  });
  child.stdout!.on('data', (d) => {
    out += d;
    const lines = out.split('\n');
    out = lines.pop() ?? '';
    for (const line of lines) {
      const msg = JSON.parse(line) as { event: string };
      seen.set(msg.event, (seen.get(msg.event) ?? 0) + 1);
      if (msg.event === 'done') report = msg as WorkerReport;
    }
    for (const l of listeners.splice(0)) l();
  });
  const exited = new Promise<number | null>((done) =>
    child.on('exit', (code) => {
      started.delete(child);
      for (const l of listeners.splice(0)) l();
      done(code);
    }),
  );
  const next = (event: string): Promise<void> =>
    new Promise((ok, fail) => {
      const check = (): void => {
        if ((seen.get(event) ?? 0) > 0) ok();
        else if (child.exitCode !== null || child.signalCode !== null) {
          fail(new Error(`worker exited before "${event}":\n${err}`));
        } else listeners.push(check);
      };
      check();
    });
  const reported = exited.then((code) => {
    if (report === undefined) throw new Error(`worker exited (${code}) without a report:\n${err}`);
    return report;
  });
  // A worker killed on purpose never reports; only a test that awaits the report hears of it.
  reported.catch(() => {});
  return {
    child,
    next,
    send: (line) => child.stdin!.write(`${line}\n`),
    report: reported,
    computing: () => seen.get('computing') ?? 0,
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Starts `n` workers with one config, waits until each is ready, then tells them all to go. */
export async function runTogether(n: number, config: WorkerConfig): Promise<Worker[]> {
  const workers = Array.from({ length: n }, () => startWorker(config));
  await Promise.all(workers.map((w) => w.next('ready')));
  for (const w of workers) w.send('go');
  return workers;
}

/** SIGKILLs every worker still running. */
export async function killAll(): Promise<void> {
  await Promise.all(
    [...started].map(
      (child) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          child.once('exit', () => done());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/** Every distinct value the workers' calls got, with how many calls got it. */
export function mergeValues(reports: readonly WorkerReport[]): Record<string, number> {
  const all: Record<string, number> = {};
  for (const r of reports) {
    for (const [v, n] of Object.entries(r.values)) all[v] = (all[v] ?? 0) + n;
  }
  return all;
}
