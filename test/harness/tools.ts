/**
 * Small building blocks for the Redis test harness: free ports, binary checks, a raw
 * PING over a socket, `redis-cli` with a deadline, polling, and log tails.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { delimiter, join } from 'node:path';

/** Every harness server binds here: tests never reach the machine's shared Redis. */
export const HOST = '127.0.0.1';

/** Asks the kernel for a port nobody is listening on (it may be taken again by the time we use it; callers retry). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the port of a probe socket'));
      });
    });
  });
}

function onPath(binary: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, binary), constants.X_OK);
      return true;
    } catch {
      // Not in this directory.
    }
  }
  return false;
}

/** Throws a message that says how to fix it when redis-server or redis-cli is missing. */
export function requireRedisBinaries(): void {
  for (const binary of ['redis-server', 'redis-cli']) {
    if (!onPath(binary)) {
      throw new Error(`${binary} not found: install it (apt-get install -y redis-server)`);
    }
  }
}

export interface CliOptions {
  host?: string;
  password?: string | undefined;
  /** redis-cli blocks forever on a paused server, so every call has a deadline. */
  timeoutMs?: number;
}

/** Runs `redis-cli -h HOST -p PORT ...args` and resolves with stdout minus the final newline. */
export function redisCli(port: number, args: string[], options: CliOptions = {}): Promise<string> {
  const { host = HOST, password, timeoutMs = 10_000 } = options;
  const auth = password === undefined ? [] : ['-a', password, '--no-auth-warning'];
  return runRedisCli(['-h', host, '-p', String(port), ...auth, ...args], timeoutMs);
}

/** Runs `redis-cli ...argv` with a deadline; resolves with stdout minus the final newline. */
export function runRedisCli(argv: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'redis-cli',
      argv,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const why = error.killed
            ? `timed out after ${timeoutMs} ms`
            : `failed: ${stderr}${stdout}`;
          reject(new Error(`redis-cli ${argv.join(' ')} ${why}`.trim(), { cause: error }));
          return;
        }
        resolve(stdout.replace(/\r?\n$/, ''));
      },
    );
  });
}

/**
 * Sends an inline PING on a fresh socket and resolves with the first reply line. Cheaper
 * than spawning redis-cli while polling, and a paused server shows up as a timeout
 * because the kernel still accepts the connection.
 */
export function rawPing(port: number, timeoutMs: number, host = HOST): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port });
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`PING to ${host}:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: string) => {
      reply += chunk;
      const end = reply.indexOf('\r\n');
      if (end === -1) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(reply.slice(0, end));
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true; a throwing check counts as "not yet". */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  { timeoutMs = 15_000, intervalMs = 50 } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
    }
    await sleep(intervalMs);
  }
}

/** The last lines of a server log, for error messages. */
export function logTail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Parses `key:value` lines, the shape of INFO and CLUSTER INFO replies. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}
