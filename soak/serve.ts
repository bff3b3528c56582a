/**
 * One `codeai-cache serve` instance for the soak: the real CLI run from source through
 * tsx, as a user runs it, with the memory probe preloaded.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { MemorySample } from './report.js';

const root = resolve(new URL('..', import.meta.url).pathname);
const main = join(root, 'src/cli/main.ts');
const probe = join(root, 'soak/probe.ts');

/** Every serve process started and not yet exited, killed if the soak itself exits early. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A running serve process. */
export interface ServeInstance {
  readonly name: string;
  readonly child: ChildProcess;
  readonly url: string;
  /** The last memory sample its probe printed. */
  memory(): MemorySample | undefined;
  /** Its log (stdout and stderr, probe lines left out), last `max` characters. */
  log(max?: number): string;
  /** SIGTERM, and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `codeai-cache serve ...args`; resolves once it prints `listening on`. */
export function startServe(name: string, args: string[]): Promise<ServeInstance> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--import', probe, main, 'serve', ...args],
    {
      cwd: root,
      // Nothing from our environment (a REDIS_URL) may choose its cache: only the flags.
      env: { PATH: process.env.PATH ?? '', SOAK_PROBE_MS: '1000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  running.add(child);
  let log = '';
  let memory: MemorySample | undefined;
  const keep = (text: string) => {
    log = (log + text).slice(-200_000);
  };
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', keep);
  let partial = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith('@soak-mem ')) {
        const m = JSON.parse(line.slice(10)) as { rss: number; heapUsed: number };
        memory = { rss: m.rss, heapUsed: m.heapUsed };
      } else keep(`${line}\n`);
    }
  });
  const exited = new Promise<number | null>((done) =>
    child.on('exit', (code) => {
      running.delete(child);
      done(code);
    }),
  );
  return new Promise((ok, fail) => {
    const onData = () => {
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (m === null) return;
      child.stdout!.off('data', onData);
      ok({
        name,
        child,
        url: m[1]!,
        memory: () => memory,
        log: (max = 4_000) => log.slice(-max),
        stop: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          return exited;
        },
      });
    };
    child.stdout!.on('data', onData);
    void exited.then((code) =>
      fail(new Error(`serve ${name} exited (${code}) before listening:\n${log}`)),
    );
  });
}
