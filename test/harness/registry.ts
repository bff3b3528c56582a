/**
 * Process registry for the Redis test harness.
 *
 * Every redis-server the harness spawns, and every temp dir it makes, is recorded here so
 * that nothing outlives the test process. Three layers, because each covers a way the
 * others fail:
 *  1. `stop()` on the handle, the normal path (the caller's `afterAll`).
 *  2. `process.on('exit')` and SIGINT/SIGTERM/SIGHUP handlers that SIGKILL what is left,
 *     for a test that threw before its `afterAll`, or a run interrupted with Ctrl-C.
 *  3. A watchdog: a tiny detached Node process reading our pid list on its stdin. When we
 *     die by any means, SIGKILL included, the pipe closes and it kills the servers and
 *     removes the dirs. Node cannot set PR_SET_PDEATHSIG, so this is the portable way.
 *
 * Module-level state is deliberate here (test-only code): the whole point is one
 * registry per process that exit handlers can reach.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';

const alive = new Set<ChildProcess>();
const dirs = new Set<string>();
let watchdog: ChildProcess | undefined;
let handlersInstalled = false;

// Runs as CommonJS under `node -e`. Lines: `+pid`, `-pid`, `+dir PATH`, `-dir PATH`.
const WATCHDOG_SOURCE = `
const { rmSync } = require('node:fs');
const pids = new Set(); const dirs = new Set(); let buf = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buf += chunk; const lines = buf.split('\\n'); buf = lines.pop();
  for (const l of lines) {
    if (l.startsWith('+dir ')) dirs.add(l.slice(5));
    else if (l.startsWith('-dir ')) dirs.delete(l.slice(5));
    else if (l.startsWith('+')) pids.add(Number(l.slice(1)));
    else if (l.startsWith('-')) pids.delete(Number(l.slice(1)));
  }
});
const reap = () => {
  for (const p of pids) { try { process.kill(p, 'SIGKILL'); } catch {} }
  for (const d of dirs) { try { rmSync(d, { recursive: true, force: true }); } catch {} }
  process.exit(0);
};
process.stdin.on('end', reap); process.stdin.on('error', reap);
`;

function tellWatchdog(line: string): void {
  if (!watchdog) {
    // Detached: its own process group, so a Ctrl-C aimed at the test run does not kill
    // it before it has had the chance to clean up after us.
    watchdog = spawn(process.execPath, ['-e', WATCHDOG_SOURCE], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    watchdog.on('error', () => {
      watchdog = undefined;
    });
    // Neither the process nor its pipe may keep our event loop alive.
    watchdog.unref();
    const pipe = watchdog.stdin;
    if (pipe && 'unref' in pipe && typeof pipe.unref === 'function') pipe.unref();
    pipe?.on('error', () => {});
  }
  watchdog.stdin?.write(`${line}\n`);
}

function killAllNow(): void {
  for (const child of alive) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
  alive.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  killAllNow();
  // Installing a listener cancels the default "exit on signal"; restore it when nobody
  // else (vitest, say) handles the signal, so the process still dies as it should.
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  }
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
}

/** Records a spawned server so it is SIGKILLed if the test process ends first. */
export function trackProcess(child: ChildProcess): void {
  const pid = child.pid;
  if (pid === undefined) return;
  installHandlers();
  alive.add(child);
  tellWatchdog(`+${pid}`);
  child.once('exit', () => {
    alive.delete(child);
    tellWatchdog(`-${pid}`);
  });
}

/** Records a temp dir so it is removed if the test process ends before `stop()`. */
export function trackDir(dir: string): void {
  installHandlers();
  dirs.add(dir);
  tellWatchdog(`+dir ${dir}`);
}

/** Removes a temp dir now and forgets it. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
  tellWatchdog(`-dir ${dir}`);
}
