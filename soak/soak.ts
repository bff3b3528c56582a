/**
 * The soak: a real origin, two `codeai-cache serve` processes sharing one private
 * redis-server, load with several users' credentials through both, and Redis killed,
 * restarted and paused under it. Every answer is checked (soak/oracle.ts); the report
 * (soak/report.ts) holds the bars.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RedisServer, startRedis } from '../test/harness/redis.js';
import { type Fault, faultsFor } from './faults.js';
import { Load } from './load.js';
import { Oracle } from './oracle.js';
import { SoakOrigin } from './origin.js';
import { Recorder, type SoakReport } from './report.js';
import { type ServeInstance, startServe } from './serve.js';
import { SOAK_SPEC } from './spec.js';

export interface SoakOptions {
  /** How long the load runs. */
  durationMs: number;
  /** Requests per second over both instances. Default 150. */
  rate?: number;
  /** Share of writes. Default 0.12. */
  writeShare?: number;
  /** Default: the full schedule for a minute or more, one restart below. */
  faults?: readonly Fault[];
  /** Progress lines (a window finished, a fault); default none. */
  log?: (line: string) => void;
}

const USERS = ['ana', 'bo', 'chen', 'dara', 'eli', 'fox'];
const INITIAL_POSTS = 10;
/** A read may be this much older than an acknowledged write (the bar). */
const STALE_AFTER_MS = 1_000;

/** Runs the soak and returns its report (the caller prints it and decides the exit code). */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => {});
  const rate = options.rate ?? 150;
  const writeShare = options.writeShare ?? 0.12;
  const faults = options.faults ?? faultsFor(options.durationMs);
  const dir = mkdtempSync(join(tmpdir(), 'codeai-cache-soak-'));
  const specFile = join(dir, 'soak.cai');
  writeFileSync(specFile, SOAK_SPEC);
  const loadStart = loadavg();

  const origin = new SoakOrigin(INITIAL_POSTS);
  let redis: RedisServer | undefined;
  let instances: ServeInstance[] = [];
  try {
    redis = await startRedis();
    const upstream = await origin.listen();
    const args = ['--spec', specFile, '--upstream', upstream, '--port', '0', '--cache', redis.url];
    instances = await Promise.all([startServe('A', args), startServe('B', args)]);
    log(
      `redis ${redis.url}, origin ${upstream}, serve A ${instances[0]!.url}, B ${instances[1]!.url}`,
    );

    const recorder = new Recorder();
    const oracle = new Oracle(STALE_AFTER_MS);
    const t0 = performance.now();
    const now = () => performance.now() - t0;
    const load = new Load({
      targets: instances.map((i) => i.url),
      rate,
      maxInFlight: 64,
      writeShare,
      users: USERS,
      lastPost: () => origin.lastPost,
      oracle,
      now,
      onOutcome: (o) => recorder.add(o),
      onShed: () => recorder.shed++,
    });
    const sampler = setInterval(() => {
      instances.forEach((inst, i) => {
        const heap = inst.memory();
        const rss = rssOf(inst.child.pid);
        if (heap !== undefined || rss !== undefined) {
          recorder.memorySample(now(), i, { rss: rss ?? heap!.rss, heapUsed: heap?.heapUsed ?? 0 });
        }
      });
    }, 1_000);
    let reported = 0;
    const progress = setInterval(() => {
      const done = Math.floor(now() / 10_000);
      if (done > reported) {
        reported = done;
        log(`${done * 10} s of ${Math.round(options.durationMs / 1000)} s`);
      }
    }, 1_000);

    load.start();
    const server = redis;
    const faultRun = (async () => {
      for (const f of [...faults].sort((a, b) => a.atFraction - b.atFraction)) {
        await sleep(f.atFraction * options.durationMs - now());
        if (f.kind === 'kill') {
          await server.kill();
          recorder.fault(now(), 'redis SIGKILL');
          log(`${(now() / 1000).toFixed(1)} s: redis SIGKILL`);
          await sleep(f.downMs);
          await server.restart();
          recorder.fault(now(), 'redis restarted', true);
          log(`${(now() / 1000).toFixed(1)} s: redis restarted`);
        } else {
          server.pause();
          recorder.fault(now(), 'redis SIGSTOP');
          log(`${(now() / 1000).toFixed(1)} s: redis SIGSTOP`);
          await sleep(f.downMs);
          server.resume();
          recorder.fault(now(), 'redis SIGCONT', true);
          log(`${(now() / 1000).toFixed(1)} s: redis SIGCONT`);
        }
      }
    })();
    await sleep(options.durationMs);
    await faultRun;
    await load.stop();
    const durationMs = now();
    clearInterval(sampler);
    clearInterval(progress);
    for (const inst of instances) {
      if (inst.child.exitCode !== null || inst.child.signalCode !== null) {
        throw new Error(`serve ${inst.name} died during the soak:\n${inst.log()}`);
      }
    }
    return recorder.report({
      startedAt: new Date(Date.now() - durationMs).toISOString(),
      durationMs,
      config: {
        rate,
        writeShare,
        users: USERS.length,
        faults,
        staleAfterMs: STALE_AFTER_MS,
        node: process.version,
        serve: 'codeai-cache serve (src/cli/main.ts through tsx), two processes, one redis-server',
      },
      load: { start: loadStart, end: loadavg() },
      origin: { ...origin.counts },
    });
  } finally {
    await Promise.all(instances.map((i) => i.stop()));
    await origin.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((ok) => setTimeout(ok, Math.max(0, ms)));
}

/** Resident set size of `pid` in bytes (Linux), or undefined. */
function rssOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}
