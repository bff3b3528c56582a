/**
 * Fixture for harness.test.ts: starts a server, prints its pid and dir, then waits to be
 * killed, so the test can check nothing outlives a test process that dies abruptly.
 */
import { startRedis } from './redis.js';

const server = await startRedis();
process.stdout.write(`${JSON.stringify({ pid: server.pid, dir: server.dir })}\n`);
setInterval(() => {}, 60_000);
